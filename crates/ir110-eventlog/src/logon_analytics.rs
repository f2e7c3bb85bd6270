//! Logon analytics: who logged on where from where, brute force and password spraying (and the
//! success that may follow), external source addresses, and the lateral-movement graph.
//!
//! Events are observed in any order (readers run in parallel); everything that depends on order
//! is decided in [`LogonAnalytics::findings`], after all files are read. Memory is bounded by
//! the number of distinct accounts, sources and hosts (each table is capped), plus 8 bytes per
//! failed logon for the brute-force timing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use ir110_model::{Category, Confidence, Finding, Message, Severity, SourceFile};
use serde::Serialize;

use crate::ip_class::{is_external_text, parse_ip};
use crate::lateral_movement::{Edge, Graph, Node, NodeKind};
use crate::{ANALYZER_ID, WinEvent};

/// Thresholds of the logon analytics.
#[derive(Debug, Clone)]
pub struct LogonThresholds {
    /// Failed logons from one source before a success that make it a brute force (default 20).
    pub brute_force_failures: usize,
    /// Distinct accounts tried from one source that make it password spraying (default 10).
    pub spraying_accounts: usize,
}

impl Default for LogonThresholds {
    fn default() -> Self {
        LogonThresholds {
            brute_force_failures: 20,
            spraying_accounts: 10,
        }
    }
}

/// Caps that keep memory bounded on hostile or huge logs.
const MAX_TABLE: usize = 50_000;
const MAX_SUCCESSES_PER_SOURCE: usize = 1_000;
const MAX_EVIDENCE: usize = 20;
const MAX_USERS_PER_SOURCE: usize = 10_000;

/// A record to cite: file index and locator.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cite {
    pub(crate) time: DateTime<Utc>,
    pub(crate) file: usize,
    pub(crate) locator: String,
}

impl Cite {
    pub(crate) fn of(file: usize, e: &WinEvent) -> Cite {
        Cite {
            time: e.timestamp,
            file,
            locator: e.locator(),
        }
    }
}

/// Keeps the earliest `MAX_EVIDENCE` citations.
#[derive(Debug, Default, Clone)]
pub(crate) struct Citations(Vec<Cite>);

impl Citations {
    pub(crate) fn add(&mut self, cite: Cite) {
        if self.0.len() < MAX_EVIDENCE {
            self.0.push(cite);
        } else if let Some(last) = self.0.iter_mut().max() {
            if cite < *last {
                *last = cite;
            }
        }
    }

    pub(crate) fn add_event(&mut self, file: usize, e: &WinEvent) {
        if self.0.len() < MAX_EVIDENCE || self.0.iter().any(|c| c.time > e.timestamp) {
            self.add(Cite::of(file, e));
        }
    }

    pub(crate) fn merge(&mut self, other: &Citations) {
        for c in &other.0 {
            self.add(c.clone());
        }
    }

    /// Adds the citations to a finding, in time order.
    pub(crate) fn cite(&self, mut finding: Finding, files: &[SourceFile]) -> Finding {
        let mut cites = self.0.clone();
        cites.sort();
        for c in cites {
            if let Some(f) = files.get(c.file) {
                finding = finding.evidence(f.source_at(c.locator));
            }
        }
        finding
    }
}

/// What kind of logon record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogonKind {
    Success,
    Failure,
    Explicit,
}

/// One logon fact extracted from a record.
#[derive(Debug)]
struct Logon {
    kind: LogonKind,
    account: String,
    /// Source IP or workstation; `None` for local logons.
    source: Option<String>,
    /// Destination host (the log's computer, or the explicit-credential target).
    destination: String,
    /// `2`, `3`, `10`, …, or `rdp` for Terminal Services records.
    logon_type: String,
    auth: Option<String>,
}

