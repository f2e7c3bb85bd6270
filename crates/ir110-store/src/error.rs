//! The one error type of the store, with messages that say what to do next.

use std::fmt;
use std::path::PathBuf;

use ir110_model::Message;

/// What kind of record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A client company.
    Client,
    /// An incident case.
    Case,
}

impl Entity {
    /// The stable lower-case name (`client`, `case`).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Client => "client",
            Entity::Case => "case",
        }
    }

    fn not_found_hint(self) -> &'static str {
        match self {
            Entity::Client => "`ir110 client list` shows the clients",
            Entity::Case => "`ir110 case list` shows the cases",
        }
    }

    fn conflict_hint(self) -> &'static str {
        match self {
            Entity::Client => "use the existing client or choose another name",
            Entity::Case => "choose another reference, or leave it out to get the next free one",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in the case store.
///
/// Display texts are English and end with what to do next; [`StoreError::message`] gives the same
/// as a catalogue [`Message`] for Japanese or English rendering. Database URLs in errors never
/// show a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no backend this store knows, or is malformed.
    #[error(
        "`{url}` is not a case store URL ({reason}); use sqlite:///path/to/ir110.db, \
         sqlite::memory: or postgres://user:password@host:port/database"
    )]
    InvalidUrl {
        /// The URL, password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The folder for a new SQLite file could not be created.
    #[error(
        "cannot create the folder {} for the case store: {source}; check the path and its permissions",
        path.display()
    )]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No record with that id or name.
    #[error("{what} {id} not found; {hint}", hint = what.not_found_hint())]
    NotFound {
        /// What was looked for.
        what: Entity,
        /// The id, name or reference asked for.
        id: String,
    },
    /// A record with that unique name or reference already exists.
    #[error("{what} `{value}` already exists; {hint}", hint = what.conflict_hint())]
    Conflict {
        /// What kind of record.
        what: Entity,
        /// The name or reference that is taken.
        value: String,
    },
    /// A value given to the store cannot be stored.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which value (`case title`, `evidence size`).
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// A stored value no longer reads back (JSON that does not deserialise, an unknown phase).
    #[error(
        "the case store holds a {what} ({id}) that cannot be read: {detail}; the database was \
         changed outside ir110 or by a newer version of it"
    )]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
        /// Which row.
        id: String,
        /// What is wrong.
        detail: String,
    },
    /// The database was migrated by a newer ir110 than this one.
    #[error(
        "the case store has schema migration {version}, which this ir110 does not know; \
         upgrade ir110 to use this database"
    )]
    NewerSchema {
        /// The unknown migration version.
        version: i64,
    },
    /// Applying the schema migrations failed.
    #[error(
        "could not bring the case store schema up to date: {0}; check that the database user \
         may create tables, or restore the database from a backup"
    )]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The database refused or failed a statement, or could not be reached.
    #[error(
        "case store database error: {0}; check that the database is reachable and that no \
         other process holds it locked"
    )]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True for [`StoreError::NotFound`] (the server maps it to 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// The error as a catalogue message (keys `store.error.*` in this crate's `messages.toml`).
    pub fn message(&self) -> Message {
        match self {
            StoreError::InvalidUrl { url, reason } => Message::new("store.error.invalid-url")
                .arg("url", url)
                .arg("reason", reason),
            StoreError::CreateDir { path, source } => Message::new("store.error.create-dir")
                .arg("path", path.display())
                .arg("detail", source),
            StoreError::NotFound { what, id } => {
                Message::new(format!("store.error.{what}-not-found")).arg("id", id)
            }
            StoreError::Conflict { what, value } => {
                Message::new(format!("store.error.{what}-exists")).arg("value", value)
            }
            StoreError::Invalid { what, detail } => Message::new("store.error.invalid")
                .arg("what", what)
                .arg("detail", detail),
            StoreError::Corrupt { what, id, detail } => Message::new("store.error.corrupt")
                .arg("what", what)
                .arg("id", id)
                .arg("detail", detail),
            StoreError::NewerSchema { version } => {
                Message::new("store.error.newer-schema").arg("version", version)
            }
            StoreError::Migrate(e) => Message::new("store.error.migrate").arg("detail", e),
            StoreError::Database(e) => Message::new("store.error.database").arg("detail", e),
        }
    }

    pub(crate) fn not_found(what: Entity, id: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub(crate) fn corrupt(what: &'static str, id: impl ToString, detail: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            id: id.to_string(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn from_migrate(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::VersionMissing(version) => {
                StoreError::NewerSchema { version }
            }
            other => StoreError::Migrate(other),
        }
    }
}

/// True when `e` is a unique-constraint violation (a name or reference already taken).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Result of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
