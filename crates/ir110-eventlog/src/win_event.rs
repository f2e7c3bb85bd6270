//! One Windows event, whatever it was read from, and its construction from the JSON shapes that
//! exports use.
//!
//! Three JSON shapes are recognised (all are also what the EVTX reader renders through):
//! - **evtx_dump** (`omerbenamram/evtx`, Chainsaw, Hayabusa, `ir110 demo`):
//!   `{"Event":{"System":{…},"EventData":{…}}}`, attributes under `#attributes` (or, with
//!   `--separate-json-attributes`, beside the element as `Provider_attributes`).
//! - **Velociraptor** (`Windows.EventLogs.EvtxHunter` and friends): `System` and
//!   `EventData`/`UserData` at the top level, `EventID.Value`, `TimeCreated.SystemTime` as epoch
//!   seconds, `EventTime` as a string.
//! - **Winlogbeat / ECS**: `@timestamp`, `winlog.event_id`, `winlog.channel`,
//!   `winlog.event_data`, nested or with dotted keys.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// One Windows event record, normalised.
///
/// `data` holds the record's `EventData` (or `UserData`) flattened to name → text: named
/// `<Data Name="X">` elements keep their names, unnamed `<Data>` elements are all called `Data`
/// (the name may repeat, in document order), nested `UserData` elements are named by their leaf
/// element. Values are text as the XML would show them (numbers in decimal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WinEvent {
    /// `System/TimeCreated/@SystemTime` (UTC).
    pub timestamp: DateTime<Utc>,
    /// `System/Computer`.
    pub computer: String,
    /// `System/Channel` (`Security`, `System`, `Microsoft-Windows-Sysmon/Operational`, …).
    pub channel: String,
    /// `System/Provider/@Name`.
    pub provider: String,
    /// `System/EventID`.
    pub event_id: u32,
    /// `System/EventRecordID`, when present.
    pub record_id: Option<u64>,
    /// `System/Level` (0 = log always, 1 = critical … 5 = verbose), when present.
    pub level: Option<u8>,
    /// Further `System` values under the names Sigma uses: elements by name (`Version`, `Task`,
    /// `Opcode`, `Keywords`), attributes as `Element_Attribute` (`Execution_ProcessID`,
    /// `Security_UserID`, `Provider_Guid`, `TimeCreated_SystemTime`, …), sorted by name.
    pub system: Vec<(String, String)>,
    /// `EventData`/`UserData`, flattened (see the type's documentation).
    pub data: Vec<(String, String)>,
    /// Line number (1-based) in a JSON lines file; `None` for EVTX.
    pub line: Option<u64>,
    /// Carved from unallocated EVTX space: a stale record of a cleared or overwritten log
    /// (only with [`ReadOptions::recover_records`](crate::ReadOptions::recover_records)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
    /// `data` names that occur more than once, with all their values in order: the Sigma
    /// engine tests such a field as a list (any value may match).
    #[serde(skip)]
    pub(crate) repeated: Vec<(String, Vec<Value>)>,
}

