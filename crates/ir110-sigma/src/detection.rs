//! A rule's `detection` section compiled into a matcher tree.
//!
//! Each search identifier becomes a [`Search`]: an OR of AND-groups of field tests (a mapping,
//! or a list of mappings) or a keyword search (a list of plain values). The condition becomes a
//! [`Cond`] tree over search indices, with `N of pattern` resolved at compile time. Field names
//! are stored as the record will be asked for them (after the log-source field mapping, see
//! [`Detection::renamed`]).

use std::collections::HashMap;
use std::path::Path;

use crate::condition::{Aggregation, CondAst, pattern_matches, split_aggregation};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::matcher::{
    Cmp, Net, RefKind, StrTest, TimePart, ValueTest, build_regex, merge_contains,
};
use crate::modifier::{self, Modifier, Tok};
use crate::record::Record;
use crate::yaml::{Node, NodeKind};

/// A field test: `field|mods: values`.
#[derive(Debug, Clone)]
pub(crate) struct FieldTest {
    pub field: Box<str>,
    pub tests: Vec<ValueTest>,
    /// `all`: every value must match (otherwise any).
    pub all: bool,
}

impl FieldTest {
    fn matches(&self, record: &dyn Record) -> bool {
        let v = record.field(&self.field);
        if self.all {
            self.tests.iter().all(|t| t.matches(v, record))
        } else {
            self.tests.iter().any(|t| t.matches(v, record))
        }
    }
}

/// A keyword (field-less) test against every value of the record.
#[derive(Debug, Clone)]
pub(crate) struct KeywordTest {
    pub tests: Vec<ValueTest>,
    pub all: bool,
}

impl KeywordTest {
    fn matches(&self, record: &dyn Record) -> bool {
        if self.all {
            self.tests.iter().all(|t| any_value(record, t))
        } else {
            let mut hit = false;
            record.for_each_value(&mut |s| {
                hit = self.tests.iter().any(|t| t.matches_keyword(s));
                !hit
            });
            hit
        }
    }
}

fn any_value(record: &dyn Record, t: &ValueTest) -> bool {
    let mut hit = false;
    record.for_each_value(&mut |s| {
        hit = t.matches_keyword(s);
        !hit
    });
    hit
}

/// One AND-group: field tests and keyword tests that must all pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    pub fields: Vec<FieldTest>,
    pub keywords: Vec<KeywordTest>,
}

impl Group {
    fn matches(&self, record: &dyn Record) -> bool {
        // Field tests first: they are cheaper than scanning every value for keywords.
        self.fields.iter().all(|f| f.matches(record))
            && self.keywords.iter().all(|k| k.matches(record))
    }
}

/// A search identifier: any of its groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Search {
    pub groups: Vec<Group>,
}

impl Search {
    fn matches(&self, record: &dyn Record) -> bool {
        self.groups.iter().any(|g| g.matches(record))
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Search(usize),
    /// At least `n` of the searches (`2 of selection_*`).
    AtLeast(usize, Vec<usize>),
}

/// A compiled detection.
#[derive(Debug, Clone)]
pub(crate) struct Detection {
    pub searches: Vec<Search>,
    pub cond: Cond,
    /// A deprecated `| count()` aggregation and the detection's `timeframe` (seconds); the
    /// loader turns it into a correlation.
    pub aggregation: Option<(Aggregation, Option<i64>)>,
}

impl Detection {
    /// Whether the record matches.
    pub fn matches(&self, record: &dyn Record) -> bool {
        self.eval(&self.cond, record)
    }

