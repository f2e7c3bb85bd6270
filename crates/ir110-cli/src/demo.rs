//! The sample incident behind `ir110 demo`: a small company's file server hit by ransomware
//! after an RDP brute force, written as real-format files, deterministic from a seed.
//!
//! Story (times in JST): staff work normally on 11/20; from 01:00 on 11/21 an outside address
//! tries passwords over RDP, gets in as `administrator` at 01:12, installs a service at 02:40,
//! encrypts three shared folders from 03:10 and clears the Security log at 03:30.
//! The mail server (MAIL01), the web server (WEB01) and the UTM (UTM01) add the other calls:
//! an abused mail account, a backdoored shop site and a PC beaconing to an outside server.
//! Each analyzer that has landed must find its part; this is also the end-to-end test.

use std::fs::{self, File};
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use ir110_samples::damage::{self, Cipher, Mode, NoteStyle, Rename};
use serde_json::{Value, json};

/// One file of the sample incident.
pub struct DemoFile {
    /// Path relative to the evidence folder, `/`-separated.
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Modification time to set, when it matters to the story.
    pub mtime: Option<DateTime<Utc>>,
}

/// The attacker's address (TEST-NET-3, never routed).
pub const ATTACKER_IP: &str = "203.0.113.50";
/// The file server's name.
pub const HOST: &str = "FS01";
/// Folders of the share that get encrypted.
const ENCRYPTED_FOLDERS: [&str; 3] = ["経理", "営業", "共有"];

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    // 2026-11-21 00:00 JST is 2026-11-20 15:00 UTC.
    Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::hours(h.into())
        + Duration::minutes(m.into())
        + Duration::seconds(s.into())
}

/// Generates every file of the incident.
pub fn generate(seed: u64) -> Vec<DemoFile> {
    let mut files = share(seed);
    files.extend(windows_logs(seed));
    // The other calls' evidence, each from its analyzer's own generator: the mail server's log
    // with an abused account, and the UTM's connection log with a beaconing PC.
    // Both cover the two weeks before the ransomware night, so one timeline tells the story.
    let start = at(0, 0, 0) - Duration::days(13);
    let mail = ir110_mail::MailSpec {
        seed,
        start,
        days: 14,
        users: 12,
        abuse: Some(ir110_mail::AbuseSpec {
            account: "user03@example.co.jp".to_owned(),
            day: 10,
            messages: 240,
            bounce_every: 5,
        }),
        backscatter: None,
    };
    files.push(DemoFile {
        path: "MAIL01/var/log/maillog".into(),
        bytes: ir110_mail::synthesize_maillog(&mail).into_bytes(),
        mtime: Some(at(0, 0, 0) + Duration::days(1)),
    });
    let traffic = ir110_netflow::TrafficSpec {
        seed,
        start: start.timestamp(),
        days: 14,
        hosts: 20,
        normal_pairs: 300,
        pollers: 2,
        beacons: vec![ir110_netflow::BeaconSpec {
            src: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, 23)),
            dst: std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 77)),
            port: 443,
            period_secs: 300.0,
            jitter: 0.2,
            start_day: 3,
            days: 11,
            bytes_out: 620,
        }],
    };
    files.extend(website(seed));
    files.push(DemoFile {
        path: "UTM01/zeek/conn.log".into(),
        bytes: ir110_netflow::synthesize_conn_log(&traffic).into_bytes(),
        mtime: Some(at(0, 0, 0) + Duration::days(1)),
    });
    files
}

fn share(seed: u64) -> Vec<DemoFile> {
    let share = ir110_samples::file_share(seed);
    let (victims, spared): (Vec<_>, Vec<_>) = share.into_iter().partition(|f| {
        ENCRYPTED_FOLDERS
            .iter()
            .any(|d| f.path.starts_with(&format!("{d}/")))
    });
    let mut out = Vec::new();
    // Untouched files keep office-hours times from the past months.
    for (i, f) in spared.into_iter().enumerate() {
        out.push(DemoFile {
            path: format!("FS01/share/{}", f.path),
            bytes: f.bytes,
            mtime: Some(
                at(0, 0, 0) - Duration::days(3 + (i as i64 * 5) % 120) - Duration::hours(8),
            ),
        });
    }
    let suffix = damage::campaign_suffix(seed, 9);
    let attacked = ir110_samples::attack(
        &victims,
        &Mode::Full(Cipher::ChaCha20),
        &Rename::CampaignSuffix(suffix),
        NoteStyle::LockBitLike,
        seed,
    );
    let mut t = at(3, 10, 0);
    for (i, f) in attacked.into_iter().enumerate() {
        let is_note = f.path.ends_with(".txt") && f.path.contains("Restore-My-Files");
        let bytes = if is_note || f.protected {
            f.bytes
        } else {
            damage::append_footer(
                f.bytes,
                damage::Footer::KeyBlob,
                seed.wrapping_add(i as u64),
            )
        };
        out.push(DemoFile {
            path: format!("FS01/share/{}", f.path),
            bytes,
            mtime: Some(t),
        });
        t += Duration::seconds(17);
    }
    out
}

