//! A direct deserializer from the `evtx` crate's JSON rendering of a record to [`WinEvent`].
//!
//! Going through `serde_json::Value` builds a map per element and a string per attribute only to
//! throw them away; on a busy run that allocation was a quarter of the CPU time. This walks the
//! JSON once with serde visitors and keeps only what [`WinEvent`] holds. It reads exactly the
//! shape the reader asks the crate for (`#attributes` not separated); the general,
//! `Value`-based [`WinEvent::from_json`] remains for JSON exports, and a test checks that both
//! give the same events.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::WinEvent;
use crate::win_event::{parse_time_str, repeated};

/// Parses one record's JSON; `Ok(None)` when it has no usable `System/EventID` or time.
pub(crate) fn from_evtx_json(
    bytes: &[u8],
    fallback_time: Option<DateTime<Utc>>,
) -> Result<Option<WinEvent>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parts = de.deserialize_map(RootVisitor)?;
    de.end()?;
    Ok(parts.and_then(|p| p.into_event(fallback_time)))
}

/// What the record's JSON gave.
#[derive(Default)]
struct Parts {
    event_id: Option<String>,
    provider: Option<String>,
    provider_guid: Option<String>,
    event_source_name: Option<String>,
    time: Option<String>,
    computer: Option<String>,
    channel: Option<String>,
    record_id: Option<String>,
    level: Option<String>,
    system: Vec<(String, String)>,
    data: Vec<(String, String)>,
}

impl Parts {
    fn into_event(self, fallback_time: Option<DateTime<Utc>>) -> Option<WinEvent> {
        let event_id = u32::try_from(parse_int(self.event_id.as_deref()?)?).ok()?;
        let timestamp = self
            .time
            .as_deref()
            .and_then(parse_time_str)
            .or(fallback_time)?;
        let mut system = self.system;
        if let Some(g) = self.provider_guid {
            system.push(("Provider_Guid".to_owned(), g));
        }
        if let Some(s) = self.event_source_name {
            system.push(("Provider_EventSourceName".to_owned(), s));
        }
        if let Some(t) = self.time {
            system.push(("TimeCreated_SystemTime".to_owned(), t));
        }
        system.sort();
        Some(WinEvent {
            timestamp,
            computer: self.computer.unwrap_or_default(),
            channel: self.channel.unwrap_or_default(),
            provider: self.provider.unwrap_or_default(),
            event_id,
            record_id: self
                .record_id
                .as_deref()
                .and_then(parse_int)
                .and_then(|n| u64::try_from(n).ok()),
            level: self
                .level
                .as_deref()
                .and_then(parse_int)
                .and_then(|n| u8::try_from(n).ok()),
            system,
            repeated: repeated(&self.data),
            data: self.data,
            line: None,
            recovered: false,
        })
    }
}

/// A decimal or `0x` integer.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `{"Event": {…}}`.
struct RootVisitor;