/// Service, machine and system accounts that log on by themselves all the time.
fn is_noise_account(account: &str) -> bool {
    let user = account
        .rsplit('\\')
        .next()
        .unwrap_or(account)
        .to_ascii_uppercase();
    user.is_empty()
        || user == "-"
        || user.ends_with('$')
        || matches!(
            user.as_str(),
            "SYSTEM" | "LOCAL SERVICE" | "NETWORK SERVICE" | "ANONYMOUS LOGON"
        )
        || user.starts_with("DWM-")
        || user.starts_with("UMFD-")
}

/// A remote source: an address that is not loopback, or a workstation name that is not the
/// host itself.
fn source_of(ip: Option<&str>, workstation: Option<&str>, computer: &str) -> Option<String> {
    if let Some(ip) = ip
        && let Some(addr) = parse_ip(ip)
    {
        if addr.is_loopback() || addr.is_unspecified() {
            return None;
        }
        return Some(addr.to_string());
    }
    let ws = workstation?;
    let short = computer.split('.').next().unwrap_or(computer);
    (!ws.eq_ignore_ascii_case(short) && !ws.eq_ignore_ascii_case(computer))
        .then(|| ws.to_ascii_uppercase())
}

fn account(domain: Option<&str>, user: &str) -> String {
    match domain {
        Some(d) if !user.contains('\\') && !user.contains('@') => format!("{d}\\{user}"),
        _ => user.to_owned(),
    }
}

/// Extracts a logon fact from a record, if it is a logon record.
fn logon_of(e: &WinEvent) -> Option<Logon> {
    let security = e.channel.eq_ignore_ascii_case("Security");
    let logon_type = || e.get_some("LogonType").unwrap_or("?").to_owned();
    match e.event_id {
        4624 | 4625 if security => {
            let user = e.get_some("TargetUserName")?;
            let lt = logon_type();
            // Service and batch logons and the system's own are not interactive access.
            if e.event_id == 4624 && matches!(lt.as_str(), "0" | "4" | "5") {
                return None;
            }
            Some(Logon {
                kind: if e.event_id == 4624 {
                    LogonKind::Success
                } else {
                    LogonKind::Failure
                },
                account: account(e.get_some("TargetDomainName"), user),
                source: source_of(
                    e.get_some("IpAddress"),
                    e.get_some("WorkstationName"),
                    &e.computer,
                ),
                destination: e.computer.clone(),
                logon_type: lt,
                auth: e
                    .get_some("AuthenticationPackageName")
                    .or_else(|| e.get_some("LmPackageName"))
                    .map(str::to_owned),
            })
        }
        4771 if security => Some(Logon {
            kind: LogonKind::Failure,
            account: e.get_some("TargetUserName")?.to_owned(),
            source: source_of(e.get_some("IpAddress"), None, &e.computer),
            destination: e.computer.clone(),
            logon_type: "3".to_owned(),
            auth: Some("Kerberos".to_owned()),
        }),
        4648 if security => {
            let target = e
                .get_some("TargetServerName")
                .filter(|t| !t.eq_ignore_ascii_case("localhost"))?;
            Some(Logon {
                kind: LogonKind::Explicit,
                account: account(
                    e.get_some("TargetDomainName"),
                    e.get_some("TargetUserName")?,
                ),
                source: Some(e.computer.to_ascii_uppercase()),
                destination: target.to_owned(),
                logon_type: "explicit".to_owned(),
                auth: None,
            })
        }
        1149 if e.channel.contains("RemoteConnectionManager") => Some(Logon {
            kind: LogonKind::Success,
            account: account(e.get_some("Param2"), e.get_some("Param1")?),
            source: source_of(e.get_some("Param3"), None, &e.computer),
            destination: e.computer.clone(),
            logon_type: "rdp".to_owned(),
            auth: None,
        }),
        21 | 25 if e.channel.contains("LocalSessionManager") => Some(Logon {
            kind: LogonKind::Success,
            account: e.get_some("User")?.to_owned(),
            source: source_of(e.get_some("Address"), None, &e.computer),
            destination: e.computer.clone(),
            logon_type: "rdp".to_owned(),
            auth: None,
        }),
        _ => None,
    }
}

