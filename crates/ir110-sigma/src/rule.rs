//! Reading rule documents: metadata, log source, and correlation sections.
//!
//! A rule file holds one or more YAML documents. A document with a `correlation` key is a
//! correlation rule; one with `action: global` is a Sigma v1 collection header merged into the
//! documents after it; anything else is a detection rule. Unknown keys are allowed (rule sets
//! add their own, e.g. Hayabusa's `details`, `ruletype`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ir110_model::Severity;
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::logsource::LogSource;
use crate::yaml::{Node, NodeKind};

/// A rule's metadata. Detection logic is compiled separately and not exposed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// The Sigma `id` (a UUID in SigmaHQ rules).
    pub id: Option<String>,
    /// The Sigma `name` (a stable name correlations may refer to).
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level`; `None` when absent or not a known level (a warning was reported).
    pub level: Option<Severity>,
    /// `status` (`stable`, `test`, `experimental`, `deprecated`, `unsupported`).
    pub status: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `tags`, e.g. `attack.t1059.001`.
    pub tags: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `fields` the author suggests showing.
    pub fields: Vec<String>,
    /// `logsource` (empty for correlations).
    pub logsource: LogSource,
    /// Hayabusa's `details`: a template of the fields to show (`Cmdline: %CommandLine%`).
    pub details: Option<String>,
    /// The file the rule came from (`builtin:<name>` for embedded rules).
    pub path: PathBuf,
}

impl Rule {
    /// The level, `Info` when the rule gives none.
    pub fn severity(&self) -> Severity {
        self.level.unwrap_or(Severity::Info)
    }

    /// The MITRE ATT&CK technique ids among the tags (`attack.t1059.001` → `T1059.001`).
    pub fn attack_ids(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| {
                let rest = t.strip_prefix("attack.")?;
                let mut chars = rest.chars();
                let first = chars.next()?;
                (matches!(first, 't' | 'T') && chars.next().is_some_and(|c| c.is_ascii_digit()))
                    .then(|| rest.to_ascii_uppercase())
            })
            .collect()
    }
}

fn text(n: Option<&Node>) -> Option<String> {
    let n = n?;
    if n.is_null() {
        return None;
    }
    n.as_str().map(str::to_owned)
}

fn list(n: Option<&Node>) -> Vec<String> {
    match n {
        None => Vec::new(),
        Some(n) => match &n.kind {
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            NodeKind::Scalar { .. } if !n.is_null() => {
                n.as_str().map(|s| vec![s.to_owned()]).unwrap_or_default()
            }
            _ => Vec::new(),
        },
    }
}

/// Reads the metadata common to rules and correlations.
pub(crate) fn read_meta(doc: &Node, path: &Path, diags: &mut Vec<Diagnostic>) -> Rule {
    let level = match doc.get("level") {
        Some(n) if !n.is_null() => match n.as_str().map(str::parse::<Severity>) {
            Some(Ok(l)) => Some(l),
            _ => {
                diags.push(Diagnostic::new(
                    Code::S014,
                    path,
                    Some(n.loc),
                    format!(
                        "unknown level `{}`; expected informational, low, medium, high or critical",
                        n.as_str().unwrap_or("?")
                    ),
                ));
                None
            }
        },
        _ => None,
    };
    if let Some(s) = doc.get("status").and_then(Node::as_str)
        && !matches!(
            s,
            "stable" | "test" | "experimental" | "deprecated" | "unsupported"
        )
    {
        diags.push(Diagnostic::new(
            Code::S014,
            path,
            doc.get("status").map(|n| n.loc),
            format!("unknown status `{s}`"),
        ));
    }
    let ls = doc.get("logsource");
    let lsf = |k: &str| text(ls.and_then(|l| l.get(k)));
    let author = match doc.get("author") {
        Some(n) if n.as_seq().is_some() => Some(list(Some(n)).join(", ")),
        other => text(other),
    };
    Rule {
        id: text(doc.get("id")),
        name: text(doc.get("name")),
        title: text(doc.get("title")).unwrap_or_default(),
        level,
        status: text(doc.get("status")),
        description: text(doc.get("description")),
        author,
        date: text(doc.get("date")),
        modified: text(doc.get("modified")),
        references: list(doc.get("references")),
        tags: list(doc.get("tags")),
        falsepositives: list(doc.get("falsepositives")),
        fields: list(doc.get("fields")),
        logsource: LogSource {
            product: lsf("product"),
            category: lsf("category"),
            service: lsf("service"),
            definition: lsf("definition"),
        },
        details: text(doc.get("details")),
        path: path.to_owned(),
    }
}

/// Merges a Sigma v1 collection's global document into a rule document (rule wins).
pub(crate) fn merge_global(global: &Node, doc: &Node) -> Node {
    match (&global.kind, &doc.kind) {
        (NodeKind::Map(g), NodeKind::Map(d)) => {
            let mut out: Vec<(Node, Node)> = Vec::with_capacity(g.len() + d.len());
            for (k, v) in d {
                let merged = match g.iter().find(|(gk, _)| gk.as_str() == k.as_str()) {
                    Some((_, gv)) => merge_global(gv, v),
                    None => v.clone(),
                };
                out.push((k.clone(), merged));
            }
            for (k, v) in g {
                if k.as_str() != Some("action")
                    && !d.iter().any(|(dk, _)| dk.as_str() == k.as_str())
                {
                    out.push((k.clone(), v.clone()));
                }
            }
            Node {
                kind: NodeKind::Map(out),
                loc: doc.loc,
            }
        }
        _ => doc.clone(),
    }
}

/// The kinds of correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKind {
    /// Number of matching events in the window.
    EventCount,
    /// Number of distinct values of a field in the window.
    ValueCount,
    /// All referenced rules matched in the window, in any order.
    Temporal,
    /// All referenced rules matched in the window, in the order listed.
    TemporalOrdered,
}

/// A comparison in a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CountOp {
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `==`.
    Eq,
    /// `!=`.
    Neq,
}

impl CountOp {
    /// Whether `n op x`.
    pub fn test(self, n: f64, x: f64) -> bool {
        match self {
            CountOp::Gt => n > x,
            CountOp::Gte => n >= x,
            CountOp::Lt => n < x,
            CountOp::Lte => n <= x,
            CountOp::Eq => n == x,
            CountOp::Neq => n != x,
        }
    }
}

/// A parsed correlation section (rule references still by name).
#[derive(Debug, Clone)]
pub(crate) struct RawCorrelation {
    pub meta: Rule,
    pub kind: CorrelationKind,
    pub rules: Vec<(String, Location)>,
    pub group_by: Vec<String>,
    pub timespan_secs: i64,
    pub condition: Vec<(CountOp, f64)>,
    pub field: Option<String>,
    pub aliases: HashMap<String, HashMap<String, String>>,
    pub generate: bool,
}

/// Parses `30s`, `5m`, `1h`, `2d`, `1w` into seconds.
pub(crate) fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        "M" => 2_592_000,
        "y" => 31_536_000,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// Parses a correlation document. `None` when an error was reported.
pub(crate) fn read_correlation(
    doc: &Node,
    corr: &Node,
    path: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<RawCorrelation> {
    let meta = read_meta(doc, path, diags);
    let err = |diags: &mut Vec<Diagnostic>, loc: Location, msg: String| {
        let mut d = Diagnostic::new(Code::S015, path, Some(loc), msg);
        d.rule_id = meta.id.clone();
        diags.push(d);
        None
    };
    if corr.as_map().is_none() {
        return err(diags, corr.loc, "`correlation` must be a mapping".into());
    }
    let kind = match corr.get("type").and_then(Node::as_str) {
        Some("event_count") => CorrelationKind::EventCount,
        Some("value_count") => CorrelationKind::ValueCount,
        Some("temporal") => CorrelationKind::Temporal,
        Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
        other => {
            return err(
                diags,
                corr.get("type").map_or(corr.loc, |n| n.loc),
                format!(
                    "correlation type `{}` is not event_count, value_count, temporal or temporal_ordered",
                    other.unwrap_or("")
                ),
            );
        }
    };
    let rules: Vec<(String, Location)> = match corr.get("rules") {
        Some(n) => match &n.kind {
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(|s| (s.to_owned(), i.loc)))
                .collect(),
            NodeKind::Scalar { text, .. } => vec![(text.clone(), n.loc)],
            NodeKind::Map(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    if rules.is_empty() {
        return err(diags, corr.loc, "a correlation needs `rules`".into());
    }
    let Some(ts_node) = corr.get("timespan").or_else(|| corr.get("timeframe")) else {
        return err(diags, corr.loc, "a correlation needs `timespan`".into());
    };
    let Some(timespan_secs) = ts_node.as_str().and_then(parse_timespan) else {
        return err(
            diags,
            ts_node.loc,
            format!(
                "`{}` is not a timespan like 5m",
                ts_node.as_str().unwrap_or("")
            ),
        );
    };
    let mut condition = Vec::new();
    let mut field = None;
    if let Some(c) = corr.get("condition") {
        let Some(entries) = c.as_map() else {
            return err(
                diags,
                c.loc,
                "`condition` must be a mapping like {gte: 10}".into(),
            );
        };
        for (k, v) in entries {
            let op = match k.as_str() {
                Some("gt") => CountOp::Gt,
                Some("gte") => CountOp::Gte,
                Some("lt") => CountOp::Lt,
                Some("lte") => CountOp::Lte,
                Some("eq") => CountOp::Eq,
                Some("neq") => CountOp::Neq,
                Some("field") => {
                    field = text(Some(v));
                    continue;
                }
                Some("range") => {
                    let r = v.as_str().and_then(|s| s.split_once(".."));
                    let parsed =
                        r.and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
                    let Some((a, b)) = parsed else {
                        return err(diags, v.loc, "`range` must look like 10..20".into());
                    };
                    condition.push((CountOp::Gte, a));
                    condition.push((CountOp::Lte, b));
                    continue;
                }
                other => {
                    return err(
                        diags,
                        k.loc,
                        format!("unknown correlation condition `{}`", other.unwrap_or("")),
                    );
                }
            };
            match v.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
                Some(x) => condition.push((op, x)),
                None => {
                    return err(
                        diags,
                        v.loc,
                        "a correlation threshold must be a number".into(),
                    );
                }
            }
        }
    }
    match kind {
        CorrelationKind::EventCount | CorrelationKind::ValueCount if condition.is_empty() => {
            return err(
                diags,
                corr.loc,
                "this correlation type needs a `condition`".into(),
            );
        }
        CorrelationKind::ValueCount if field.is_none() => {
            return err(
                diags,
                corr.loc,
                "value_count needs `condition.field`".into(),
            );
        }
        _ => {}
    }
    let mut aliases: HashMap<String, HashMap<String, String>> = HashMap::new();
    for (ak, av) in corr.get("aliases").and_then(Node::as_map).unwrap_or(&[]) {
        let Some(alias) = ak.as_str() else { continue };
        let mut per_rule = HashMap::new();
        for (rk, rv) in av.as_map().unwrap_or(&[]) {
            if let (Some(r), Some(f)) = (rk.as_str(), rv.as_str()) {
                per_rule.insert(r.to_owned(), f.to_owned());
            }
        }
        aliases.insert(alias.to_owned(), per_rule);
    }
    let generate = matches!(
        corr.get("generate").and_then(Node::as_str),
        Some("true" | "yes")
    );
    Some(RawCorrelation {
        meta,
        kind,
        rules,
        group_by: list(corr.get("group-by")),
        timespan_secs,
        condition,
        field,
        aliases,
        generate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_from_tags() {
        let doc = &crate::yaml::parse_documents(
            "title: t\ntags: [attack.execution, attack.t1059.001, attack.T1003, cve.2021-1]\nlevel: bogus\n",
        )
        .unwrap()[0];
        let mut d = Vec::new();
        let r = read_meta(doc, Path::new("x.yml"), &mut d);
        assert_eq!(r.attack_ids(), vec!["T1059.001", "T1003"]);
        assert_eq!(r.level, None);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::S014);
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("5m"), Some(300));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("30s"), Some(30));
        assert_eq!(parse_timespan("2d"), Some(172_800));
        assert_eq!(parse_timespan("5"), None);
        assert_eq!(parse_timespan("m"), None);
        assert_eq!(parse_timespan("5x"), None);
    }
}
