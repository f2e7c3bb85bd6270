//! Case store URLs: which backend, and where.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::error::{Result, StoreError};

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// An SQLite file (or memory), for one machine.
    Sqlite,
    /// A PostgreSQL server, for a team or a fleet.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres(Box<PgConnectOptions>),
}

/// The URL of the default store: the SQLite file `ir110.db` in `data_dir`.
///
/// ```
/// use std::path::Path;
/// assert_eq!(ir110_store::default_sqlite_url(Path::new("/var/lib/ir110")),
///            "sqlite:///var/lib/ir110/ir110.db");
/// ```
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("ir110.db").display())
}

/// `url` with the password (if any) replaced by `***`, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

impl Location {
    pub(crate) fn parse(url: &str) -> Result<Location> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact_url(url),
            reason: reason.to_owned(),
        };
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            if rest == ":memory:" || rest == "//:memory:" {
                return Ok(Location::SqliteMemory);
            }
            // `sqlite:///abs/path` and `sqlite://rel/path` as sqlx writes them; `sqlite:path` too.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.contains('?') {
                return Err(invalid("SQLite URLs take no query parameters"));
            }
            if path.is_empty() {
                return Err(invalid("no file name"));
            }
            return Ok(Location::SqliteFile(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return PgConnectOptions::from_str(url)
                .map(|o| Location::Postgres(Box::new(o)))
                .map_err(|e| invalid(&e.to_string()));
        }
        Err(invalid("unknown scheme"))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Location::SqliteFile(_) | Location::SqliteMemory => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        let p = |u: &str| match Location::parse(u).unwrap() {
            Location::SqliteFile(p) => p.display().to_string(),
            Location::SqliteMemory => ":memory:".to_owned(),
            Location::Postgres(_) => "pg".to_owned(),
        };
        assert_eq!(p("sqlite:///abs/ir110.db"), "/abs/ir110.db");
        assert_eq!(p("sqlite://rel/ir110.db"), "rel/ir110.db");
        assert_eq!(p("sqlite:rel.db"), "rel.db");
        assert_eq!(p("sqlite::memory:"), ":memory:");
        assert_eq!(p("postgres://u:p@127.0.0.1:5432/db"), "pg");
        assert_eq!(p("postgresql://127.0.0.1/db"), "pg");
    }

    #[test]
    fn bad_urls_say_what_to_use_and_hide_passwords() {
        let e = Location::parse("mysql://root:hunter2@db/ir").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("mysql://root:***@db/ir"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("unknown scheme"), "{text}");
        assert!(text.contains("sqlite:///path/to/ir110.db"), "{text}");
        assert!(Location::parse("sqlite://").is_err());
        assert!(Location::parse("sqlite:///x.db?mode=ro").is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://ir110:s3cret@127.0.0.1:55432/ir110"),
            "postgres://ir110:***@127.0.0.1:55432/ir110"
        );
        assert_eq!(
            redact_url("postgres://ir110@127.0.0.1/ir110"),
            "postgres://ir110@127.0.0.1/ir110"
        );
        assert_eq!(redact_url("sqlite:///a@b:c/x.db"), "sqlite:///a@b:c/x.db");
    }
}