impl<'de> Visitor<'de> for RootVisitor {
    type Value = Option<Parts>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parts = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "Event" {
                parts = Some(map.next_value_seed(EventSeed)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(parts)
    }
}

/// The `Event` element: `System`, `EventData`, `UserData`.
struct EventSeed;

impl<'de> DeserializeSeed<'de> for EventSeed {
    type Value = Parts;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed {
    type Value = Parts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Event element")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts, A::Error> {
        let mut parts = Parts::default();
        let mut event_data = Vec::new();
        let mut user_data = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "System" => map.next_value_seed(SystemSeed(&mut parts))?,
                "EventData" => map.next_value_seed(Flatten {
                    name: "EventData",
                    out: &mut event_data,
                })?,
                "UserData" => map.next_value_seed(Flatten {
                    name: "UserData",
                    out: &mut user_data,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // `EventData` before `UserData`, as the `Value`-based reader orders them.
        event_data.append(&mut user_data);
        parts.data = event_data;
        Ok(parts)
    }
}

/// The `System` element.
struct SystemSeed<'p>(&'p mut Parts);

impl<'de> DeserializeSeed<'de> for SystemSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SystemSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the System element")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "EventID" => p.event_id = map.next_value::<Text>()?.0,
                "Computer" => p.computer = map.next_value::<Text>()?.0,
                "Channel" => p.channel = map.next_value::<Text>()?.0,
                "EventRecordID" => p.record_id = map.next_value::<Text>()?.0,
                "Level" => {
                    let v = map.next_value::<Text>()?.0;
                    p.level = v;
                }
                "Version" | "Task" | "Opcode" | "Keywords" => {
                    if let Some(v) = map.next_value::<Text>()?.0 {
                        p.system.push((key.into_owned(), v));
                    }
                }
                "Provider" => {
                    let a = map.next_value::<Attributes>()?.0;
                    for (k, v) in a {
                        match k.as_str() {
                            "Name" => p.provider = Some(v),
                            "Guid" => p.provider_guid = Some(v),
                            "EventSourceName" => p.event_source_name = Some(v),
                            _ => {}
                        }
                    }
                }
                "TimeCreated" => {
                    let a = map.next_value::<Attributes>()?.0;
                    p.time = a
                        .into_iter()
                        .find(|(k, _)| k == "SystemTime")
                        .map(|(_, v)| v);
                }
                "Execution" | "Security" | "Correlation" => {
                    let wanted: &[&str] = match key.as_ref() {
                        "Execution" => &["ProcessID", "ThreadID"],
                        "Security" => &["UserID"],
                        _ => &["ActivityID", "RelatedActivityID"],
                    };
                    let a = map.next_value::<Attributes>()?.0;
                    for name in wanted {
                        if let Some((_, v)) = a.iter().find(|(k, _)| k == name) {
                            p.system.push((format!("{key}_{name}"), v.clone()));
                        }
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The text of an element: a scalar, or `#text` of an object with attributes; `None` for null.
struct Text(Option<String>);

impl<'de> de::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element's text")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(Some(float_text(v))))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        let mut first = None;
        while let Some(t) = seq.next_element::<Text>()? {
            if first.is_none() {
                first = t.0;
            }
        }
        Ok(Text(first))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        let mut text = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "#text" {
                text = map.next_value::<Text>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Text(text))
    }
}

/// A number as `serde_json` writes it (`1.0`, `2.5`).
fn float_text(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
}

/// The `#attributes` of an element, as text.
struct Attributes(Vec<(String, String)>);

impl<'de> de::Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        d.deserialize_any(AttributesVisitor { inner: false })
    }
}

/// `inner`: reading the `#attributes` object itself rather than the element.
struct AttributesVisitor {
    inner: bool,
}