/// The company's shop site (WEB01): a WordPress-like tree in which a vulnerable plugin let an
/// attacker plant a webshell and a card skimmer five days before the ransomware night, with the
/// access log that shows it. File times tell when each planted file was written.
fn website(seed: u64) -> Vec<DemoFile> {
    use ir110_weblog::{AttackTimeline, attack_access_log, clean_site, planted_files};
    let upload = at(1, 32, 10) - Duration::days(5);
    let timeline = AttackTimeline {
        scan_start: upload - Duration::minutes(32),
        upload,
        second_stage: upload + Duration::minutes(40),
        reuse: upload + Duration::hours(26),
    };
    let planted_times = timeline.file_times();
    let installed = at(0, 0, 0) - Duration::days(160);
    let mut site = clean_site();
    for (path, bytes) in planted_files() {
        match site.iter_mut().find(|(p, _)| *p == path) {
            Some(entry) => entry.1 = bytes,
            None => site.push((path, bytes)),
        }
    }
    let mut out: Vec<DemoFile> = site
        .into_iter()
        .map(|(path, bytes)| {
            let mtime = planted_times
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(installed, |(_, t)| *t);
            DemoFile {
                path: format!("WEB01/var/www/html/{path}"),
                bytes,
                mtime: Some(mtime),
            }
        })
        .collect();
    out.push(DemoFile {
        path: "WEB01/var/log/apache2/access.log".into(),
        bytes: attack_access_log(seed, &timeline).into_bytes(),
        mtime: Some(at(0, 0, 0) + Duration::days(1)),
    });
    out
}

/// Security and System events in the JSON lines shape of `evtx_dump -o jsonl`.
fn windows_logs(seed: u64) -> Vec<DemoFile> {
    let mut security = Vec::new();
    let mut system = Vec::new();
    let mut record = 48_210_u64;
    let mut push = |log: &mut Vec<Value>,
                    t: DateTime<Utc>,
                    channel: &str,
                    provider: &str,
                    id: u32,
                    data: Value| {
        record += 1;
        log.push(evtx_json(t, channel, provider, id, record, data));
    };
    const SEC: &str = "Microsoft-Windows-Security-Auditing";
    // Business day: staff log on to the share from the office LAN (09:00–18:00 JST on 11/20).
    let staff = ["tanaka", "suzuki", "sato", "takahashi", "ito"];
    for (i, user) in staff.iter().enumerate() {
        let t =
            at(0, 0, 0) - Duration::hours(15) + Duration::minutes(7 * i as i64 + (seed % 5) as i64);
        push(
            &mut security,
            t,
            "Security",
            SEC,
            4624,
            logon_data(
                user,
                "SAMPLE",
                3,
                &format!("192.168.10.{}", 21 + i),
                "Kerberos",
            ),
        );
    }
    // 01:00–01:08: password guessing from outside, mostly `administrator`, some spraying.
    let names = [
        "administrator",
        "administrator",
        "admin",
        "administrator",
        "user",
        "administrator",
        "test",
    ];
    for i in 0..42u32 {
        let t = at(1, 0, 0) + Duration::seconds(i64::from(i) * 11);
        push(
            &mut security,
            t,
            "Security",
            SEC,
            4625,
            failed_logon_data(names[i as usize % names.len()]),
        );
    }
    // 01:12: success over RDP, then special privileges.
    push(
        &mut security,
        at(1, 12, 4),
        "Security",
        SEC,
        4624,
        logon_data("administrator", "SAMPLE", 10, ATTACKER_IP, "Negotiate"),
    );
    push(
        &mut security,
        at(1, 12, 4),
        "Security",
        SEC,
        4672,
        json!({
            "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-500",
            "SubjectUserName": "administrator", "SubjectDomainName": "SAMPLE", "SubjectLogonId": "0x3e7a1f",
            "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege"
        }),
    );
    // 02:40: a service whose binary sits in a public folder.
    push(
        &mut system,
        at(2, 40, 31),
        "System",
        "Service Control Manager",
        7045,
        json!({
            "ServiceName": "SysHelperSvc",
            "ImagePath": "C:\\Users\\Public\\Music\\svchost.exe -k netsvcs",
            "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"
        }),
    );
    // 03:30: the Security log is cleared (UserData, not EventData).
    let t = at(3, 30, 12);
    record += 1;
    let mut cleared = evtx_json(
        t,
        "Security",
        "Microsoft-Windows-Eventlog",
        1102,
        record,
        Value::Null,
    );
    if let Some(event) = cleared.get_mut("Event").and_then(Value::as_object_mut) {
        event.remove("EventData");
        event.insert("UserData".into(), json!({"LogFileCleared": {
            "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-500",
            "SubjectUserName": "administrator", "SubjectDomainName": "SAMPLE", "SubjectLogonId": "0x3e7a1f"
        }}));
    }
    security.push(cleared);
    let lines = |events: Vec<Value>| -> Vec<u8> {
        let mut out = Vec::new();
        for e in events {
            out.extend_from_slice(e.to_string().as_bytes());
            out.push(b'\n');
        }
        out
    };
    vec![
        DemoFile {
            path: "FS01/logs/Security.jsonl".into(),
            bytes: lines(security),
            mtime: Some(at(3, 30, 12)),
        },
        DemoFile {
            path: "FS01/logs/System.jsonl".into(),
            bytes: lines(system),
            mtime: Some(at(2, 40, 31)),
        },
    ]
}