impl WinEvent {
    /// The first `data` value named `name` (exact, case-sensitive as in the log).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first `data` value named `name` that is not empty and not `-` (Windows' "none").
    pub fn get_some(&self, name: &str) -> Option<&str> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    }

    /// A field by the name a Sigma rule or a person uses: the typed `System` values
    /// (`EventID`, `Channel`, `Computer`, `Provider_Name`, `EventRecordID`, `Level`), then other
    /// `System` values, then the first `data` value of that name.
    pub fn field(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match name {
            "EventID" => return Some(Cow::Owned(self.event_id.to_string())),
            "Channel" => return Some(Cow::Borrowed(&self.channel)),
            "Computer" => return Some(Cow::Borrowed(&self.computer)),
            "Provider_Name" => return Some(Cow::Borrowed(&self.provider)),
            "EventRecordID" => return self.record_id.map(|r| Cow::Owned(r.to_string())),
            "Level" => return self.level.map(|l| Cow::Owned(l.to_string())),
            _ => {}
        }
        if let Some((_, v)) = self.system.iter().find(|(k, _)| k == name) {
            return Some(Cow::Borrowed(v));
        }
        self.get(name).map(Cow::Borrowed)
    }

    /// Where the record is, for [`SourceFile::source_at`](ir110_model::SourceFile::source_at):
    /// `record 1234` when the record id is known, else `line 17`, else `record ?`.
    pub fn locator(&self) -> String {
        match (self.record_id, self.line) {
            (Some(r), _) => format!("record {r}"),
            (None, Some(l)) => format!("line {l}"),
            (None, None) => "record ?".to_owned(),
        }
    }

    /// `data` as a JSON object (a repeated name becomes an array), for outputs.
    pub fn data_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in &self.data {
            match out.get_mut(k) {
                None => {
                    out.insert(k.clone(), Value::String(v.clone()));
                }
                Some(Value::Array(items)) => items.push(Value::String(v.clone())),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::String(v.clone())]);
                }
            }
        }
        out
    }

    /// Builds an event from any of the recognised JSON shapes; `None` when `value` is not a
    /// Windows event (another tool's JSON), or lacks an event id or a time.
    ///
    /// `fallback_time` is used when the JSON has no readable time (the EVTX record header
    /// carries one).
    pub fn from_json(value: &Value, fallback_time: Option<DateTime<Utc>>) -> Option<WinEvent> {
        let obj = value.as_object()?;
        if let Some(event) = obj.get("Event").and_then(Value::as_object) {
            return from_system_shape(event, fallback_time);
        }
        if obj.get("System").is_some_and(Value::is_object) {
            return from_system_shape(obj, fallback_time);
        }
        if path(obj, &["winlog"]).is_some() || obj.contains_key("winlog.event_id") {
            return from_winlogbeat(obj, fallback_time);
        }
        None
    }
}

/// `Event` (evtx_dump) or the top-level object (Velociraptor): `System` + `EventData`/`UserData`.
fn from_system_shape(
    event: &Map<String, Value>,
    fallback_time: Option<DateTime<Utc>>,
) -> Option<WinEvent> {
    let system = event.get("System")?.as_object()?;
    let event_id = u32::try_from(number(system.get("EventID").map(text_of)?)?).ok()?;
    let provider_attrs = attributes(system, "Provider");
    let provider = provider_attrs
        .and_then(|a| a.get("Name"))
        .map(scalar_text)
        .unwrap_or_default();
    let time = attributes(system, "TimeCreated")
        .and_then(|a| a.get("SystemTime"))
        .and_then(parse_time)
        .or_else(|| event.get("EventTime").and_then(parse_time))
        .or(fallback_time)?;
    let mut extra = Vec::new();
    for (name, sigma_name) in [
        ("Version", "Version"),
        ("Task", "Task"),
        ("Opcode", "Opcode"),
        ("Keywords", "Keywords"),
    ] {
        if let Some(v) = system.get(name).map(text_of).filter(|v| !v.is_null()) {
            extra.push((sigma_name.to_owned(), scalar_text(v)));
        }
    }
    if let Some(a) = provider_attrs {
        for (name, sigma_name) in [
            ("Guid", "Provider_Guid"),
            ("EventSourceName", "Provider_EventSourceName"),
        ] {
            if let Some(v) = a.get(name) {
                extra.push((sigma_name.to_owned(), scalar_text(v)));
            }
        }
    }
    for (element, names) in [
        ("Execution", &["ProcessID", "ThreadID"][..]),
        ("Security", &["UserID"][..]),
        ("Correlation", &["ActivityID", "RelatedActivityID"][..]),
        ("TimeCreated", &["SystemTime"][..]),
    ] {
        if let Some(a) = attributes(system, element) {
            for name in names {
                if let Some(v) = a.get(*name) {
                    extra.push((format!("{element}_{name}"), scalar_text(v)));
                }
            }
        }
    }
    extra.sort();
    let mut data = Vec::new();
    for key in ["EventData", "UserData"] {
        if let Some(v) = event.get(key) {
            flatten(key, v, &mut data);
        }
    }
    Some(WinEvent {
        timestamp: time,
        computer: system.get("Computer").map(scalar_text).unwrap_or_default(),
        channel: system.get("Channel").map(scalar_text).unwrap_or_default(),
        provider,
        event_id,
        record_id: system
            .get("EventRecordID")
            .map(text_of)
            .and_then(number)
            .and_then(|n| u64::try_from(n).ok()),
        level: system
            .get("Level")
            .map(text_of)
            .and_then(number)
            .and_then(|n| u8::try_from(n).ok()),
        system: extra,
        repeated: repeated(&data),
        data,
        line: None,
        recovered: false,
    })
}