impl<'de> DeserializeSeed<'de> for AttributesVisitor {
    type Value = Attributes;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Attributes, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttributesVisitor {
    type Value = Attributes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element with attributes")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Attributes, E> {
        Ok(Attributes(Vec::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attributes, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Attributes(Vec::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.inner {
                if let Some(v) = map.next_value::<Text>()?.0 {
                    out.push((key.into_owned(), v));
                }
            } else if key == "#attributes" {
                out = map.next_value_seed(AttributesVisitor { inner: true })?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Attributes(out))
    }
}

/// Flattens `EventData`/`UserData` into `out`, with the rules of [`WinEvent`]'s `data`.
struct Flatten<'o, 'n> {
    name: &'n str,
    out: &'o mut Vec<(String, String)>,
}

impl<'de> DeserializeSeed<'de> for Flatten<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("event data")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.out.push((self.name.to_owned(), v.to_owned()));
        Ok(())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.out.push((self.name.to_owned(), v));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.out.push((self.name.to_owned(), v.to_string()));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.out.push((self.name.to_owned(), v.to_string()));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.out.push((self.name.to_owned(), float_text(v)));
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push((self.name.to_owned(), v.to_string()));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Flatten {
                name: self.name,
                out: self.out,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // `<Data Name="X">text</Data>` arrives as {"#attributes":{"Name":"X"},"#text":"text"}:
        // the attributes come first, so the name is known when the text arrives.
        let mut attr_name: Option<String> = None;
        let mut children: Vec<(String, String)> = Vec::new();
        let mut text: Option<Vec<(String, String)>> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "#attributes" {
                let attrs = map.next_value_seed(AttributesVisitor { inner: true })?.0;
                attr_name = attrs.into_iter().find(|(k, _)| k == "Name").map(|(_, v)| v);
            } else if key == "#text" {
                let mut t = Vec::new();
                let name = attr_name.as_deref().unwrap_or(self.name);
                map.next_value_seed(Flatten { name, out: &mut t })?;
                text = Some(t);
            } else if key.starts_with('#') || key.ends_with("_attributes") || key == "xmlns" {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(Flatten {
                    name: &key,
                    out: &mut children,
                })?;
            }
        }
        // An element with text is a value; its other children are not data.
        match text {
            Some(mut t) => self.out.append(&mut t),
            None => self.out.append(&mut children),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_event_as_the_value_path() {
        let json = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Service Control Manager","Guid":"{555908d1}","EventSourceName":"Service Control Manager"}},
            "EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Version":0,"Level":4,"Task":0,"Opcode":0,"Keywords":"0x8080000000000000",
            "TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:25.123456Z"}},"EventRecordID":3254,"Correlation":null,
            "Execution":{"#attributes":{"ProcessID":516,"ThreadID":2344}},"Channel":"System","Computer":"PC01.example.corp","Security":{"#attributes":{"UserID":"S-1-5-18"}}},
            "EventData":{"ServiceName":"evil","ImagePath":"C:\\x.exe","Rate":1.5,"Flag":true,"Empty":null,
              "Data":[{"#attributes":{"Name":"Named"},"#text":"n"},"u1",7]},
            "UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"bob"}}}}"##;
        let direct = from_evtx_json(json.as_bytes(), None).unwrap().unwrap();
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut via_value = WinEvent::from_json(&value, None).unwrap();
        // Without serde_json's `preserve_order`, `Value` maps iterate in key order; the direct
        // path keeps document order. Compare as sorted (stable, so `Data` keeps its order).
        let mut sorted = direct.clone();
        sorted.data.sort_by(|a, b| a.0.cmp(&b.0));
        via_value.data.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(sorted, via_value);
        assert_eq!(direct.repeated, via_value.repeated);
        assert_eq!(direct.get("Rate"), Some("1.5"));
        assert_eq!(
            from_evtx_json(b"{\"Event\":{\"System\":{}}}", None).unwrap(),
            None
        );
        assert!(from_evtx_json(b"{\"Event\":", None).is_err());
    }

    /// Every record of the real samples gives the same event by both paths.
    #[test]
    fn same_events_on_real_samples() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/evtx/EVTX-ATTACK-SAMPLES");
        if !dir.exists() {
            eprintln!("skipped: {} is missing", dir.display());
            return;
        }
        let (files, _) = crate::discover(&[dir]);
        let mut compared = 0;
        for f in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        {
            let mut parser = evtx::EvtxParser::from_path(f)
                .unwrap()
                .with_configuration(evtx::ParserSettings::new().indent(false));
            for r in parser.records_json() {
                let r = r.unwrap();
                let direct = from_evtx_json(r.data.as_bytes(), None).unwrap().unwrap();
                let value: serde_json::Value = serde_json::from_str(&r.data).unwrap();
                let mut via_value = WinEvent::from_json(&value, None).unwrap();
                let mut sorted = direct.clone();
                sorted.data.sort_by(|a, b| a.0.cmp(&b.0));
                via_value.data.sort_by(|a, b| a.0.cmp(&b.0));
                assert_eq!(
                    sorted,
                    via_value,
                    "{} record {}",
                    f.display(),
                    r.event_record_id
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 8255);
    }
}
