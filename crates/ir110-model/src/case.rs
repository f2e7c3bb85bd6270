//! Cases, clients, hosts, evidence items and the response log.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A value that is not one of an enumeration's names; says which names are allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}; expected one of: {expected}")]
pub struct ParseEnumError {
    what: &'static str,
    value: String,
    expected: &'static str,
}

impl ParseEnumError {
    pub(crate) fn new(what: &'static str, value: &str, expected: &'static str) -> Self {
        ParseEnumError {
            what,
            value: value.to_owned(),
            expected,
        }
    }
}

/// Declares a kebab-case string enum with `ALL`, `as_str`, `Display` and `FromStr`, so that CLI
/// flags, JSON, SQL columns and message keys all use the same names.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in flags, JSON, SQL and message keys.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.to_ascii_lowercase().replace('_', "-").as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError::new($what, s, concat!($($text, " "),+))),
                }
            }
        }
    };
}

string_enum! {
    /// The kinds of incident the service takes.
    IncidentType, "incident type" {
        /// Files encrypted, ransom demanded.
        Ransomware = "ransomware",
        /// Unauthorized access to servers or PCs.
        UnauthorizedAccess = "unauthorized-access",
        /// A website was defaced or backdoored.
        Defacement = "defacement",
        /// Emotet-style mail sent from the client's addresses.
        Emotet = "emotet",
        /// Business or personal data may have leaked.
        Leak = "leak",
        /// A UTM, AV or EDR raised an alert.
        AvAlert = "av-alert",
        /// Infection by browsing (drive-by download, malvertising).
        DriveBy = "drive-by",
        /// Anything else.
        Other = "other",
    }
}

string_enum! {
    /// The response flow; a case moves forward through these (and may go back).
    Phase, "phase" {
        /// First call: what happened, who, when.
        Intake = "intake",
        /// Immediate actions: isolate, stop the spread.
        FirstAid = "first-aid",
        /// Evidence preservation (証拠保全).
        Preservation = "preservation",
        /// Cause, route, scope, leak investigation.
        Investigation = "investigation",
        /// Data and business recovery.
        Recovery = "recovery",
        /// Recommendations against recurrence.
        Prevention = "prevention",
        /// Watching after the incident.
        Monitoring = "monitoring",
        /// Done.
        Closed = "closed",
    }
}

string_enum! {
    /// The policy agreed with the client at the start of the response.
    Policy, "policy" {
        /// Restore business first; evidence may be lost on the way.
        RecoveryFirst = "recovery-first",
        /// Preserve evidence first; business waits.
        EvidenceFirst = "evidence-first",
    }
}

/// Who agreed the policy, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDecision {
    /// The policy.
    pub policy: Policy,
    /// Who decided (client's person in charge, usually).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// A client company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Store id.
    pub id: i64,
    /// Company name as the client writes it (e.g. 株式会社サンプル).
    pub name: String,
    /// Date the NDA was signed; `None` until it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nda_signed_on: Option<NaiveDate>,
    /// Free-form notes (contract, contacts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// When the client was recorded.
    pub created_at: DateTime<Utc>,
}

/// An incident case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Store id.
    pub id: i64,
    /// Reference as the provider writes it (`IR-2026-0001`).
    pub reference: String,
    /// The client.
    pub client_id: i64,
    /// The client's name (denormalised for display).
    pub client_name: String,
    /// Short title.
    pub title: String,
    /// Incident types (a case may be several: ransomware and leak).
    pub types: Vec<IncidentType>,
    /// The agreed policy, once agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyDecision>,
    /// NDA date for this engagement, when different from the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nda_date: Option<NaiveDate>,
    /// Where in the flow the case is.
    pub phase: Phase,
    /// When opened.
    pub opened_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A case as the list shows it, with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Findings stored for it.
    pub findings: i64,
    /// Timeline events stored for it.
    pub events: i64,
}

/// A host involved in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// Host name as the evidence gives it.
    pub name: String,
    /// Known addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Operating system, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Role (file server, DC, PC of …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// A piece of evidence registered with a case: a collected package, a medium, a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Label (`HDD S/N WX12…`, `package PC-01`).
    pub label: String,
    /// What it is: `package`, `medium`, `file`, `log`, `triage-input`.
    pub kind: String,
    /// Where it is (path or URI).
    pub location: String,
    /// SHA-256 (hex) of the item or of its manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When it was registered.
    pub recorded_at: DateTime<Utc>,
    /// Who registered it.
    pub recorded_by: String,
}

/// One line of the response log: who did what, when (the case's Day 1 / Day 2 record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// When it happened (not when it was typed in).
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done (free text in the responder's language, or a system action such as
    /// `phase: intake → first-aid`).
    pub action: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for t in IncidentType::ALL {
            assert_eq!(t.as_str().parse::<IncidentType>().unwrap(), *t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>().unwrap(), *p);
        }
        assert_eq!(
            "recovery_first".parse::<Policy>().unwrap(),
            Policy::RecoveryFirst
        );
        let err = "sideways".parse::<Phase>().unwrap_err().to_string();
        assert!(err.contains("intake first-aid"), "{err}");
    }
}