/// Logon counts of one account from one source.
#[derive(Debug, Default, Clone, Serialize)]
struct SummaryRow {
    success: u64,
    failure: u64,
    explicit: u64,
    logon_types: BTreeMap<String, u64>,
    auth: BTreeMap<String, u64>,
    hosts: BTreeSet<String>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

/// What one source did.
#[derive(Debug, Default)]
struct SourceActivity {
    /// Times of failed logons (ms since the epoch), unsorted until the end.
    failures: Vec<i64>,
    users: HashMap<String, u64>,
    hosts: BTreeSet<String>,
    failure_cites: Citations,
    successes: Vec<Success>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Success {
    time: DateTime<Utc>,
    account: String,
    logon_type: String,
    host: String,
    cite: Cite,
}

/// An edge of the lateral-movement graph while counting.
#[derive(Debug, Default)]
struct EdgeStats {
    count: u64,
    logon_types: BTreeSet<String>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    cites: Citations,
}

/// Accumulates logon facts; see the module documentation.
#[derive(Debug, Default)]
pub struct LogonAnalytics {
    thresholds: LogonThresholds,
    summary: BTreeMap<(String, String), SummaryRow>,
    summary_cites: Citations,
    privileged: BTreeMap<String, u64>,
    sources: HashMap<String, SourceActivity>,
    edges: BTreeMap<(String, String, String), EdgeStats>,
}

fn widen(first: &mut Option<DateTime<Utc>>, last: &mut Option<DateTime<Utc>>, t: DateTime<Utc>) {
    *first = Some(first.map_or(t, |f| f.min(t)));
    *last = Some(last.map_or(t, |l| l.max(t)));
}

impl LogonAnalytics {
    /// Analytics with the given thresholds.
    pub fn new(thresholds: LogonThresholds) -> Self {
        LogonAnalytics {
            thresholds,
            ..Default::default()
        }
    }

    /// Takes one record into account (`file` is the index of its source file).
    pub fn observe(&mut self, file: usize, e: &WinEvent) {
        if e.event_id == 4672 && e.channel.eq_ignore_ascii_case("Security") {
            if let Some(user) = e.get_some("SubjectUserName")
                && !is_noise_account(user)
            {
                let acct = account(e.get_some("SubjectDomainName"), user);
                *self.privileged.entry(acct).or_default() += 1;
            }
            return;
        }
        let Some(logon) = logon_of(e) else {
            return;
        };
        if is_noise_account(&logon.account) && logon.kind != LogonKind::Failure {
            return;
        }
        let source_key = logon.source.clone().unwrap_or_else(|| "local".to_owned());
        let key = (logon.account.clone(), source_key);
        if self.summary.len() < MAX_TABLE || self.summary.contains_key(&key) {
            let row = self.summary.entry(key).or_default();
            match logon.kind {
                LogonKind::Success => row.success += 1,
                LogonKind::Failure => row.failure += 1,
                LogonKind::Explicit => row.explicit += 1,
            }
            *row.logon_types.entry(logon.logon_type.clone()).or_default() += 1;
            if let Some(a) = &logon.auth {
                *row.auth.entry(a.clone()).or_default() += 1;
            }
            if row.hosts.len() < MAX_EVIDENCE {
                row.hosts.insert(logon.destination.clone());
            }
            widen(&mut row.first, &mut row.last, e.timestamp);
            self.summary_cites.add_event(file, e);
        }
        let Some(source) = logon.source.clone() else {
            return;
        };
        if logon.kind != LogonKind::Explicit
            && (self.sources.len() < MAX_TABLE || self.sources.contains_key(&source))
        {
            let act = self.sources.entry(source.clone()).or_default();
            widen(&mut act.first, &mut act.last, e.timestamp);
            if act.hosts.len() < MAX_EVIDENCE {
                act.hosts.insert(logon.destination.clone());
            }
            match logon.kind {
                LogonKind::Failure => {
                    act.failures.push(e.timestamp.timestamp_millis());
                    if act.users.len() < MAX_USERS_PER_SOURCE
                        || act.users.contains_key(&logon.account)
                    {
                        *act.users.entry(logon.account.clone()).or_default() += 1;
                    }
                    act.failure_cites.add_event(file, e);
                }
                LogonKind::Success if act.successes.len() < MAX_SUCCESSES_PER_SOURCE => {
                    act.successes.push(Success {
                        time: e.timestamp,
                        account: logon.account.clone(),
                        logon_type: logon.logon_type.clone(),
                        host: logon.destination.clone(),
                        cite: Cite::of(file, e),
                    });
                }
                _ => {}
            }
        }
        if logon.kind != LogonKind::Failure {
            let key = (logon.account, source, logon.destination);
            if self.edges.len() < MAX_TABLE || self.edges.contains_key(&key) {
                let edge = self.edges.entry(key).or_default();
                edge.count += 1;
                edge.logon_types.insert(logon.logon_type);
                widen(&mut edge.first, &mut edge.last, e.timestamp);
                edge.cites.add_event(file, e);
            }
        }
    }