    fn eval(&self, c: &Cond, r: &dyn Record) -> bool {
        match c {
            Cond::And(v) => v.iter().all(|c| self.eval(c, r)),
            Cond::Or(v) => v.iter().any(|c| self.eval(c, r)),
            Cond::Not(c) => !self.eval(c, r),
            Cond::Search(i) => self.searches.get(*i).is_some_and(|s| s.matches(r)),
            Cond::AtLeast(n, v) => {
                let mut hits = 0;
                for i in v {
                    if self.searches.get(*i).is_some_and(|s| s.matches(r)) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    /// The fields whose tests pass in the groups that pass (for reporting a match).
    pub fn matched_fields<'a>(&'a self, record: &dyn Record) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.searches {
            for g in &s.groups {
                if g.matches(record) {
                    for f in &g.fields {
                        if !out.contains(&&*f.field) {
                            out.push(&f.field);
                        }
                    }
                }
            }
        }
        out
    }

    /// A copy with field names mapped; `None` when a field has no mapping (`map` returns
    /// `None`), meaning the rule cannot apply to that log source.
    pub fn renamed(&self, map: &dyn Fn(&str) -> Option<String>) -> Option<Detection> {
        let mut d = self.clone();
        for s in &mut d.searches {
            for g in &mut s.groups {
                for f in &mut g.fields {
                    f.field = map(&f.field)?.into();
                    for t in &mut f.tests {
                        if let ValueTest::FieldRef { other, .. } = t {
                            *other = map(other)?.into();
                        }
                    }
                }
            }
        }
        Some(d)
    }

    /// A necessary condition for a match, for the rule set's prefilter: the detection can only
    /// match when, for at least one `(field, needles)` pair, the field's value contains one of
    /// the needles (ASCII case-insensitively). `None` when no such condition is known.
    pub fn prefilter(&self) -> Option<Vec<Needles>> {
        self.cond_prefilter(&self.cond)
    }

    fn cond_prefilter(&self, c: &Cond) -> Option<Vec<Needles>> {
        match c {
            Cond::Search(i) => {
                let s = self.searches.get(*i)?;
                let mut alts = Vec::new();
                for g in &s.groups {
                    alts.push(best_field_needles(g)?);
                }
                (!alts.is_empty()).then_some(alts)
            }
            Cond::And(v) => v
                .iter()
                .filter_map(|c| self.cond_prefilter(c))
                .min_by_key(|alts| score(alts)),
            Cond::Or(v) => {
                let mut all = Vec::new();
                for c in v {
                    all.extend(self.cond_prefilter(c)?);
                }
                (!all.is_empty()).then_some(all)
            }
            Cond::AtLeast(_, v) => {
                let mut all = Vec::new();
                for i in v {
                    all.extend(self.cond_prefilter(&Cond::Search(*i))?);
                }
                (!all.is_empty()).then_some(all)
            }
            Cond::Not(_) => None,
        }
    }

    /// The EventIDs a record must have for the detection to match, when the condition implies a
    /// closed set (used to index rules). `None` when any EventID could match.
    pub fn required_event_ids(&self) -> Option<Vec<u32>> {
        self.required_values("EventID")?
            .iter()
            .map(|v| v.parse().ok())
            .collect()
    }

    /// The channels (lower-case) a record must have, when the detection itself names them
    /// (`Channel: Security`, as Hayabusa's rules do).
    pub fn required_channels(&self) -> Option<Vec<String>> {
        self.required_values("Channel")
    }

    /// The exact values `field` must have for the detection to match, when the condition implies
    /// a closed set.
    fn required_values(&self, field: &str) -> Option<Vec<String>> {
        self.cond_values(&self.cond, field)
    }

    fn cond_values(&self, c: &Cond, field: &str) -> Option<Vec<String>> {
        let union = |parts: Vec<Vec<String>>| {
            let mut all: Vec<String> = parts.into_iter().flatten().collect();
            all.sort_unstable();
            all.dedup();
            all
        };
        match c {
            Cond::Search(i) => {
                let s = self.searches.get(*i)?;
                let parts = s
                    .groups
                    .iter()
                    .map(|g| g.fields.iter().find_map(|f| exact_values(f, field)))
                    .collect::<Option<Vec<_>>>()?;
                (!parts.is_empty()).then(|| union(parts))
            }
            Cond::And(v) => {
                let mut best: Option<Vec<String>> = None;
                for c in v {
                    if let Some(vals) = self.cond_values(c, field) {
                        best = Some(match best {
                            None => vals,
                            Some(b) => b.into_iter().filter(|x| vals.contains(x)).collect(),
                        });
                    }
                }
                best
            }
            Cond::Or(v) => v
                .iter()
                .map(|c| self.cond_values(c, field))
                .collect::<Option<Vec<_>>>()
                .map(union),
            Cond::AtLeast(_, v) => v
                .iter()
                .map(|i| self.cond_values(&Cond::Search(*i), field))
                .collect::<Option<Vec<_>>>()
                .map(union),
            Cond::Not(_) => None,
        }
    }
}

/// A field and the substrings one of which it must contain.
pub(crate) type Needles = (Box<str>, Vec<Vec<u8>>);

/// Needles shorter than this match almost every value: they would not filter anything.
const MIN_NEEDLE: usize = 3;

/// Lower is better: many alternatives or short needles filter poorly.
fn score(alts: &[Needles]) -> (usize, usize) {
    let total: usize = alts.iter().map(|(_, n)| n.len()).sum();
    let shortest = alts
        .iter()
        .flat_map(|(_, n)| n.iter().map(Vec::len))
        .min()
        .unwrap_or(0);
    (total, usize::MAX - shortest)
}

/// The most selective field test of a group that yields needles.
fn best_field_needles(g: &Group) -> Option<Needles> {
    g.fields
        .iter()
        .filter(|f| &*f.field != "EventID")
        .filter_map(|f| {
            let mut needles: Vec<Vec<u8>> = Vec::new();
            if f.all {
                // Every value is required: the longest single one is enough.
                let best = f
                    .tests
                    .iter()
                    .filter_map(|t| t.needles())
                    .filter(|ns| ns.len() == 1)
                    .map(|ns| ns[0])
                    .max_by_key(|n| n.len())?;
                needles.push(best.to_ascii_lowercase());
            } else {
                for t in &f.tests {
                    for n in t.needles()? {
                        needles.push(n.to_ascii_lowercase());
                    }
                }
            }
            if needles.is_empty() || needles.iter().any(|n| n.len() < MIN_NEEDLE) {
                return None;
            }
            Some((f.field.clone(), needles))
        })
        .min_by_key(|n| score(std::slice::from_ref(n)))
}

/// The exact values (as compiled: lower-case unless `cased`) a plain equality test on `field`
/// accepts.
fn exact_values(f: &FieldTest, field: &str) -> Option<Vec<String>> {
    if &*f.field != field || f.all {
        return None;
    }
    f.tests
        .iter()
        .map(|t| match t {
            ValueTest::Str(StrTest {
                kind: crate::matcher::StrKind::Exact(b),
                ..
            }) => String::from_utf8(b.to_vec()).ok(),
            _ => None,
        })
        .collect()
}

/// What the compiler needs besides the detection node.
pub(crate) struct Ctx<'a> {
    pub path: &'a Path,
    pub placeholders: &'a HashMap<String, Vec<String>>,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn diag(&mut self, code: Code, loc: Location, detail: impl Into<String>) -> bool {
        let d = Diagnostic::new(code, self.path, Some(loc), detail);
        let err = d.is_error();
        self.diags.push(d);
        err
    }
}

/// Strips the XML-path prefixes some rule sets put before field names.
pub(crate) fn normalize_field(name: &str) -> &str {
    for p in [
        "Event.EventData.",
        "Event.System.",
        "Event.UserData.",
        "EventData.",
        "System.",
    ] {
        if let Some(rest) = name.strip_prefix(p) {
            return rest;
        }
    }
    name
}

/// Compiles the detection section. Returns `None` when an error was reported.
/// `key_loc` is where the `detection` key is, for problems of the section as a whole.
pub(crate) fn compile_detection(
    node: &Node,
    key_loc: Location,
    ctx: &mut Ctx<'_>,
) -> Option<Detection> {
    let Some(entries) = node.as_map() else {
        ctx.diag(
            Code::S003,
            node.loc,
            format!("`detection` must be a mapping, not a {}", node.kind_name()),
        );
        return None;
    };
    let mut names: Vec<String> = Vec::new();
    let mut searches = Vec::new();
    let mut condition: Option<&Node> = None;
    let mut timeframe: Option<&Node> = None;
    let mut failed = false;
    for (k, v) in entries {
        let Some(name) = k.as_str() else {
            failed |= ctx.diag(Code::S003, k.loc, "a detection key must be a scalar");
            continue;
        };
        match name {
            "condition" => {
                condition = Some(v);
                continue;
            }
            "timeframe" => {
                timeframe = Some(v);
                continue;
            }
            _ => {}
        }
        if names.iter().any(|n| n == name) {
            ctx.diag(
                Code::S017,
                k.loc,
                format!("search identifier `{name}` is defined twice; the first is used"),
            );
            continue;
        }
        match compile_search(v, ctx) {
            Some(s) => {
                names.push(name.to_owned());
                searches.push(s);
            }
            None => failed = true,
        }
    }
    let Some(cond_node) = condition else {
        ctx.diag(Code::S004, key_loc, "`detection` has no `condition`");
        return None;
    };
    if failed {
        return None;
    }
    let cond_texts: Vec<&Node> = match &cond_node.kind {
        NodeKind::Scalar { .. } => vec![cond_node],
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Map(_) => {
            ctx.diag(
                Code::S003,
                cond_node.loc,
                "`condition` must be a string or a list of strings",
            );
            return None;
        }
    };
    let mut conds = Vec::new();
    let mut used = vec![false; names.len()];
    let mut aggregation = None;
    for cn in cond_texts {
        let Some(text) = cn.as_str() else {
            ctx.diag(
                Code::S003,
                cn.loc,
                "`condition` must be a string or a list of strings",
            );
            return None;
        };
        let text = match split_aggregation(text) {
            Ok(None) => text,
            Ok(Some((left, agg))) => {
                let secs = timeframe
                    .and_then(Node::as_str)
                    .and_then(crate::rule::parse_timespan);
                aggregation = Some((agg, secs));
                left
            }
            Err(e) => {
                ctx.diag(Code::S012, offset_loc(cn, e.offset), e.message);
                return None;
            }
        };
        let ast = match crate::condition::parse_condition(text) {
            Ok(a) => a,
            Err(e) => {
                let code = if e.aggregation {
                    Code::S012
                } else {
                    Code::S005
                };
                ctx.diag(code, offset_loc(cn, e.offset), e.message);
                return None;
            }
        };
        conds.push(resolve(&ast, &names, &mut used, cn, ctx)?);
    }
    for (i, n) in names.iter().enumerate() {
        if !used[i] {
            ctx.diag(
                Code::S019,
                cond_node.loc,
                format!("search identifier `{n}` is not used by the condition"),
            );
        }
    }
    let cond = if conds.len() == 1 {
        conds.remove(0)
    } else {
        Cond::Or(conds)
    };
    Some(Detection {
        searches,
        cond,
        aggregation,
    })
}

fn offset_loc(n: &Node, offset: usize) -> Location {
    // Exact for single-line plain or quoted conditions, which is what rules use.
    let quoted = matches!(&n.kind, NodeKind::Scalar { plain: false, .. });
    let text = n.as_str().unwrap_or("");
    let chars = text
        .get(..offset.min(text.len()))
        .map_or(0, |s| s.chars().count());
    Location {
        line: n.loc.line,
        column: n.loc.column + chars + usize::from(quoted && !text.contains('\n')),
    }
}

fn resolve(
    ast: &CondAst,
    names: &[String],
    used: &mut [bool],
    node: &Node,
    ctx: &mut Ctx<'_>,
) -> Option<Cond> {
    Some(match ast {
        CondAst::And(v) => Cond::And(
            v.iter()
                .map(|a| resolve(a, names, used, node, ctx))
                .collect::<Option<_>>()?,
        ),
        CondAst::Or(v) => Cond::Or(
            v.iter()
                .map(|a| resolve(a, names, used, node, ctx))
                .collect::<Option<_>>()?,
        ),
        CondAst::Not(a) => Cond::Not(Box::new(resolve(a, names, used, node, ctx)?)),
        CondAst::Ident(name, off) => match names.iter().position(|n| n == name) {
            Some(i) => {
                used[i] = true;
                Cond::Search(i)
            }
            None => {
                ctx.diag(
                    Code::S006,
                    offset_loc(node, *off),
                    format!("the condition uses `{name}`, which the detection does not define"),
                );
                return None;
            }
        },
        CondAst::Of {
            count,
            pattern,
            offset,
        } => {
            let idx: Vec<usize> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| match pattern {
                    Some(p) => pattern_matches(p, n),
                    None => !n.starts_with('_'),
                })
                .map(|(i, _)| i)
                .collect();
            if idx.is_empty() {
                ctx.diag(
                    Code::S006,
                    offset_loc(node, *offset),
                    format!(
                        "`of {}` matches no search identifier",
                        pattern.as_deref().unwrap_or("them")
                    ),
                );
                return None;
            }
            for &i in &idx {
                used[i] = true;
            }
            match *count {
                0 => Cond::And(idx.into_iter().map(Cond::Search).collect()),
                1 => Cond::Or(idx.into_iter().map(Cond::Search).collect()),
                n => Cond::AtLeast(n, idx),
            }
        }
    })
}

