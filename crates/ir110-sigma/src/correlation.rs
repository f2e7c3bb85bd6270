//! Sigma correlation rules (`event_count`, `value_count`, `temporal`, `temporal_ordered`).
//!
//! A [`Correlator`] is fed every match of a rule that some correlation refers to, with the
//! record's time and the record itself (for the `group-by` and `value_count` fields). It keeps
//! a compact entry per such match — not the record — and evaluates the correlations in
//! [`Correlator::finish`], so input may arrive in any order (files are read in parallel).
//!
//! Windows are anchored at each event: for every group, a window starts at an event and spans
//! `timespan`; when its condition holds, one [`CorrelationMatch`] is emitted and the next
//! window starts after it (so a burst gives one alert, not one per event).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::record::{FieldValue, Record};
use crate::rule::{CorrelationKind, CountOp, RawCorrelation, Rule};
use crate::ruleset::{RuleMatch, RuleRef, RuleSet};

/// A loaded correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Metadata (title, id, level, tags, …); `logsource` is empty.
    pub meta: Rule,
    /// The correlation type.
    pub kind: CorrelationKind,
    /// The rules it correlates, in the order listed.
    pub rules: Vec<RuleRef>,
    /// `group-by` fields (alias names where aliases are defined).
    pub group_by: Vec<String>,
    /// `timespan`.
    pub timespan: Duration,
    /// The threshold(s), all of which must hold.
    pub condition: Vec<(CountOp, f64)>,
    /// `value_count`'s field.
    pub field: Option<String>,
    /// Whether the referenced rules' own matches are reported too.
    pub generate: bool,
    /// Per group-by field, per referenced rule, the field to read (from `aliases`).
    fields_per_rule: Vec<Vec<String>>,
}

impl Correlation {
    pub(crate) fn new(raw: RawCorrelation, rules: Vec<RuleRef>, all: &[Rule]) -> Correlation {
        let fields_per_rule = rules
            .iter()
            .map(|r| {
                let rule = all.get(r.index());
                raw.group_by
                    .iter()
                    .map(|g| {
                        raw.aliases
                            .get(g)
                            .and_then(|per| {
                                rule.and_then(|rule| {
                                    [&rule.name, &rule.id]
                                        .into_iter()
                                        .flatten()
                                        .find_map(|k| per.get(k))
                                })
                            })
                            .cloned()
                            .unwrap_or_else(|| g.clone())
                    })
                    .collect()
            })
            .collect();
        Correlation {
            meta: raw.meta,
            kind: raw.kind,
            rules,
            group_by: raw.group_by,
            timespan: Duration::seconds(raw.timespan_secs),
            condition: raw.condition,
            field: raw.field,
            generate: raw.generate,
            fields_per_rule,
        }
    }

    fn holds(&self, n: usize) -> bool {
        let n = n as f64;
        if self.condition.is_empty() {
            // temporal without a condition: every referenced rule.
            return n >= self.rules.len() as f64;
        }
        self.condition.iter().all(|(op, x)| op.test(n, *x))
    }
}

/// One correlation that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatch {
    /// Index into [`RuleSet::correlations`].
    pub correlation: usize,
    /// The correlation's `id`.
    pub rule_id: Option<String>,
    /// The correlation's title.
    pub title: String,
    /// The group-by values, as `(field, value)`.
    pub group: Vec<(String, String)>,
    /// The first event in the window.
    pub first: DateTime<Utc>,
    /// The last event in the window.
    pub last: DateTime<Utc>,
    /// Events in the window, or distinct values for `value_count`, or distinct rules for
    /// the temporal types.
    pub count: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    at: DateTime<Utc>,
    /// Position of the matched rule in the correlation's `rules`.
    rule_pos: usize,
    value: Option<String>,
}

/// Collects matches for correlation rules and evaluates them. See the module documentation.
#[derive(Debug)]
pub struct Correlator<'s> {
    set: &'s RuleSet,
    /// For each rule, the (correlation, position) pairs that refer to it.
    refs: HashMap<RuleRef, Vec<(usize, usize)>>,
    /// Per correlation, per group key, the entries.
    entries: Vec<HashMap<Vec<String>, Vec<Entry>>>,
}