/// Winlogbeat / Elastic Agent documents (ECS).
fn from_winlogbeat(
    obj: &Map<String, Value>,
    fallback_time: Option<DateTime<Utc>>,
) -> Option<WinEvent> {
    let get = |p: &[&str]| path(obj, p);
    let event_id = u32::try_from(number(
        get(&["winlog", "event_id"]).or_else(|| get(&["event", "code"]))?,
    )?)
    .ok()?;
    let time = get(&["@timestamp"])
        .and_then(parse_time)
        .or_else(|| get(&["event", "created"]).and_then(parse_time))
        .or(fallback_time)?;
    let text = |p: &[&str]| get(p).map(scalar_text);
    let level = text(&["log", "level"])
        .or_else(|| text(&["winlog", "level"]))
        .and_then(|l| match l.to_ascii_lowercase().as_str() {
            "critical" => Some(1),
            "error" => Some(2),
            "warning" => Some(3),
            "information" | "info" => Some(4),
            "verbose" => Some(5),
            other => other.parse().ok(),
        });
    let mut system = Vec::new();
    for (p, sigma_name) in [
        (&["winlog", "version"][..], "Version"),
        (&["winlog", "task"][..], "Task"),
        (&["winlog", "opcode"][..], "Opcode"),
        (&["winlog", "process", "pid"][..], "Execution_ProcessID"),
        (
            &["winlog", "process", "thread", "id"][..],
            "Execution_ThreadID",
        ),
        (&["winlog", "user", "identifier"][..], "Security_UserID"),
        (&["winlog", "provider_guid"][..], "Provider_Guid"),
    ] {
        if let Some(v) = text(p) {
            system.push((sigma_name.to_owned(), v));
        }
    }
    system.sort();
    let mut data = Vec::new();
    for p in [&["winlog", "event_data"][..], &["winlog", "user_data"][..]] {
        if let Some(v) = get(p) {
            flatten("EventData", v, &mut data);
        }
    }
    Some(WinEvent {
        timestamp: time,
        computer: text(&["winlog", "computer_name"])
            .or_else(|| text(&["host", "name"]))
            .unwrap_or_default(),
        channel: text(&["winlog", "channel"]).unwrap_or_default(),
        provider: text(&["winlog", "provider_name"])
            .or_else(|| text(&["event", "provider"]))
            .unwrap_or_default(),
        event_id,
        record_id: get(&["winlog", "record_id"])
            .and_then(number)
            .and_then(|n| u64::try_from(n).ok()),
        level,
        system,
        repeated: repeated(&data),
        data,
        line: None,
        recovered: false,
    })
}

/// The names that occur more than once in `data`, with their values (rare: unnamed `Data`).
pub(crate) fn repeated(data: &[(String, String)]) -> Vec<(String, Vec<Value>)> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for (i, (k, _)) in data.iter().enumerate() {
        if out.iter().any(|(n, _)| n == k) || !data[i + 1..].iter().any(|(n, _)| n == k) {
            continue;
        }
        let values = data
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| Value::String(v.clone()))
            .collect();
        out.push((k.clone(), values));
    }
    out
}