fn compile_search(v: &Node, ctx: &mut Ctx<'_>) -> Option<Search> {
    match &v.kind {
        NodeKind::Map(entries) => Some(Search {
            groups: vec![compile_group(v, entries, ctx)?],
        }),
        NodeKind::Seq(items) => {
            if items.is_empty() {
                ctx.diag(Code::S020, v.loc, "an empty list never matches");
            }
            let mut groups = Vec::new();
            let mut keyword_values = Vec::new();
            for it in items {
                match &it.kind {
                    NodeKind::Map(entries) => groups.push(compile_group(it, entries, ctx)?),
                    NodeKind::Scalar { .. } => keyword_values.push(it),
                    NodeKind::Seq(_) => {
                        ctx.diag(Code::S003, it.loc, "a nested list is not a valid search");
                        return None;
                    }
                }
            }
            if !keyword_values.is_empty() {
                let mut tests = Vec::new();
                for kv in keyword_values {
                    tests.extend(compile_value(kv, &[], kv.loc, ctx)?);
                }
                groups.push(Group {
                    fields: Vec::new(),
                    keywords: vec![KeywordTest {
                        tests: merge_contains(keyword_contains(tests)),
                        all: false,
                    }],
                });
            }
            Some(Search { groups })
        }
        NodeKind::Scalar { .. } if !v.is_null() => {
            let tests = compile_value(v, &[], v.loc, ctx)?;
            Some(Search {
                groups: vec![Group {
                    fields: Vec::new(),
                    keywords: vec![KeywordTest {
                        tests: keyword_contains(tests),
                        all: false,
                    }],
                }],
            })
        }
        NodeKind::Scalar { .. } => {
            ctx.diag(Code::S020, v.loc, "an empty search never matches");
            Some(Search::default())
        }
    }
}