    /// Merges another accumulator (of other files) into this one.
    pub fn merge(&mut self, other: LogonAnalytics) {
        for (k, r) in other.summary {
            let row = self.summary.entry(k).or_default();
            row.success += r.success;
            row.failure += r.failure;
            row.explicit += r.explicit;
            for (t, n) in r.logon_types {
                *row.logon_types.entry(t).or_default() += n;
            }
            for (t, n) in r.auth {
                *row.auth.entry(t).or_default() += n;
            }
            row.hosts.extend(r.hosts);
            for t in r.first.into_iter().chain(r.last) {
                widen(&mut row.first, &mut row.last, t);
            }
        }
        self.summary_cites.merge(&other.summary_cites);
        for (k, n) in other.privileged {
            *self.privileged.entry(k).or_default() += n;
        }
        for (k, a) in other.sources {
            let act = self.sources.entry(k).or_default();
            act.failures.extend(a.failures);
            for (u, n) in a.users {
                *act.users.entry(u).or_default() += n;
            }
            act.hosts.extend(a.hosts);
            act.failure_cites.merge(&a.failure_cites);
            act.successes.extend(a.successes);
            for t in a.first.into_iter().chain(a.last) {
                widen(&mut act.first, &mut act.last, t);
            }
        }
        for (k, e) in other.edges {
            let edge = self.edges.entry(k).or_default();
            edge.count += e.count;
            edge.logon_types.extend(e.logon_types);
            for t in e.first.into_iter().chain(e.last) {
                widen(&mut edge.first, &mut edge.last, t);
            }
            edge.cites.merge(&e.cites);
        }
    }

    /// The lateral-movement graph: hosts and addresses as nodes, one edge per account, source
    /// and destination.
    pub fn graph(&self) -> Graph {
        let mut nodes: BTreeMap<String, NodeKind> = BTreeMap::new();
        let mut edges = Vec::new();
        for ((acct, src, dst), stats) in &self.edges {
            let src_kind = match parse_ip(src) {
                Some(ip) if crate::ip_class::is_external(ip) => NodeKind::ExternalAddress,
                Some(_) => NodeKind::InternalAddress,
                None => NodeKind::Host,
            };
            nodes.entry(src.clone()).or_insert(src_kind);
            nodes.entry(dst.clone()).or_insert(NodeKind::Host);
            edges.push(Edge {
                source: src.clone(),
                target: dst.clone(),
                account: acct.clone(),
                logon_types: stats.logon_types.iter().cloned().collect(),
                count: stats.count,
                first_seen: stats.first,
                last_seen: stats.last,
            });
        }
        Graph {
            nodes: nodes
                .into_iter()
                .map(|(id, kind)| Node { id, kind })
                .collect(),
            edges,
        }
    }

    /// Draws the conclusions. `files` are the sources the file indices refer to.
    pub fn findings(&mut self, files: &[SourceFile]) -> Vec<Finding> {
        let mut out = Vec::new();
        self.brute_force_findings(files, &mut out);
        self.external_findings(files, &mut out);
        self.lateral_finding(files, &mut out);
        self.summary_finding(files, &mut out);
        out
    }

