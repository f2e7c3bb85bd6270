//! The schema migrations, embedded in the binary and applied on open.
//!
//! Each backend has its own numbered SQL files (`migrations/sqlite/`, `migrations/postgres/`)
//! in the layout `sqlx migrate` uses, so the sqlx CLI can also apply or inspect them. They are
//! embedded with `include_str!` rather than `sqlx::migrate!` so that the build needs no proc-macro
//! copy of the database drivers. sqlx records applied versions and checksums in
//! `_sqlx_migrations`; a database migrated by a newer ir110 is refused
//! ([`StoreError::NewerSchema`](crate::StoreError::NewerSchema)).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Backend;

/// One migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

const SQLITE: &[Embedded] = &[
    (
        1,
        "initial schema",
        include_str!("../migrations/sqlite/0001_initial_schema.sql"),
    ),
    (
        2,
        "case-management server",
        include_str!("../migrations/sqlite/0002_server.sql"),
    ),
    (
        3,
        "event digests",
        include_str!("../migrations/sqlite/0003_event_digest.sql"),
    ),
];

const POSTGRES: &[Embedded] = &[
    (
        1,
        "initial schema",
        include_str!("../migrations/postgres/0001_initial_schema.sql"),
    ),
    (
        2,
        "case-management server",
        include_str!("../migrations/postgres/0002_server.sql"),
    ),
    (
        3,
        "event digests",
        include_str!("../migrations/postgres/0003_event_digest.sql"),
    ),
];

/// The embedded migrations of one backend, as a sqlx migration source.
#[derive(Debug)]
struct EmbeddedSource(&'static [Embedded]);

impl MigrationSource<'static> for EmbeddedSource {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

fn embedded(backend: Backend) -> &'static [Embedded] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The migrator for `backend`.
pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(EmbeddedSource(embedded(backend))).await
}

/// The newest schema version this build knows for `backend`.
pub(crate) fn latest_version(backend: Backend) -> i64 {
    embedded(backend).last().map_or(0, |m| m.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A migration file added to a folder but not to the list above would silently not run.
    #[test]
    fn every_migration_file_is_embedded_and_backends_keep_in_step() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(&folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            let versions: Vec<i64> = files
                .iter()
                .map(|n| n.split('_').next().unwrap().parse().unwrap())
                .collect();
            let embedded: Vec<i64> = list.iter().map(|m| m.0).collect();
            assert_eq!(versions, embedded, "{dir}");
            for (file, m) in files.iter().zip(list) {
                let text = std::fs::read_to_string(folder.join(file)).unwrap();
                assert_eq!(text, m.2, "{dir}/{file}");
            }
        }
        let s: Vec<_> = SQLITE.iter().map(|m| (m.0, m.1)).collect();
        let p: Vec<_> = POSTGRES.iter().map(|m| (m.0, m.1)).collect();
        assert_eq!(s, p, "both backends need the same migrations");
    }
}
