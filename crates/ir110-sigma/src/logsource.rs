//! Log sources: a rule's `logsource` and where records of it come from.
//!
//! The mapping is data (`data/logsources.yml`, embedded): Sigma `product`/`service`/`category`
//! to channels, EventIDs and field renames. [`LogSourceMap::resolve`] turns a rule's log source
//! into the *variants* it is compiled for; the rule set indexes each variant by channel and
//! EventID.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

use crate::yaml::{Node, parse_documents};

/// A rule's `logsource` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    /// `product`, e.g. `windows`.
    pub product: Option<String>,
    /// `category`, e.g. `process_creation`.
    pub category: Option<String>,
    /// `service`, e.g. `security`.
    pub service: Option<String>,
    /// `definition`, free text.
    pub definition: Option<String>,
}

/// One place a rule's records come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Variant {
    /// The channel (`None`: any channel).
    pub channel: Option<String>,
    /// The EventIDs (empty: any).
    pub event_ids: Vec<u32>,
    /// The field rename table, by name in [`LogSourceMap::fieldmaps`].
    pub fieldmap: Option<String>,
}

/// The outcome of resolving a log source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// The rule applies to these variants.
    Variants(Vec<Variant>),
    /// The log source names a service or category no record of its product can carry.
    Unmapped(String),
}

/// The log-source mapping table.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogSourceMap {
    services: HashMap<(String, String), Vec<String>>,
    categories: HashMap<(String, String), Vec<Variant>>,
    fieldmaps: HashMap<String, HashMap<String, String>>,
}

/// Fields of the Windows `System` element, kept as they are by every field map.
const SYSTEM_FIELDS: &[&str] = &[
    "EventID",
    "Channel",
    "Computer",
    "Provider_Name",
    "Provider_Guid",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "EventRecordID",
    "Security_UserID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "TimeCreated_SystemTime",
    "Version",
];

/// The embedded mapping.
pub(crate) static BUILTIN: LazyLock<LogSourceMap> = LazyLock::new(|| {
    // The file is part of the crate and tested; an unreadable table degrades to "no mapping".
    LogSourceMap::from_yaml(include_str!("../data/logsources.yml")).unwrap_or_default()
});

