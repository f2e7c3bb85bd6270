//! Which Windows records become timeline [`Event`]s, and their ECS fields.
//!
//! A busy domain controller writes millions of records a day; the timeline gets the ones a
//! responder reads: logons (interactive, network and RDP by people, not the machine's own),
//! failures, explicit credentials, account and group changes, services, tasks, cleared logs,
//! Defender detections and tampering, suspicious PowerShell, RDP sessions.

use ir110_model::{Event, SourceFile};

use crate::activity_analytics::powershell_indicators;
use crate::{ANALYZER_ID, WinEvent};

/// The timeline event for `e`, if it is an IR-relevant record.
pub fn timeline_event(e: &WinEvent, file: &SourceFile, host: Option<&str>) -> Option<Event> {
    let security = e.channel.eq_ignore_ascii_case("Security");
    let user = || {
        e.get_some("TargetUserName")
            .or_else(|| e.get_some("SubjectUserName"))
            .unwrap_or("-")
            .to_owned()
    };
    let (kind, message) = match e.event_id {
        4624 if security => {
            let lt = e.get_some("LogonType").unwrap_or("?");
            let u = user();
            // The machine's own logons and service/batch logons drown the timeline.
            if matches!(lt, "0" | "4" | "5")
                || u.ends_with('$')
                || matches!(
                    u.to_ascii_uppercase().as_str(),
                    "SYSTEM" | "LOCAL SERVICE" | "NETWORK SERVICE" | "ANONYMOUS LOGON"
                )
                || u.starts_with("DWM-")
                || u.starts_with("UMFD-")
            {
                return None;
            }
            (
                "logon",
                format!("Logon as {u} (type {lt}) from {}", source(e)),
            )
        }
        4625 if security => (
            "logon-failed",
            format!(
                "Failed logon as {} (type {}) from {}",
                user(),
                e.get_some("LogonType").unwrap_or("?"),
                source(e)
            ),
        ),
        4648 if security => (
            "logon-explicit",
            format!(
                "{} used explicit credentials of {} for {}",
                e.get_some("SubjectUserName").unwrap_or("-"),
                e.get_some("TargetUserName").unwrap_or("-"),
                e.get_some("TargetServerName").unwrap_or("-")
            ),
        ),
        4720 if security => ("account-created", format!("Account {} created", user())),
        4722 if security => ("account-enabled", format!("Account {} enabled", user())),
        4724 if security => ("password-reset", format!("Password of {} reset", user())),
        4728 | 4732 | 4756 if security => (
            "group-member-added",
            format!(
                "{} added to group {}",
                e.get_some("MemberName")
                    .or_else(|| e.get_some("MemberSid"))
                    .unwrap_or("-"),
                e.get_some("TargetUserName").unwrap_or("-")
            ),
        ),
        7045 if e.channel.eq_ignore_ascii_case("System") => (
            "service-installed",
            format!(
                "Service {} installed: {}",
                e.get("ServiceName").unwrap_or("?"),
                e.get("ImagePath").unwrap_or("?")
            ),
        ),
        4697 if security => (
            "service-installed",
            format!(
                "Service {} installed: {}",
                e.get("ServiceName").unwrap_or("?"),
                e.get("ServiceFileName").unwrap_or("?")
            ),
        ),
        4698 if security => (
            "task-created",
            format!(
                "Scheduled task {} created",
                e.get("TaskName").unwrap_or("?")
            ),
        ),
        106 if e.channel.contains("TaskScheduler") => (
            "task-created",
            format!(
                "Scheduled task {} registered",
                e.get("TaskName").unwrap_or("?")
            ),
        ),
        1102 if security => ("log-cleared", "Security log cleared".to_owned()),
        104 if e.channel.eq_ignore_ascii_case("System") && e.provider.contains("Eventlog") => (
            "log-cleared",
            format!("{} log cleared", e.get("Channel").unwrap_or("An event")),
        ),
        1116 | 1117 | 1006 | 1007 if e.channel.contains("Windows Defender") => (
            "malware-detected",
            format!(
                "Defender: {} in {}",
                e.get("Threat Name").unwrap_or("?"),
                e.get("Path").unwrap_or("?")
            ),
        ),
        5001 | 5010 | 5012 | 5013 if e.channel.contains("Windows Defender") => (
            "av-tampering",
            format!("Defender protection changed (event {})", e.event_id),
        ),
        4104 if e.channel.contains("PowerShell") => {
            let found = powershell_indicators(e.get("ScriptBlockText").unwrap_or_default());
            if found.is_empty() {
                return None;
            }
            (
                "powershell-suspicious",
                format!("Suspicious PowerShell script block: {}", found.join(", ")),
            )
        }
        1149 if e.channel.contains("RemoteConnectionManager") => (
            "rdp-logon",
            format!(
                "RDP authentication of {} from {}",
                e.get_some("Param1").unwrap_or("-"),
                e.get_some("Param3").unwrap_or("-")
            ),
        ),
        21 | 22 | 25 if e.channel.contains("LocalSessionManager") => (
            match e.event_id {
                21 => "rdp-logon",
                22 => "rdp-shell-start",
                _ => "rdp-reconnect",
            },
            format!(
                "RDP session of {} from {}",
                e.get_some("User").unwrap_or("-"),
                e.get_some("Address").unwrap_or("-")
            ),
        ),
        _ => return None,
    };
    let mut ev = Event::new(
        e.timestamp,
        ANALYZER_ID,
        kind,
        file.source_at(e.locator()),
        message,
    )
    .field("event.code", e.event_id.to_string())
    .field("event.provider", e.provider.as_str())
    .field("winlog.channel", e.channel.as_str());
    if let Some(h) = Some(e.computer.as_str()).filter(|c| !c.is_empty()).or(host) {
        ev = ev.host(h).field("host.name", h);
    }
    if let Some(r) = e.record_id {
        ev = ev.field("winlog.record_id", r);
    }
    for (name, ecs) in [
        ("TargetUserName", "user.name"),
        ("TargetDomainName", "user.domain"),
        ("IpAddress", "source.ip"),
        ("WorkstationName", "source.domain"),
        ("LogonType", "winlog.logon.type"),
        (
            "AuthenticationPackageName",
            "winlog.event_data.AuthenticationPackageName",
        ),
        ("Status", "winlog.event_data.Status"),
        ("SubStatus", "winlog.event_data.SubStatus"),
        ("SubjectUserName", "winlog.event_data.SubjectUserName"),
        ("TargetServerName", "destination.domain"),
        ("ServiceName", "service.name"),
        ("ImagePath", "process.executable"),
        ("ServiceFileName", "process.executable"),
        ("TaskName", "winlog.event_data.TaskName"),
        ("Threat Name", "threat.indicator.name"),
        ("Path", "file.path"),
        ("Param1", "user.name"),
        ("Param3", "source.ip"),
        ("User", "user.name"),
        ("Address", "source.ip"),
    ] {
        if let Some(v) = e.get_some(name)
            && !ev.fields.contains_key(ecs)
        {
            ev = ev.field(ecs, v);
        }
    }
    if e.event_id == 4104
        && let Some(text) = e.get("ScriptBlockText")
    {
        let cut: String = text.chars().take(2_000).collect();
        ev = ev.field("powershell.file.script_block_text", cut);
    }
    Some(ev)
}

/// `IpAddress`, else `WorkstationName`, else `-`.
fn source(e: &WinEvent) -> &str {
    e.get_some("IpAddress")
        .or_else(|| e.get_some("WorkstationName"))
        .unwrap_or("-")
}
