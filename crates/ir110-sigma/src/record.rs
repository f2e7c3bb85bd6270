//! What the engine needs from an event: the [`Record`] contract, and [`JsonRecord`].
//!
//! See [`Record`] for the contract a reader implements.

use std::collections::HashMap;

use serde_json::Value;

/// A field value, borrowed from the record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// Text.
    Str(&'a str),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Present but empty / null.
    Null,
    /// Several values (a JSON array, a repeated element): a test passes if any item passes.
    List(&'a [Value]),
}

impl<'a> FieldValue<'a> {
    /// The value for a JSON value (objects count as null: Sigma compares scalars).
    pub fn from_json(v: &'a Value) -> FieldValue<'a> {
        match v {
            Value::String(s) => FieldValue::Str(s),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    FieldValue::Int(i)
                } else if let Some(u) = n.as_u64() {
                    FieldValue::UInt(u)
                } else {
                    FieldValue::Float(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Array(a) => FieldValue::List(a),
            Value::Null | Value::Object(_) => FieldValue::Null,
        }
    }
}

/// An event as the Sigma engine sees it.
///
/// # Contract
///
/// The engine never parses logs. A reader (EVTX, JSON, anything) implements [`Record`] for its
/// own parsed event type and hands records to [`RuleSet::matches`](crate::RuleSet::matches).
///
/// * **`product`** names the log's product in Sigma terms (`"windows"`, `"linux"`, …). Rules whose
///   `logsource.product` differs never see the record. Rules without a product are filed under
///   their category or service instead (`"webserver"`, `"proxy"`, `"dns"`, `"apache"`): a web
///   server log reader answers `"webserver"`. Rules with no log source at all, and product-less
///   rules that the mapping places on Windows channels (`antivirus`), see every record.
/// * **`field(name)`** returns the value of a field by its *flat* name, the name Sigma rules use:
///   for a Windows event, the `System` elements by their element name (`EventID`, `Channel`,
///   `Computer`, `Level`, `Task`, `Keywords`, `EventRecordID`), attributes as
///   `Element_Attribute` (`Provider_Name`, `Provider_Guid`, `TimeCreated_SystemTime`,
///   `Security_UserID`, `Execution_ProcessID`), and every `EventData`/`UserData` value by its
///   `Name` (or leaf element name for `UserData`). A name with spaces (Defender's
///   `Threat Name`) must also answer without them (`ThreatName`): Sigma rules use that form.
///   The engine strips the usual `Event.System.`/`Event.EventData.` prefixes of rule field
///   names before asking. `Channel` and `EventID` are asked for first, once per record, to pick
///   candidate rules; then the prefilter asks for the fields its automata scan (`Image`,
///   `CommandLine`, …), then the candidate rules ask for theirs.
///   Return `None` for an absent field; `Some(FieldValue::Null)` for a present, empty one is fine
///   (the engine treats an empty string and null alike for `field: null`).
/// * **`for_each_value`** visits every string-like value of the record (numbers rendered as
///   text may be skipped), for keyword (field-less) search. Stop as soon as the callback returns
///   `false`. It is only called for rules with keyword searches whose field tests passed.
///
/// Lookups should be cheap (a hash map or a small vector of borrowed strings): a record asks
/// for a few prefilter fields and meets about ten candidate rules (with all SigmaHQ rules
/// loaded), each asking for a few fields. The engine's only per-record allocation is its
/// candidate list.
pub trait Record {
    /// The Sigma `logsource.product` this record belongs to, e.g. `"windows"`.
    fn product(&self) -> &str;
    /// Field value by flat name, e.g. `"EventID"`, `"Channel"`, `"Image"`, `"CommandLine"`.
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
    /// Every string value, for keyword search; stop early when `f` returns `false`.
    fn for_each_value(&self, f: &mut dyn FnMut(&str) -> bool);
}

/// A [`Record`] over a flat map of JSON values: for tests, JSON inputs and as a reference
/// implementation of the contract.
///
/// [`JsonRecord::from_event_json`] flattens the JSON form of an EVTX event as the `evtx` crate
/// and `evtx_dump` produce it (`{"Event": {"System": …, "EventData": …}}`), as well as plain
/// flat objects (Winlogbeat-style documents keep their own keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonRecord {
    product: String,
    fields: HashMap<String, Value>,
}

impl JsonRecord {
    /// An empty record of a product.
    pub fn new(product: impl Into<String>) -> JsonRecord {
        JsonRecord {
            product: product.into(),
            fields: HashMap::new(),
        }
    }

    /// Sets a field (a later value replaces an earlier one).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.fields.insert(name.into(), value.into());
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> JsonRecord {
        self.insert(name, value);
        self
    }

    /// A record from a JSON object whose keys are already flat field names.
    pub fn from_flat(product: impl Into<String>, object: &serde_json::Map<String, Value>) -> Self {
        let mut r = JsonRecord::new(product);
        for (k, v) in object {
            r.fields.insert(k.clone(), v.clone());
        }
        r
    }

    /// Flattens an event's JSON (evtx crate / `evtx_dump` layout) into flat field names:
    /// `Event.System.Provider.#attributes.Name` becomes `Provider_Name`, `EventID` with
    /// `#text` becomes `EventID`, `EventData` items keep their names, and `UserData` leaves keep
    /// their element names. A JSON object without an `Event` key is flattened the same way from
    /// its root, so nested JSON exports work too. Where two leaves share a name, the first kept
    /// is the one from `System`, then `EventData`, then `UserData`.
    pub fn from_event_json(product: impl Into<String>, value: &Value) -> JsonRecord {
        let mut r = JsonRecord::new(product);
        let root = value.get("Event").unwrap_or(value);
        if let Value::Object(map) = root {
            for key in ["System", "EventData", "UserData"] {
                if let Some(v) = map.get(key) {
                    flatten_into(&mut r.fields, None, v);
                }
            }
            for (k, v) in map {
                if !matches!(
                    k.as_str(),
                    "System" | "EventData" | "UserData" | "#attributes"
                ) {
                    flatten_into(&mut r.fields, Some(k), v);
                }
            }
        }
        r
    }
}

/// Adds the leaves of `value` under flat names. `name` is the element name of `value` itself.
fn flatten_into(out: &mut HashMap<String, Value>, name: Option<&str>, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match k.as_str() {
                    "#attributes" => {
                        if let Value::Object(attrs) = v {
                            for (ak, av) in attrs {
                                let flat = match name {
                                    Some(n) => format!("{n}_{ak}"),
                                    None => ak.clone(),
                                };
                                out.entry(flat).or_insert_with(|| av.clone());
                            }
                        }
                    }
                    "#text" => {
                        if let Some(n) = name {
                            out.entry(n.to_owned()).or_insert_with(|| v.clone());
                        }
                    }
                    _ => flatten_into(out, Some(k), v),
                }
            }
        }
        leaf => {
            if let Some(n) = name {
                if n.contains(' ') {
                    // Defender and a few other providers name their data `Threat Name`; Sigma
                    // rules (and THOR, whose conventions SigmaHQ tests against) use `ThreatName`.
                    out.entry(n.replace(' ', ""))
                        .or_insert_with(|| leaf.clone());
                }
                out.entry(n.to_owned()).or_insert_with(|| leaf.clone());
            }
        }
    }
}