fn strings(n: Option<&Node>) -> Vec<String> {
    match n {
        Some(n) => match n.as_seq() {
            Some(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            None => n.as_str().map(|s| vec![s.to_owned()]).unwrap_or_default(),
        },
        None => Vec::new(),
    }
}

impl LogSourceMap {
    /// Reads the table; `Err` with a description when it is malformed.
    pub fn from_yaml(text: &str) -> Result<LogSourceMap, String> {
        let docs = parse_documents(text).map_err(|e| e.message)?;
        let root = docs.first().ok_or("empty mapping file")?;
        let mut map = LogSourceMap::default();
        let products = root
            .get("products")
            .and_then(Node::as_map)
            .ok_or("no `products`")?;
        for (pk, pv) in products {
            let product = pk.as_str().ok_or("product is not a scalar")?.to_owned();
            for (sk, sv) in pv.get("services").and_then(Node::as_map).unwrap_or(&[]) {
                let service = sk.as_str().ok_or("service is not a scalar")?;
                map.services
                    .insert((product.clone(), service.to_owned()), strings(Some(sv)));
            }
            for (ck, cv) in pv.get("categories").and_then(Node::as_map).unwrap_or(&[]) {
                let category = ck.as_str().ok_or("category is not a scalar")?;
                let mut variants = Vec::new();
                for v in cv.as_seq().ok_or("category variants must be a list")? {
                    variants.push(Variant {
                        channel: v.get("channel").and_then(Node::as_str).map(str::to_owned),
                        event_ids: strings(v.get("event_ids"))
                            .iter()
                            .map(|s| s.parse::<u32>().map_err(|e| e.to_string()))
                            .collect::<Result<_, _>>()?,
                        fieldmap: v.get("fieldmap").and_then(Node::as_str).map(str::to_owned),
                    });
                }
                map.categories
                    .insert((product.clone(), category.to_owned()), variants);
            }
        }
        for (fk, fv) in root.get("fieldmaps").and_then(Node::as_map).unwrap_or(&[]) {
            let name = fk.as_str().ok_or("fieldmap name is not a scalar")?;
            let mut m = HashMap::new();
            for (a, b) in fv.as_map().ok_or("fieldmap must be a mapping")? {
                if let (Some(a), Some(b)) = (a.as_str(), b.as_str()) {
                    m.insert(a.to_owned(), b.to_owned());
                }
            }
            for f in SYSTEM_FIELDS {
                m.entry((*f).to_owned()).or_insert_with(|| (*f).to_owned());
            }
            map.fieldmaps.insert(name.to_owned(), m);
        }
        for vs in map.categories.values() {
            for v in vs {
                if let Some(f) = &v.fieldmap
                    && !map.fieldmaps.contains_key(f)
                {
                    return Err(format!("unknown fieldmap `{f}`"));
                }
            }
        }
        Ok(map)
    }

    /// The rename for a field under a field map (`None`: the field has no mapping there).
    pub fn map_field(&self, fieldmap: &str, field: &str) -> Option<String> {
        self.fieldmaps.get(fieldmap)?.get(field).cloned()
    }

    /// The variants a log source is compiled for.
    pub fn resolve(&self, ls: &LogSource) -> Resolution {
        let product = ls.product.as_deref().map(str::to_ascii_lowercase);
        let key = |p: &str, s: &str| (p.to_owned(), s.to_ascii_lowercase());
        let service_channels = match (&product, &ls.service) {
            (Some(p), Some(s)) => self.services.get(&key(p, s)),
            _ => None,
        };
        let lookup_product = product.as_deref().unwrap_or("any");
        let category_variants = ls
            .category
            .as_ref()
            .and_then(|c| self.categories.get(&key(lookup_product, c)));
        let is_windows = product.as_deref() == Some("windows");
        match (category_variants, service_channels) {
            (Some(vs), Some(chs)) => {
                let kept: Vec<Variant> = vs
                    .iter()
                    .filter(|v| v.channel.as_ref().is_none_or(|c| chs.contains(c)))
                    .cloned()
                    .collect();
                Resolution::Variants(if kept.is_empty() { vs.clone() } else { kept })
            }
            (Some(vs), None) => Resolution::Variants(vs.clone()),
            (None, Some(chs)) if ls.category.is_none() || !is_windows => Resolution::Variants(
                chs.iter()
                    .map(|c| Variant {
                        channel: Some(c.clone()),
                        ..Variant::default()
                    })
                    .collect(),
            ),
            (None, Some(_)) | (None, None) => {
                if is_windows && let Some(c) = &ls.category {
                    return Resolution::Unmapped(format!("category `{c}`"));
                }
                if is_windows && let Some(s) = &ls.service {
                    return Resolution::Unmapped(format!("service `{s}`"));
                }
                Resolution::Variants(vec![Variant::default()])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(p: Option<&str>, c: Option<&str>, s: Option<&str>) -> LogSource {
        LogSource {
            product: p.map(Into::into),
            category: c.map(Into::into),
            service: s.map(Into::into),
            definition: None,
        }
    }

    #[test]
    fn builtin_table_reads() {
        assert!(LogSourceMap::from_yaml(include_str!("../data/logsources.yml")).is_ok());
        let Resolution::Variants(v) =
            BUILTIN.resolve(&ls(Some("windows"), Some("process_creation"), None))
        else {
            panic!("process_creation must map");
        };
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].event_ids, vec![4688]);
        assert_eq!(
            BUILTIN.map_field("security_4688", "Image").as_deref(),
            Some("NewProcessName")
        );
        assert_eq!(
            BUILTIN.map_field("security_4688", "EventID").as_deref(),
            Some("EventID")
        );
        assert_eq!(BUILTIN.map_field("security_4688", "Hashes"), None);
    }

    #[test]
    fn services_and_unmapped() {
        let Resolution::Variants(v) = BUILTIN.resolve(&ls(Some("windows"), None, Some("security")))
        else {
            panic!()
        };
        assert_eq!(v[0].channel.as_deref(), Some("Security"));
        assert!(matches!(
            BUILTIN.resolve(&ls(Some("windows"), Some("file_access"), None)),
            Resolution::Unmapped(_)
        ));
        assert_eq!(
            BUILTIN.resolve(&ls(Some("linux"), Some("process_creation"), None)),
            Resolution::Variants(vec![Variant::default()])
        );
        assert_eq!(
            BUILTIN.resolve(&ls(Some("windows"), None, None)),
            Resolution::Variants(vec![Variant::default()])
        );
    }
}
