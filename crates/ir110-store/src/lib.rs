//! The ir110 case store: clients, cases, the response log, findings, timeline events, the
//! evidence register and triage runs, in SQLite (one machine, the default) or PostgreSQL (a team).
//!
//! This is the only crate that knows SQL. Everyone else opens a [`Store`] and calls typed,
//! `async` methods that take and return `ir110-model` types; both backends behave the same and
//! run the same test suite (`tests/store.rs`).
//!
//! # URLs
//!
//! [`Store::open`] takes one URL; the library reads no environment variables (the CLI resolves
//! `--db` > `IR110_DB` > [`default_sqlite_url`] of its data folder):
//!
//! | URL | store |
//! | --- | --- |
//! | `sqlite:///abs/path/ir110.db` | SQLite file at an absolute path |
//! | `sqlite://rel/ir110.db`, `sqlite:rel.db` | SQLite file relative to the current folder |
//! | `sqlite::memory:` | private in-memory SQLite (tests, dry runs) |
//! | `postgres://user:password@host:port/db` | PostgreSQL (`postgresql://` too; sqlx URL parameters such as `?options=-c%20search_path%3Dir110` work) |
//!
//! SQLite files and their parent folders are created when missing; connections use the WAL
//! journal, foreign keys and a 5 s busy timeout, and write transactions start `IMMEDIATE`.
//! [`Store::open_sqlite`] opens a file by path for paths that do not fit in a URL.
//! Errors show URLs with the password replaced ([`redact_url`]).
//!
//! # Migrations
//!
//! Each backend has its numbered SQL files in `migrations/sqlite/` and `migrations/postgres/`
//! (same versions, same tables). They are embedded in the binary and applied by
//! [`Store::open`] with sqlx's migrator, which records versions and checksums in
//! `_sqlx_migrations` (and, on PostgreSQL, takes an advisory lock so that concurrent openers do
//! not race). A database already migrated by a newer ir110 is refused with
//! [`StoreError::NewerSchema`]. To change the schema, add `000N_<what>.sql` to **both** folders
//! and to the lists in `src/migrations.rs`; a unit test checks that folders and lists agree.
//! Never edit a migration that has shipped.
//!
//! # Storage conventions
//!
//! - Times are `BIGINT` microseconds since the Unix epoch (UTC), so SQL ordering is
//!   chronological on both backends. Times in returned records are therefore microsecond-exact;
//!   events and findings keep their exact times in their JSON bodies.
//! - Findings and events are stored as their JSON form (the public, versioned model schema) plus
//!   indexed columns for ordering and filtering (`severity`, `category`, `first_seen`;
//!   `timestamp`, `host`, `kind`). JSON that no longer reads gives [`StoreError::Corrupt`].
//! - The response log and the evidence register are append-only; the database refuses updates
//!   and deletes with triggers.
//!
//! # Performance
//!
//! [`Store::insert_events`] runs one transaction per call with multi-row `INSERT`s of 1,000
//! events, so hand it large batches (10,000 or more). Timeline reads use the
//! `(case_id, timestamp)` index. Measured with `examples/insert_bench.rs` (release build,
//! events in random time order, 2-core machine shared with other builds): SQLite 56,000–60,000
//! events/s with the machine lightly loaded (30,000–41,000 under heavy load; 83,000–111,000
//! per CPU second), PostgreSQL on loopback about 27,000 events/s under load. One million
//! events into one SQLite case: 56 s under heavy load (17 CPU s).
//!
//! ```
//! # tokio_test_block_on(async {
//! use ir110_model::{IncidentType, Phase};
//! use ir110_store::{ClientRef, NewCase, Store};
//!
//! let store = Store::open("sqlite::memory:").await?;
//! let case = store
//!     .create_case(NewCase::new(ClientRef::name("株式会社サンプル"), "File server encrypted")
//!         .types([IncidentType::Ransomware]))
//!     .await?;
//! assert!(case.reference.starts_with("IR-"));
//! let case = store.set_phase(case.id, Phase::FirstAid, "yamada").await?;
//! assert_eq!(store.list_log(case.id).await?[0].action, "phase: intake → first-aid");
//! # Ok::<(), ir110_store::StoreError>(())
//! # });
//! # fn tokio_test_block_on<F: std::future::Future<Output = Result<(), ir110_store::StoreError>>>(f: F) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap()
//! # }
//! ```

mod access;
mod appi;
mod audit;
mod cases;
mod clients;
mod custody;
mod error;
mod events;
mod evidence;
mod findings;
mod imports;
mod location;
mod migrations;
mod quotes;
mod runs;
mod store;
mod tasks;
mod tx;
mod users;

pub use access::{CaseAccess, CasePage, Scope};
pub use appi::AppiMark;
pub use audit::{AUDIT_GENESIS, AuditEntry, AuditVerdict, NewAudit};
pub use cases::{ClientRef, NewCase};
pub use custody::{CUSTODY_ACTIONS, CustodyEvent, NewCustody};
pub use error::{Entity, Result, StoreError};
pub use events::EventQuery;
pub use evidence::NewEvidence;
pub use findings::UpsertSummary;
pub use imports::{EVENT_COUNT_CAP, EventPage, ImportRecord, StoredEvent};
pub use location::{Backend, default_sqlite_url, redact_url};
pub use quotes::{NewQuote, Quote, QuoteLine};
pub use runs::{RunRecord, TriageRun};
pub use store::Store;
pub use tasks::{CaseTask, NewTask};
pub use tx::Tx;
pub use users::{Role, SessionRecord, TokenRecord, TokenScope, User};

/// Message catalogue entries for this crate's keys (`store.error.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use ir110_model::{Catalog, Lang};

    /// Every error variant's message key exists in both languages, and every argument it passes
    /// is used by the text.
    #[test]
    fn every_error_message_key_is_in_the_catalogue() {
        let catalog = Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap();
        let errors = [
            StoreError::InvalidUrl {
                url: "x".into(),
                reason: "r".into(),
            },
            StoreError::CreateDir {
                path: "/x".into(),
                source: std::io::Error::other("denied"),
            },
            StoreError::NotFound {
                what: Entity::Case,
                id: "7".into(),
            },
            StoreError::NotFound {
                what: Entity::Client,
                id: "7".into(),
            },
            StoreError::Conflict {
                what: Entity::Case,
                value: "IR-2026-0001".into(),
            },
            StoreError::Conflict {
                what: Entity::Client,
                value: "A".into(),
            },
            StoreError::Invalid {
                what: "case title",
                detail: "empty".into(),
            },
            StoreError::Corrupt {
                what: "event",
                id: "1".into(),
                detail: "d".into(),
            },
            StoreError::NewerSchema { version: 9 },
            StoreError::Migrate(sqlx::migrate::MigrateError::VersionMissing(9)),
            StoreError::Database(sqlx::Error::PoolTimedOut),
        ];
        for e in &errors {
            let m = e.message();
            assert!(catalog.contains(&m.key), "missing key {}", m.key);
            for lang in [Lang::Ja, Lang::En] {
                let text = catalog.render(&m, lang);
                assert!(!text.contains('{'), "{lang} {}: {text}", m.key);
            }
        }
        assert_eq!(
            catalog.render(&errors[2].message(), Lang::En),
            errors[2].to_string()
        );
    }
}