/// Keywords without wildcards match anywhere in a value (full-text search semantics, as other
/// engines implement them): an exact keyword test becomes a `contains` test.
fn keyword_contains(tests: Vec<ValueTest>) -> Vec<ValueTest> {
    use crate::matcher::StrKind;
    tests
        .into_iter()
        .map(|t| match t {
            ValueTest::Str(StrTest {
                kind: StrKind::Exact(b),
                cased,
            }) => ValueTest::Str(StrTest {
                kind: StrKind::Contains(b),
                cased,
            }),
            t => t,
        })
        .collect()
}

fn compile_group(node: &Node, entries: &[(Node, Node)], ctx: &mut Ctx<'_>) -> Option<Group> {
    if entries.is_empty() {
        ctx.diag(Code::S020, node.loc, "an empty mapping never matches");
        // An empty group would match everything; a group with an impossible test matches
        // nothing, which is what an empty selection means in practice.
        return Some(Group {
            fields: vec![FieldTest {
                field: "".into(),
                tests: vec![ValueTest::Never],
                all: false,
            }],
            keywords: Vec::new(),
        });
    }
    let mut g = Group::default();
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            ctx.diag(Code::S003, k.loc, "a field name must be a scalar");
            return None;
        };
        if seen.contains(&key) {
            ctx.diag(
                Code::S017,
                k.loc,
                format!("field `{key}` is repeated in one mapping; both tests apply"),
            );
        }
        seen.push(key);
        let mut parts = key.split('|');
        let field = normalize_field(parts.next().unwrap_or("").trim());
        let mut mods = Vec::new();
        for m in parts {
            match Modifier::parse(m.trim()) {
                Some(m) => mods.push(m),
                None => {
                    ctx.diag(
                        Code::S007,
                        k.loc,
                        format!("unknown modifier `{m}` in `{key}`"),
                    );
                    return None;
                }
            }
        }
        let all = mods.contains(&Modifier::All);
        let values: Vec<&Node> = match &v.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Map(_) => {
                ctx.diag(
                    Code::S003,
                    v.loc,
                    format!("the value of `{key}` cannot be a mapping"),
                );
                return None;
            }
            NodeKind::Scalar { .. } => vec![v],
        };
        if values.is_empty() {
            ctx.diag(
                Code::S020,
                v.loc,
                format!("`{key}` has an empty list of values"),
            );
        }
        let mut tests = Vec::new();
        for val in values {
            tests.extend(compile_value(val, &mods, k.loc, ctx)?);
        }
        if tests.is_empty() {
            tests.push(ValueTest::Never);
        }
        let tests = if all { tests } else { merge_contains(tests) };
        if field.is_empty() {
            g.keywords.push(KeywordTest {
                tests: if mods.is_empty() {
                    keyword_contains(tests)
                } else {
                    tests
                },
                all,
            });
        } else {
            g.fields.push(FieldTest {
                field: field.into(),
                tests,
                all,
            });
        }
    }
    Some(g)
}

