//! [`WinEvent`] as a Sigma [`Record`]: the contract of `ir110-sigma` (flat field names as Sigma
//! rules use them, `System` attributes as `Element_Attribute`).

use ir110_sigma::{FieldValue, Record};

use crate::WinEvent;

impl Record for WinEvent {
    fn product(&self) -> &str {
        "windows"
    }

    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        match name {
            "EventID" => return Some(FieldValue::Int(i64::from(self.event_id))),
            "Channel" => return Some(FieldValue::Str(&self.channel)),
            "Computer" => return Some(FieldValue::Str(&self.computer)),
            "Provider_Name" => return Some(FieldValue::Str(&self.provider)),
            "EventRecordID" => return self.record_id.map(FieldValue::UInt),
            "Level" => return self.level.map(|l| FieldValue::Int(i64::from(l))),
            _ => {}
        }
        if let Some((_, values)) = self.repeated.iter().find(|(k, _)| k == name) {
            return Some(FieldValue::List(values));
        }
        if let Some((_, v)) = self.data.iter().find(|(k, _)| k == name) {
            return Some(if v.is_empty() {
                FieldValue::Null
            } else {
                FieldValue::Str(v)
            });
        }
        if let Some((_, v)) = self.system.iter().find(|(k, _)| k == name) {
            return Some(FieldValue::Str(v));
        }
        // Defender names its data with spaces (`Threat Name`); Sigma rules write `ThreatName`.
        self.data
            .iter()
            .find(|(k, _)| k.contains(' ') && same_without_spaces(k, name))
            .map(|(_, v)| FieldValue::Str(v))
    }

    fn for_each_value(&self, f: &mut dyn FnMut(&str) -> bool) {
        for (_, v) in &self.data {
            if !f(v) {
                return;
            }
        }
        for v in [&self.channel, &self.computer, &self.provider] {
            if !f(v) {
                return;
            }
        }
        for (_, v) in &self.system {
            if !f(v) {
                return;
            }
        }
    }
}

/// Whether `spaced` equals `name` once its spaces are removed.
fn same_without_spaces(spaced: &str, name: &str) -> bool {
    spaced.chars().filter(|c| *c != ' ').eq(name.chars())
}
