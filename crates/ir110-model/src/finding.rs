//! Findings: the conclusions an analyzer draws, each with the evidence behind it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Message, SourceRef};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context for the responder; nothing wrong by itself.
    #[serde(alias = "informational")]
    Info,
    /// Worth a look.
    Low,
    /// Suspicious; needs confirming.
    Medium,
    /// Very likely part of the incident.
    High,
    /// Act now (active encryption, attacker access, data leaving).
    Critical,
}

impl Severity {
    /// All severities, most severe first (the order reports use).
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The stable lower-case name used in JSON, CLI flags and message keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(crate::ParseEnumError::new(
                "severity",
                s,
                "info, low, medium, high, critical",
            )),
        }
    }
}

/// What kind of harm a finding is about. Reports, the server and scripts group by it.
///
/// The names are stable (`kebab-case` in JSON). `web-compromise`, `mail-abuse`, `c2` and
/// `exfiltration` are the categories of the web, mail and network analyzers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Category {
    /// Files encrypted or destroyed, ransom notes.
    Ransomware,
    /// Initial access: brute force, exposed services, exploited VPN.
    InitialAccess,
    /// Stolen or abused credentials, password spraying.
    CredentialAccess,
    /// Code or commands run by the attacker.
    Execution,
    /// Services, tasks, autoruns, accounts created to stay.
    Persistence,
    /// Privilege escalation.
    PrivilegeEscalation,
    /// Log clearing, security tools disabled.
    DefenseEvasion,
    /// Reconnaissance inside the network.
    Discovery,
    /// Movement between hosts.
    LateralMovement,
    /// Command and control channels, beacons.
    C2,
    /// Data leaving the organisation.
    Exfiltration,
    /// Defaced or backdoored websites, webshells, skimmers.
    WebCompromise,
    /// Mail sent through or in the name of the organisation (Emotet and the like).
    MailAbuse,
    /// Malware found by a signature or an AV/EDR.
    Malware,
    /// Weak configuration: missing patches, end-of-life OS, open ports, no MFA.
    Posture,
    /// Anything else.
    Other,
}

impl Category {
    /// The stable name used in JSON and message keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Ransomware => "ransomware",
            Category::InitialAccess => "initial-access",
            Category::CredentialAccess => "credential-access",
            Category::Execution => "execution",
            Category::Persistence => "persistence",
            Category::PrivilegeEscalation => "privilege-escalation",
            Category::DefenseEvasion => "defense-evasion",
            Category::Discovery => "discovery",
            Category::LateralMovement => "lateral-movement",
            Category::C2 => "c2",
            Category::Exfiltration => "exfiltration",
            Category::WebCompromise => "web-compromise",
            Category::MailAbuse => "mail-abuse",
            Category::Malware => "malware",
            Category::Posture => "posture",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the analyzer is that the finding is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A weak signal; could well be benign.
    Low,
    /// Several signals agree.
    Medium,
    /// Structural proof or a precise signature.
    High,
}

