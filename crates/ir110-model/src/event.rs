//! Timeline events: one thing that happened at one time, with where we read it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a piece of evidence was read: a file and a place inside it.
///
/// `path` is the path as the responder knows it: for files inside a collected evidence package it
/// is the *original* path on the source system, and `sha256` is the hash from the package
/// manifest, so a report cites evidence that can be verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    /// The file, as the responder knows it.
    pub path: String,
    /// The place inside it: `record 1234`, `line 56`, `offset 0x1000`, `member xl/workbook.xml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    /// SHA-256 of the file (hex), when known (e.g. from an evidence manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl SourceRef {
    /// A reference to a whole file.
    pub fn file(path: impl Into<String>) -> Self {
        SourceRef {
            path: path.into(),
            locator: None,
            sha256: None,
        }
    }

    /// A reference to a place inside a file.
    pub fn at(path: impl Into<String>, locator: impl Into<String>) -> Self {
        SourceRef {
            path: path.into(),
            locator: Some(locator.into()),
            sha256: None,
        }
    }

    /// Sets the SHA-256.
    pub fn with_sha256(mut self, sha256: Option<String>) -> Self {
        self.sha256 = sha256;
        self
    }
}

/// One timeline entry.
///
/// `fields` uses Elastic Common Schema names where one fits (`event.code`, `source.ip`,
/// `user.name`, `file.path`, `winlog.channel`, `process.command_line`, …) so that JSONL exports
/// load into OpenSearch, Elasticsearch or Timesketch without mapping work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (UTC).
    pub timestamp: DateTime<Utc>,
    /// The host it happened on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Where it was read.
    pub source: SourceRef,
    /// What happened, as a stable short name (ECS `event.action`): `logon`, `logon-failed`,
    /// `service-installed`, `log-cleared`, `file-encrypted`, `ransom-note`, `http-request`, …
    pub kind: String,
    /// The analyzer that produced it.
    pub analyzer: String,
    /// A one-line human description (the raw message or a summary of it; not translated).
    pub message: String,
    /// ECS-style fields.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// A new event with no fields.
    pub fn new(
        timestamp: DateTime<Utc>,
        analyzer: &str,
        kind: &str,
        source: SourceRef,
        message: impl Into<String>,
    ) -> Self {
        Event {
            timestamp,
            host: None,
            source,
            kind: kind.to_owned(),
            analyzer: analyzer.to_owned(),
            message: message.into(),
            fields: serde_json::Map::new(),
        }
    }

    /// Sets the host.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Adds an ECS field.
    pub fn field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }
}