/// `obj.a.b.c`, nested or with dotted keys at any level (`"winlog.event_id"`).
fn path<'a>(obj: &'a Map<String, Value>, p: &[&str]) -> Option<&'a Value> {
    let (first, rest) = p.split_first()?;
    if rest.is_empty() {
        return obj.get(*first);
    }
    if let Some(found) = obj
        .get(*first)
        .and_then(Value::as_object)
        .and_then(|inner| path(inner, rest))
    {
        return Some(found);
    }
    obj.get(&p.join("."))
}

/// The attributes of `element` in any shape: `{"#attributes":{…}}` (evtx_dump),
/// `element_attributes` (separated attributes) or the element object itself (Velociraptor).
fn attributes<'a>(system: &'a Map<String, Value>, element: &str) -> Option<&'a Map<String, Value>> {
    if let Some(v) = system.get(element).and_then(Value::as_object) {
        if let Some(a) = v.get("#attributes").and_then(Value::as_object) {
            return Some(a);
        }
        return Some(v);
    }
    system
        .get(&format!("{element}_attributes"))
        .and_then(Value::as_object)
}

/// The text of an element that may carry attributes: `{"#text": x, …}` → `x`; Velociraptor's
/// `{"Value": x, "Qualifiers": …}` → `x`.
fn text_of(v: &Value) -> &Value {
    match v {
        Value::Object(o) => o.get("#text").or_else(|| o.get("Value")).unwrap_or(v),
        _ => v,
    }
}

/// An integer from a JSON number or a decimal/`0x` string.
fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

/// A scalar as the XML text would show it.
fn scalar_text(v: &Value) -> String {
    match text_of(v) {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A time from RFC 3339 text (with or without `Z`, with a space instead of `T`, with `UTC`), or
/// from epoch seconds (Velociraptor).
pub(crate) fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match text_of(v) {
        Value::String(s) => parse_time_str(s),
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() {
                return None;
            }
            let whole = secs.floor();
            let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
            Utc.timestamp_opt(whole as i64, nanos).single()
        }
        _ => None,
    }
}