    fn brute_force_findings(&mut self, files: &[SourceFile], out: &mut Vec<Finding>) {
        let threshold = self.thresholds.brute_force_failures.max(1);
        let mut sources: Vec<(&String, &mut SourceActivity)> = self.sources.iter_mut().collect();
        sources.sort_by(|a, b| a.0.cmp(b.0));
        for (source, act) in sources {
            if act.failures.len() < threshold {
                continue;
            }
            act.failures.sort_unstable();
            act.successes.sort_by_key(|s| s.time);
            let external = is_external_text(source);
            let spraying = act.users.len() >= self.thresholds.spraying_accounts;
            // The first success preceded by at least `threshold` failures from the same source.
            let success = act.successes.iter().find(|s| {
                act.failures
                    .partition_point(|&t| t <= s.time.timestamp_millis())
                    >= threshold
            });
            let mut top_users: Vec<(&String, &u64)> = act.users.iter().collect();
            top_users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let users_json: Vec<serde_json::Value> = top_users
                .iter()
                .take(MAX_EVIDENCE)
                .map(|(u, n)| serde_json::json!({"account": u, "failures": n}))
                .collect();
            let failures = act.failures.len();
            let first_fail = act
                .failures
                .first()
                .and_then(|&t| DateTime::from_timestamp_millis(t));
            let last_fail = act
                .failures
                .last()
                .and_then(|&t| DateTime::from_timestamp_millis(t));
            let kind_rule = if spraying {
                "eventlog.password-spraying"
            } else {
                "eventlog.brute-force"
            };
            let technique = if spraying { "T1110.003" } else { "T1110.001" };
            let mut finding = match success {
                Some(s) => {
                    let critical = s.logon_type == "10" || s.logon_type == "rdp" || external;
                    let failures_before = act
                        .failures
                        .partition_point(|&t| t <= s.time.timestamp_millis());
                    Finding::new(
                        ANALYZER_ID,
                        "eventlog.brute-force-success",
                        if critical {
                            Severity::Critical
                        } else {
                            Severity::High
                        },
                        Category::InitialAccess,
                        Message::new("eventlog.brute-force-success.title")
                            .arg("source", source)
                            .arg("failures", failures_before)
                            .arg("account", &s.account),
                    )
                    .key(source)
                    .summary(
                        Message::new("eventlog.brute-force-success.summary")
                            .arg("source", source)
                            .arg("failures", failures_before)
                            .arg("accounts", act.users.len())
                            .arg("account", &s.account)
                            .arg("host", &s.host)
                            .arg("logon_type", &s.logon_type)
                            .arg("time", s.time.to_rfc3339()),
                    )
                    .confidence(Confidence::High)
                    .attack(technique)
                    .attack("T1078")
                    .seen(s.time)
                    .host(s.host.clone())
                    .data("success_account", s.account.as_str())
                    .data("success_logon_type", s.logon_type.as_str())
                    .data("success_time", s.time.to_rfc3339())
                    .data("failures_before_success", failures_before)
                    .action(
                        Message::new("eventlog.action.disable-account").arg("account", &s.account),
                    )
                    .action(Message::new("eventlog.action.block-source").arg("source", source))
                    .action(
                        Message::new("eventlog.action.investigate-session").arg("host", &s.host),
                    )
                    .evidence(
                        files
                            .get(s.cite.file)
                            .map(|f| f.source_at(s.cite.locator.clone()))
                            .unwrap_or_else(|| ir110_model::SourceRef::file("?")),
                    )
                }
                None => Finding::new(
                    ANALYZER_ID,
                    kind_rule,
                    if external {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    if spraying {
                        Category::CredentialAccess
                    } else {
                        Category::InitialAccess
                    },
                    Message::new(format!("{kind_rule}.title"))
                        .arg("source", source)
                        .arg("failures", failures)
                        .arg("accounts", act.users.len()),
                )
                .key(source)
                .summary(
                    Message::new(format!("{kind_rule}.summary"))
                        .arg("source", source)
                        .arg("failures", failures)
                        .arg("accounts", act.users.len()),
                )
                .confidence(Confidence::Medium)
                .attack(technique)
                .action(Message::new("eventlog.action.block-source").arg("source", source))
                .action(Message::new("eventlog.action.check-lockout")),
            };
            finding = finding
                .data("source", source.as_str())
                .data("external", external)
                .data("failures", failures)
                .data("accounts_tried", act.users.len())
                .data("top_accounts", users_json)
                .data("password_spraying", spraying);
            for t in first_fail.into_iter().chain(last_fail) {
                finding.observe(t);
            }
            for h in &act.hosts {
                finding = finding.host(h.clone());
            }
            out.push(act.failure_cites.cite(finding, files));
        }
    }

    fn external_findings(&self, files: &[SourceFile], out: &mut Vec<Finding>) {
        let mut table = Vec::new();
        let mut sources: Vec<(&String, &SourceActivity)> = self
            .sources
            .iter()
            .filter(|(s, _)| is_external_text(s))
            .collect();
        sources.sort_by(|a, b| a.1.first.cmp(&b.1.first).then(a.0.cmp(b.0)));
        for (source, act) in &sources {
            table.push(serde_json::json!({
                "source": source,
                "first_seen": act.first,
                "last_seen": act.last,
                "failures": act.failures.len(),
                "successes": act.successes.len(),
                "hosts": act.hosts,
            }));
            let Some(first_success) = act.successes.iter().min_by_key(|s| s.time) else {
                continue;
            };
            let mut accounts: BTreeSet<&str> = BTreeSet::new();
            for s in &act.successes {
                accounts.insert(&s.account);
            }
            let accounts: Vec<&str> = accounts.into_iter().collect();
            let mut finding = Finding::new(
                ANALYZER_ID,
                "eventlog.external-logon",
                Severity::High,
                Category::InitialAccess,
                Message::new("eventlog.external-logon.title")
                    .arg("source", source)
                    .arg("accounts", accounts.join(", ")),
            )
            .key(source)
            .summary(
                Message::new("eventlog.external-logon.summary")
                    .arg("source", source)
                    .arg("count", act.successes.len())
                    .arg("time", first_success.time.to_rfc3339())
                    .arg("host", &first_success.host),
            )
            .confidence(Confidence::High)
            .attack("T1133")
            .attack("T1078")
            .data("source", source.as_str())
            .data("accounts", accounts.clone())
            .data("successes", act.successes.len())
            .data("failures", act.failures.len())
            .action(Message::new("eventlog.action.block-source").arg("source", source))
            .action(Message::new("eventlog.action.close-exposure"));
            for s in act.successes.iter().take(MAX_EVIDENCE) {
                finding.observe(s.time);
                finding = finding.host(s.host.clone());
                if let Some(f) = files.get(s.cite.file) {
                    finding = finding.evidence(f.source_at(s.cite.locator.clone()));
                }
            }
            out.push(finding);
        }
        if !table.is_empty() {
            let mut f = Finding::new(
                ANALYZER_ID,
                "eventlog.external-sources",
                Severity::Info,
                Category::InitialAccess,
                Message::new("eventlog.external-sources.title").arg("count", table.len()),
            )
            .confidence(Confidence::High)
            .data("sources", table);
            for (_, act) in &sources {
                for t in act.first.into_iter().chain(act.last) {
                    f.observe(t);
                }
            }
            out.push(f);
        }
    }

    fn lateral_finding(&self, files: &[SourceFile], out: &mut Vec<Finding>) {
        let graph = self.graph();
        if graph.edges.is_empty() {
            return;
        }
        // An account that reaches three or more hosts remotely is how lateral movement looks.
        let mut reach: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in &graph.edges {
            reach.entry(&e.account).or_default().insert(&e.target);
        }
        let spreading: Vec<&str> = reach
            .iter()
            .filter(|(_, hosts)| hosts.len() >= 3)
            .map(|(a, _)| *a)
            .collect();
        let hosts: BTreeSet<&str> = graph.edges.iter().map(|e| e.target.as_str()).collect();
        let mut finding = Finding::new(
            ANALYZER_ID,
            "eventlog.lateral-movement",
            if spreading.is_empty() {
                Severity::Info
            } else {
                Severity::Medium
            },
            Category::LateralMovement,
            Message::new("eventlog.lateral-movement.title")
                .arg("edges", graph.edges.len())
                .arg("hosts", hosts.len()),
        )
        .summary(if spreading.is_empty() {
            Message::new("eventlog.lateral-movement.summary-none")
        } else {
            Message::new("eventlog.lateral-movement.summary").arg("accounts", spreading.join(", "))
        })
        .confidence(Confidence::Medium)
        .attack("T1021")
        .data("spreading_accounts", spreading.clone())
        .data(
            "graph",
            serde_json::to_value(&graph).unwrap_or(serde_json::Value::Null),
        );
        if !spreading.is_empty() {
            finding = finding.action(
                Message::new("eventlog.action.reset-credentials")
                    .arg("accounts", spreading.join(", ")),
            );
        }
        // The hosts reached (by the spreading accounts when there are any).
        let reached: BTreeSet<&str> = graph
            .edges
            .iter()
            .filter(|e| spreading.is_empty() || spreading.contains(&e.account.as_str()))
            .map(|e| e.target.as_str())
            .collect();
        for h in reached.into_iter().take(MAX_EVIDENCE) {
            finding = finding.host(h);
        }
        let mut cites = Citations::default();
        for ((acct, _, _), e) in &self.edges {
            if spreading.contains(&acct.as_str()) || spreading.is_empty() {
                cites.merge(&e.cites);
            }
            for t in e.first.into_iter().chain(e.last) {
                finding.observe(t);
            }
        }
        out.push(cites.cite(finding, files));
    }

    fn summary_finding(&self, files: &[SourceFile], out: &mut Vec<Finding>) {
        if self.summary.is_empty() {
            return;
        }
        let mut rows: Vec<(&(String, String), &SummaryRow)> = self.summary.iter().collect();
        rows.sort_by(|a, b| {
            (b.1.success + b.1.failure + b.1.explicit)
                .cmp(&(a.1.success + a.1.failure + a.1.explicit))
                .then(a.0.cmp(b.0))
        });
        let table: Vec<serde_json::Value> = rows
            .iter()
            .take(500)
            .map(|((acct, src), r)| {
                serde_json::json!({
                    "account": acct, "source": src, "success": r.success, "failure": r.failure,
                    "explicit": r.explicit, "logon_types": r.logon_types, "auth": r.auth,
                    "hosts": r.hosts, "first_seen": r.first, "last_seen": r.last,
                })
            })
            .collect();
        let mut auth_totals: BTreeMap<&str, u64> = BTreeMap::new();
        for r in self.summary.values() {
            for (a, n) in &r.auth {
                *auth_totals.entry(a.as_str()).or_default() += n;
            }
        }
        let accounts: BTreeSet<&str> = self.summary.keys().map(|(a, _)| a.as_str()).collect();
        let mut f = Finding::new(
            ANALYZER_ID,
            "eventlog.logon-summary",
            Severity::Info,
            Category::Other,
            Message::new("eventlog.logon-summary.title")
                .arg("accounts", accounts.len())
                .arg("sources", self.summary.len()),
        )
        .confidence(Confidence::High)
        .data("rows", table)
        .data("rows_total", self.summary.len())
        .data(
            "authentication_packages",
            serde_json::to_value(&auth_totals).unwrap_or_default(),
        )
        .data(
            "privileged_logons",
            serde_json::to_value(&self.privileged).unwrap_or_default(),
        );
        for r in self.summary.values() {
            for t in r.first.into_iter().chain(r.last) {
                f.observe(t);
            }
        }
        out.push(self.summary_cites.cite(f, files));
    }
}