fn text_of(v: Option<FieldValue<'_>>) -> String {
    match v {
        None | Some(FieldValue::Null) => String::new(),
        Some(FieldValue::Str(s)) => s.to_owned(),
        Some(FieldValue::Int(i)) => i.to_string(),
        Some(FieldValue::UInt(u)) => u.to_string(),
        Some(FieldValue::Float(f)) => f.to_string(),
        Some(FieldValue::Bool(b)) => b.to_string(),
        Some(FieldValue::List(l)) => serde_json::Value::Array(l.to_vec()).to_string(),
    }
}

impl<'s> Correlator<'s> {
    /// A correlator for the correlations of a rule set.
    pub fn new(set: &'s RuleSet) -> Correlator<'s> {
        let mut refs: HashMap<RuleRef, Vec<(usize, usize)>> = HashMap::new();
        for (ci, c) in set.correlations().iter().enumerate() {
            for (pos, r) in c.rules.iter().enumerate() {
                refs.entry(*r).or_default().push((ci, pos));
            }
        }
        Correlator {
            set,
            refs,
            entries: vec![HashMap::new(); set.correlations().len()],
        }
    }

    /// Whether any correlation refers to this rule (callers can skip [`observe`](Self::observe)
    /// otherwise).
    pub fn wants(&self, rule: RuleRef) -> bool {
        self.refs.contains_key(&rule)
    }

    /// Records one match of a rule at a time, reading group-by fields from the record.
    pub fn observe(&mut self, m: &RuleMatch<'_>, at: DateTime<Utc>, record: &dyn Record) {
        let Some(targets) = self.refs.get(&m.rule_ref) else {
            return;
        };
        for &(ci, pos) in targets {
            let Some(c) = self.set.correlations().get(ci) else {
                continue;
            };
            let key: Vec<String> = c
                .fields_per_rule
                .get(pos)
                .map(|fs| fs.iter().map(|f| text_of(record.field(f))).collect())
                .unwrap_or_default();
            let value = c.field.as_ref().map(|f| text_of(record.field(f)));
            if let Some(map) = self.entries.get_mut(ci) {
                map.entry(key).or_default().push(Entry {
                    at,
                    rule_pos: pos,
                    value,
                });
            }
        }
    }

    /// Evaluates every correlation over what was observed.
    pub fn finish(self) -> Vec<CorrelationMatch> {
        let mut out = Vec::new();
        for (ci, groups) in self.entries.into_iter().enumerate() {
            let Some(c) = self.set.correlations().get(ci) else {
                continue;
            };
            let mut keys: Vec<_> = groups.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, mut entries) in keys {
                entries.sort_by_key(|e| e.at);
                evaluate(ci, c, &key, &entries, &mut out);
            }
        }
        out.sort_by(|a, b| {
            a.first
                .cmp(&b.first)
                .then(a.correlation.cmp(&b.correlation))
        });
        out
    }
}

fn evaluate(
    ci: usize,
    c: &Correlation,
    key: &[String],
    es: &[Entry],
    out: &mut Vec<CorrelationMatch>,
) {
    let mut i = 0;
    while i < es.len() {
        let end_time = es[i].at + c.timespan;
        let mut j = i;
        while j + 1 < es.len() && es[j + 1].at <= end_time {
            j += 1;
        }
        let window = &es[i..=j];
        let (n, fired) = match c.kind {
            CorrelationKind::EventCount => (window.len(), c.holds(window.len())),
            CorrelationKind::ValueCount => {
                let distinct: HashSet<&str> =
                    window.iter().filter_map(|e| e.value.as_deref()).collect();
                (distinct.len(), c.holds(distinct.len()))
            }
            CorrelationKind::Temporal => {
                let distinct: HashSet<usize> = window.iter().map(|e| e.rule_pos).collect();
                (distinct.len(), c.holds(distinct.len()))
            }
            CorrelationKind::TemporalOrdered => {
                let mut next = 0;
                for e in window {
                    if e.rule_pos == next {
                        next += 1;
                    }
                }
                (next, next == c.rules.len() && c.holds(next))
            }
        };
        if fired {
            out.push(CorrelationMatch {
                correlation: ci,
                rule_id: c.meta.id.clone(),
                title: c.meta.title.clone(),
                group: c
                    .group_by
                    .iter()
                    .cloned()
                    .zip(key.iter().cloned())
                    .collect(),
                first: window[0].at,
                last: window[window.len() - 1].at,
                count: n,
            });
            i = j + 1;
        } else {
            i += 1;
        }
    }
}