/// See [`parse_time`].
pub(crate) fn parse_time_str(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s
        .trim_end_matches(" UTC")
        .trim_end_matches('Z')
        .replace(' ', "T");
    chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// Flattens `EventData`/`UserData` into name → text pairs (see [`WinEvent`]).
fn flatten(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                flatten(name, item, out);
            }
        }
        Value::Object(o) => {
            // `<Data Name="X">text</Data>` rendered as an object with attributes and text.
            if let Some(t) = o.get("#text") {
                let named = o
                    .get("#attributes")
                    .and_then(|a| a.get("Name"))
                    .and_then(Value::as_str);
                flatten(named.unwrap_or(name), t, out);
                return;
            }
            for (k, child) in o {
                if k.starts_with('#') || k.ends_with("_attributes") || k == "xmlns" {
                    continue;
                }
                // `Data` children of EventData are unnamed data: keep the name `Data`.
                flatten(k, child, out);
            }
        }
        scalar => out.push((name.to_owned(), scalar_text(scalar))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_dump_shape() {
        let v = json!({"Event":{"#attributes":{"xmlns":"x"},"System":{"EventID":4625,"Computer":"FS01","Channel":"Security","EventRecordID":12,"Level":0,
            "TimeCreated":{"#attributes":{"SystemTime":"2026-01-10T01:02:03.000000Z"}},
            "Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625}"}},
            "Execution":{"#attributes":{"ProcessID":644,"ThreadID":700}}},
            "EventData":{"TargetUserName":"administrator","IpAddress":"203.0.113.50","LogonType":3}}});
        let e = WinEvent::from_json(&v, None).unwrap();
        assert_eq!(e.event_id, 4625);
        assert_eq!(e.computer, "FS01");
        assert_eq!(e.record_id, Some(12));
        assert_eq!(e.level, Some(0));
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.timestamp.to_rfc3339(), "2026-01-10T01:02:03+00:00");
        assert_eq!(e.get("LogonType"), Some("3"));
        assert_eq!(e.field("Execution_ProcessID").as_deref(), Some("644"));
        assert_eq!(e.field("Provider_Guid").as_deref(), Some("{54849625}"));
        assert_eq!(e.locator(), "record 12");
    }

    #[test]
    fn event_id_with_attributes_and_userdata() {
        let v = json!({"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},
            "Channel":"System","Computer":"FS01",
            "TimeCreated":{"#attributes":{"SystemTime":"2026-01-10 01:02:03.5 UTC"}},
            "Provider":{"#attributes":{"Name":"Service Control Manager"}}},
            "UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"bob"}},
            "EventData":{"Data":[{"#attributes":{"Name":"ServiceName"},"#text":"evil"},"unnamed"],"Binary":null}}});
        let e = WinEvent::from_json(&v, None).unwrap();
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.timestamp.timestamp_subsec_millis(), 500);
        assert_eq!(
            e.data,
            vec![
                ("ServiceName".to_owned(), "evil".to_owned()),
                ("Data".to_owned(), "unnamed".to_owned()),
                ("SubjectUserName".to_owned(), "bob".to_owned()),
            ]
        );
    }

    #[test]
    fn separated_attributes() {
        let v = json!({"Event":{"System":{"EventID":4624,"EventID_attributes":{"Qualifiers":0},
            "Provider_attributes":{"Name":"P"},"TimeCreated_attributes":{"SystemTime":"2026-01-10T01:02:03Z"},
            "Channel":"Security","Computer":"C"},"EventData":{"LogonType":10}}});
        let e = WinEvent::from_json(&v, None).unwrap();
        assert_eq!((e.event_id, e.provider.as_str()), (4624, "P"));
    }

    #[test]
    fn velociraptor_shape() {
        let v = json!({"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":{"Value":4624},
            "TimeCreated":{"SystemTime":1_768_006_923.25},"EventRecordID":99,"Channel":"Security","Computer":"WS1"},
            "EventData":{"LogonType":10,"IpAddress":"198.51.100.7"},"EventTime":"2026-01-10T01:02:03.25Z"});
        let e = WinEvent::from_json(&v, None).unwrap();
        assert_eq!(e.event_id, 4624);
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.timestamp.timestamp(), 1_768_006_923);
        assert_eq!(e.get("IpAddress"), Some("198.51.100.7"));
    }

    #[test]
    fn winlogbeat_shape_nested_and_dotted() {
        let v = json!({"@timestamp":"2026-01-10T01:02:03.000Z","event":{"code":"4625"},
            "winlog":{"event_id":"4625","channel":"Security","computer_name":"DC1","record_id":"77",
            "provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"TargetUserName":"admin","LogonType":"3"}},
            "log":{"level":"information"}});
        let e = WinEvent::from_json(&v, None).unwrap();
        assert_eq!(
            (e.event_id, e.computer.as_str(), e.record_id, e.level),
            (4625, "DC1", Some(77), Some(4))
        );
        assert_eq!(e.get("TargetUserName"), Some("admin"));
        let dotted = json!({"@timestamp":"2026-01-10T01:02:03Z","winlog.event_id":4624,"winlog.channel":"Security",
            "winlog.event_data":{"LogonType":"2"}});
        let e = WinEvent::from_json(&dotted, None).unwrap();
        assert_eq!((e.event_id, e.channel.as_str()), (4624, "Security"));
        assert_eq!(e.get("LogonType"), Some("2"));
    }

    #[test]
    fn other_json_is_not_an_event() {
        assert!(
            WinEvent::from_json(&json!({"ts":1,"uid":"C1","id.orig_h":"10.0.0.1"}), None).is_none()
        );
        assert!(WinEvent::from_json(&json!([1, 2]), None).is_none());
        // A System object without an EventID is not usable.
        assert!(WinEvent::from_json(&json!({"System":{"Channel":"x"}}), None).is_none());
    }
}