/// A value in the middle of modifier processing.
#[derive(Clone)]
enum Stage {
    Toks(Vec<Tok>),
    Bytes(Vec<u8>),
}

impl Stage {
    fn text(&self) -> String {
        match self {
            Stage::Toks(t) => modifier::literal_text(t),
            Stage::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            Stage::Toks(t) => modifier::literal_text(t).into_bytes(),
            Stage::Bytes(b) => b.clone(),
        }
    }
    fn toks(self) -> Vec<Tok> {
        match self {
            Stage::Toks(t) => t,
            Stage::Bytes(b) => modifier::literal(&String::from_utf8_lossy(&b)),
        }
    }
}

/// Compiles one value under a modifier chain. `key_loc` locates modifier problems.
fn compile_value(
    v: &Node,
    mods: &[Modifier],
    key_loc: Location,
    ctx: &mut Ctx<'_>,
) -> Option<Vec<ValueTest>> {
    use Modifier as M;
    let has = |m: Modifier| mods.contains(&m);
    let bad = |ctx: &mut Ctx<'_>, detail: String| {
        ctx.diag(Code::S008, v.loc, detail);
        None
    };
    let text = match &v.kind {
        NodeKind::Scalar { text, .. } => text.as_str(),
        _ => {
            ctx.diag(
                Code::S003,
                v.loc,
                format!("a value must be a scalar, not a {}", v.kind_name()),
            );
            return None;
        }
    };
    if has(M::Exists) {
        return match text.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(vec![ValueTest::Exists(true)]),
            "false" | "no" => Some(vec![ValueTest::Exists(false)]),
            _ => bad(ctx, format!("`exists` takes true or false, not `{text}`")),
        };
    }
    if v.is_null() {
        return Some(vec![ValueTest::Null]);
    }
    for (m, cmp) in [
        (M::Gt, Cmp::Gt),
        (M::Gte, Cmp::Gte),
        (M::Lt, Cmp::Lt),
        (M::Lte, Cmp::Lte),
    ] {
        if has(m) {
            return match text.trim().parse::<f64>() {
                Ok(x) => Some(vec![ValueTest::Num(cmp, x)]),
                Err(_) => bad(
                    ctx,
                    format!("a numeric comparison needs a number, not `{text}`"),
                ),
            };
        }
    }
    for (m, part) in [
        (M::Minute, TimePart::Minute),
        (M::Hour, TimePart::Hour),
        (M::Day, TimePart::Day),
        (M::Week, TimePart::Week),
        (M::Month, TimePart::Month),
        (M::Year, TimePart::Year),
    ] {
        if has(m) {
            return match text.trim().parse::<i64>() {
                Ok(x) => Some(vec![ValueTest::TimePart(part, x)]),
                Err(_) => bad(
                    ctx,
                    format!("a time-part comparison needs a whole number, not `{text}`"),
                ),
            };
        }
    }
    if has(M::Cidr) {
        return match Net::parse(text) {
            Some(n) => Some(vec![ValueTest::Cidr(n)]),
            None => {
                ctx.diag(Code::S010, v.loc, format!("`{text}` is not a CIDR network"));
                None
            }
        };
    }
    let cased = has(M::Cased);
    if has(M::FieldRef) || has(M::EndsWithField) {
        let kind = if has(M::Contains) {
            RefKind::Contains
        } else if has(M::StartsWith) {
            RefKind::StartsWith
        } else if has(M::EndsWith) || has(M::EndsWithField) {
            RefKind::EndsWith
        } else {
            RefKind::Equals
        };
        return Some(vec![ValueTest::FieldRef {
            other: normalize_field(text).into(),
            kind,
            cased,
        }]);
    }
    if has(M::Re) {
        if has(M::Contains) || has(M::StartsWith) || has(M::EndsWith) || has(M::Base64) {
            return bad(ctx, "`re` cannot be combined with string modifiers".into());
        }
        let mut flags = String::new();
        if has(M::ReI) {
            flags.push('i');
        }
        if has(M::ReM) {
            flags.push('m');
        }
        if has(M::ReS) {
            flags.push('s');
        }
        let pattern = if flags.is_empty() {
            text.to_owned()
        } else {
            format!("(?{flags}){text}")
        };
        return match build_regex(&pattern) {
            Ok(r) => Some(vec![ValueTest::Str(StrTest {
                kind: crate::matcher::StrKind::Regex(r),
                cased: true,
            })]),
            Err(e) => {
                let msg = e.to_string();
                let first = msg.lines().last().unwrap_or("").trim().to_owned();
                ctx.diag(
                    Code::S009,
                    v.loc,
                    format!("regex `{text}` does not compile: {first}"),
                );
                None
            }
        };
    }
    if has(M::ReI) || has(M::ReM) || has(M::ReS) {
        return bad(
            ctx,
            "regex flags `i`, `m`, `s` need the `re` modifier".into(),
        );
    }
    // Placeholders first: the rest of the chain applies to every substituted value.
    let texts: Vec<String> = if has(M::Expand) {
        match modifier::expand(text, ctx.placeholders) {
            Ok(t) => t,
            Err(name) => {
                ctx.diag(
                    Code::S011,
                    v.loc,
                    format!("placeholder `%{name}%` has no value; this value never matches"),
                );
                return Some(vec![ValueTest::Never]);
            }
        }
    } else {
        vec![text.to_owned()]
    };
    let mut stages: Vec<Stage> = texts
        .iter()
        .map(|t| Stage::Toks(modifier::parse_sigma_string(t)))
        .collect();
    for m in mods {
        stages = match m {
            M::Contains | M::StartsWith | M::EndsWith => {
                let (s, e) = match m {
                    M::Contains => (true, true),
                    M::StartsWith => (false, true),
                    _ => (true, false),
                };
                stages
                    .into_iter()
                    .map(|st| Stage::Toks(modifier::wrap(st.toks(), s, e)))
                    .collect()
            }
            M::Utf16Le | M::Utf16Be | M::Utf16 => stages
                .into_iter()
                .map(|st| {
                    let t = st.text();
                    let mut b = Vec::new();
                    if *m == M::Utf16 {
                        b.extend_from_slice(&[0xFF, 0xFE]);
                    }
                    b.extend(modifier::utf16(&t, *m == M::Utf16Be));
                    Stage::Bytes(b)
                })
                .collect(),
            M::Base64 => stages
                .into_iter()
                .map(|st| Stage::Toks(modifier::literal(&modifier::base64(&st.bytes()))))
                .collect(),
            M::Base64Offset => stages
                .into_iter()
                .flat_map(|st| modifier::base64_offsets(&st.bytes()))
                .map(|s| Stage::Toks(modifier::literal(&s)))
                .collect(),
            M::WinDash => stages
                .into_iter()
                .flat_map(|st| modifier::windash(&st.toks()))
                .map(Stage::Toks)
                .collect(),
            _ => stages,
        };
    }
    let mut tests = Vec::with_capacity(stages.len());
    for st in stages {
        match StrTest::compile(&st.toks(), cased) {
            Ok(t) => tests.push(t),
            Err(e) => {
                ctx.diag(
                    Code::S009,
                    v.loc,
                    format!("value `{text}` does not compile: {e}"),
                );
                return None;
            }
        }
    }
    let _ = key_loc;
    Some(if tests.len() == 1 || !has(M::All) {
        // Variants of one value are alternatives; without `all` the field's values are
        // alternatives too, so they can stay flat (and be merged into one automaton).
        tests.into_iter().map(ValueTest::Str).collect()
    } else {
        // Variants of one value: under `all`, any variant satisfies that value.
        vec![ValueTest::AnyStr(tests)]
    })
}