fn evtx_json(
    t: DateTime<Utc>,
    channel: &str,
    provider: &str,
    id: u32,
    record: u64,
    data: Value,
) -> Value {
    json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": provider}},
            "EventID": id,
            "Version": 0, "Level": 0, "Task": 0, "Opcode": 0,
            "TimeCreated": {"#attributes": {"SystemTime": t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}},
            "EventRecordID": record,
            "Execution": {"#attributes": {"ProcessID": 612, "ThreadID": 1380}},
            "Channel": channel,
            "Computer": format!("{HOST}.sample.local"),
            "Security": null
        },
        "EventData": data
    }})
}

fn logon_data(user: &str, domain: &str, logon_type: u32, ip: &str, package: &str) -> Value {
    json!({
        "SubjectUserSid": "S-1-5-18", "SubjectUserName": "FS01$", "SubjectDomainName": "SAMPLE",
        "SubjectLogonId": "0x3e7", "TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-500",
        "TargetUserName": user, "TargetDomainName": domain, "TargetLogonId": "0x3e7a1f",
        "LogonType": logon_type, "LogonProcessName": if logon_type == 10 { "User32 " } else { "Kerberos" },
        "AuthenticationPackageName": package, "WorkstationName": if logon_type == 10 { "WIN-R8K2P1" } else { "-" },
        "LogonGuid": "{00000000-0000-0000-0000-000000000000}", "TransmittedServices": "-",
        "LmPackageName": "-", "KeyLength": 0, "ProcessId": "0x1f4",
        "ProcessName": "C:\\Windows\\System32\\svchost.exe", "IpAddress": ip, "IpPort": "0",
        "ImpersonationLevel": "%%1833"
    })
}

fn failed_logon_data(user: &str) -> Value {
    json!({
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
        "SubjectLogonId": "0x0", "TargetUserSid": "S-1-0-0", "TargetUserName": user,
        "TargetDomainName": "", "Status": "0xc000006d", "FailureReason": "%%2313",
        "SubStatus": "0xc000006a", "LogonType": 3, "LogonProcessName": "NtLmSsp ",
        "AuthenticationPackageName": "NTLM", "WorkstationName": "-", "TransmittedServices": "-",
        "LmPackageName": "-", "KeyLength": 0, "ProcessId": "0x0", "ProcessName": "-",
        "IpAddress": ATTACKER_IP, "IpPort": "0"
    })
}

/// Writes the files under `dir` and sets their modification times. Returns the count.
pub fn write(dir: &Path, files: &[DemoFile]) -> Result<usize> {
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, &f.bytes).with_context(|| format!("cannot write {}", path.display()))?;
        if let Some(mtime) = f.mtime {
            let file = File::options().write(true).open(&path)?;
            file.set_modified(mtime.into())
                .with_context(|| format!("cannot set the time of {}", path.display()))?;
        }
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let a = generate(7);
        let b = generate(7);
        assert_eq!(a.len(), b.len());
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.path == y.path && x.bytes == y.bytes)
        );
        let security = a
            .iter()
            .find(|f| f.path.ends_with("Security.jsonl"))
            .unwrap();
        let text = String::from_utf8(security.bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 5 + 42 + 2 + 1);
        assert_eq!(text.matches("\"EventID\":4625").count(), 42);
        assert!(a.iter().any(|f| f.path.ends_with("Restore-My-Files.txt")));
    }
}