impl Record for JsonRecord {
    fn product(&self) -> &str {
        &self.product
    }

    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.fields.get(name).map(FieldValue::from_json)
    }

    fn for_each_value(&self, f: &mut dyn FnMut(&str) -> bool) {
        for v in self.fields.values() {
            match v {
                Value::String(s) if !f(s) => return,
                Value::Array(items) => {
                    for s in items.iter().filter_map(Value::as_str) {
                        if !f(s) {
                            return;
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_evtx_json() {
        let v = json!({"Event": {"#attributes": {"xmlns": "x"}, "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:25.172Z"}},
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}},
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}}});
        let r = JsonRecord::from_event_json("windows", &v);
        assert_eq!(
            r.field("Provider_Name"),
            Some(FieldValue::Str("Microsoft-Windows-Sysmon"))
        );
        assert_eq!(r.field("EventID"), Some(FieldValue::Int(1)));
        assert_eq!(
            r.field("TimeCreated_SystemTime"),
            Some(FieldValue::Str("2019-03-19T23:34:25.172Z"))
        );
        assert_eq!(
            r.field("Security_UserID"),
            Some(FieldValue::Str("S-1-5-18"))
        );
        assert_eq!(
            r.field("CommandLine"),
            Some(FieldValue::Str("cmd /c whoami"))
        );
        assert_eq!(r.field("xmlns"), None);
        let v2 = json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}}}});
        let r2 = JsonRecord::from_event_json("windows", &v2);
        assert_eq!(r2.field("EventID"), Some(FieldValue::Int(7045)));
        assert_eq!(r2.field("EventID_Qualifiers"), Some(FieldValue::Int(16384)));
    }

    #[test]
    fn for_each_value_stops_early() {
        let r = JsonRecord::new("windows")
            .with("a", "x")
            .with("b", "y")
            .with("c", 3);
        let mut seen = 0;
        r.for_each_value(&mut |_| {
            seen += 1;
            false
        });
        assert_eq!(seen, 1);
    }
}