/// A conclusion drawn by an analyzer, with the evidence for it.
///
/// `title` and `summary` are message keys with arguments so that the same finding reads well in
/// Japanese and in English; [`Catalog::render`](crate::Catalog::render) turns them into text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier: the same finding over the same evidence gets the same id on every run,
    /// so re-running triage updates rather than duplicates. Built by [`Finding::new`] from the
    /// analyzer and a discriminating key.
    pub id: String,
    /// Which analyzer produced it (e.g. `ransomware`, `eventlog`).
    pub analyzer: String,
    /// The rule or check inside the analyzer (e.g. `eventlog.brute-force-then-success`).
    pub rule: String,
    /// How bad.
    pub severity: Severity,
    /// What kind of harm.
    pub category: Category,
    /// One-line title.
    pub title: Message,
    /// A few sentences: what was seen and why it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Message>,
    /// Earliest time of the activity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
    /// Latest time of the activity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Hosts concerned (names as the evidence gives them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Where the evidence is: files, records, lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<SourceRef>,
    /// MITRE ATT&CK technique ids (`T1486`, `T1110.003`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<String>,
    /// What the responder should do about it, most urgent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Message>,
    /// How sure the analyzer is.
    pub confidence: Confidence,
    /// Analyzer-specific facts (counts, addresses, family names) for machines and the report.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl Finding {
    /// A finding with a stable id derived from `analyzer`, `rule` and `key`.
    ///
    /// `key` must discriminate between findings of the same rule (a folder, an account, an
    /// address pair); equal keys mean "the same finding" across runs.
    pub fn new(
        analyzer: &str,
        rule: &str,
        severity: Severity,
        category: Category,
        title: Message,
    ) -> Self {
        Finding {
            id: Self::stable_id(analyzer, rule, ""),
            analyzer: analyzer.to_owned(),
            rule: rule.to_owned(),
            severity,
            category,
            title,
            summary: None,
            first_seen: None,
            last_seen: None,
            hosts: Vec::new(),
            evidence: Vec::new(),
            attack: Vec::new(),
            actions: Vec::new(),
            confidence: Confidence::Medium,
            data: serde_json::Map::new(),
        }
    }

    /// The id for `analyzer`/`rule`/`key`: `rule` plus the first 12 hex digits of a SHA-256.
    pub fn stable_id(analyzer: &str, rule: &str, key: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [analyzer, rule, key] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        format!("{rule}:{}", &hex::encode(digest)[..12])
    }

    /// Sets the discriminating key (and so the id).
    pub fn key(mut self, key: &str) -> Self {
        self.id = Self::stable_id(&self.analyzer, &self.rule, key);
        self
    }

    /// Sets the summary.
    pub fn summary(mut self, summary: Message) -> Self {
        self.summary = Some(summary);
        self
    }

    /// Sets the confidence.
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    /// Widens `first_seen`/`last_seen` to include `at`.
    pub fn seen(mut self, at: DateTime<Utc>) -> Self {
        self.observe(at);
        self
    }

    /// Widens `first_seen`/`last_seen` to include `at` (in place).
    pub fn observe(&mut self, at: DateTime<Utc>) {
        self.first_seen = Some(self.first_seen.map_or(at, |t| t.min(at)));
        self.last_seen = Some(self.last_seen.map_or(at, |t| t.max(at)));
    }

    /// Adds a host (kept sorted and unique).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        if let Err(pos) = self.hosts.binary_search(&host) {
            self.hosts.insert(pos, host);
        }
        self
    }

    /// Adds an evidence reference.
    pub fn evidence(mut self, source: SourceRef) -> Self {
        self.evidence.push(source);
        self
    }

    /// Adds an ATT&CK technique id.
    pub fn attack(mut self, technique: &str) -> Self {
        self.attack.push(technique.to_owned());
        self
    }

    /// Adds a recommended action.
    pub fn action(mut self, action: Message) -> Self {
        self.actions.push(action);
        self
    }

    /// Adds an analyzer-specific fact.
    pub fn data(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_depend_on_key_only() {
        let a = Finding::new(
            "x",
            "x.rule",
            Severity::Low,
            Category::Other,
            Message::new("k"),
        )
        .key("host-a");
        let b = Finding::new(
            "x",
            "x.rule",
            Severity::High,
            Category::C2,
            Message::new("j"),
        )
        .key("host-a");
        let c = Finding::new(
            "x",
            "x.rule",
            Severity::Low,
            Category::Other,
            Message::new("k"),
        )
        .key("host-b");
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert!(a.id.starts_with("x.rule:"));
        assert_eq!(a.id.len(), "x.rule:".len() + 12);
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!("Informational".parse::<Severity>().unwrap(), Severity::Info);
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn observe_widens_window() {
        use chrono::TimeZone;
        let t1 = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let f = Finding::new("x", "r", Severity::Low, Category::Other, Message::new("k"))
            .seen(t1)
            .seen(t0);
        assert_eq!(f.first_seen, Some(t0));
        assert_eq!(f.last_seen, Some(t1));
    }
}
