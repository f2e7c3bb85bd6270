//! Loading rules and matching records: [`RuleSet`].
//!
//! Loading never stops at a bad rule: each problem is a [`Diagnostic`] and the next rule is
//! read. Each loaded rule is compiled once per log-source variant (e.g. `process_creation` as
//! Sysmon EventID 1 and as Security 4688 with renamed fields) and indexed by
//! product → channel → EventID, so [`RuleSet::matches`] evaluates only the rules that can match
//! a record's channel and EventID, without allocating.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ir110_model::Severity;

use crate::correlation::Correlation;
use aho_corasick::AhoCorasick;

use crate::condition::Aggregation;
use crate::detection::{Ctx, Detection, Needles, compile_detection};
use crate::diagnostic::{Code, Diagnostic, LoadCounts};
use crate::logsource::{BUILTIN, Resolution, Variant};
use crate::record::{FieldValue, Record};
use crate::rule::{RawCorrelation, Rule, merge_global, read_correlation, read_meta};
use crate::yaml::{Node, parse_documents};

/// Options for loading rules. Passed explicitly; the library reads no configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Rules below this level are not loaded (unless a correlation needs them, in which case
    /// they are evaluated but their matches are not reportable). `None`: every level.
    pub min_level: Option<Severity>,
    /// Values for `expand` placeholders: `%DomainControllers%` → `["DC01", "DC02"]`.
    /// A placeholder without values makes its value never match (warning S011).
    pub placeholders: HashMap<String, Vec<String>>,
}

/// A handle to a loaded rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef(pub(crate) u32);

impl RuleRef {
    /// The rule's position in [`RuleSet::rules`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A rule compiled for one log-source variant.
#[derive(Debug)]
struct Compiled {
    rule: RuleRef,
    det: Detection,
}

/// A list of candidate rules with its prefilter.
///
/// Most rules have a necessary condition of the form "field F contains one of these
/// substrings" ([`Detection::prefilter`]). Those rules are grouped by field, and one
/// Aho-Corasick automaton per field finds, in a single pass over the field's value, every rule
/// whose condition holds; only those rules (and the rules without a prefilter) are evaluated.
#[derive(Debug, Default)]
struct RuleList {
    /// Every rule of the list, while building.
    members: Vec<u32>,
    /// Rules that must always be evaluated.
    unfiltered: Vec<u32>,
    /// Per field, the automaton over all needles and, per needle, the rules it admits.
    filters: Vec<FieldFilter>,
}

/// While building: a field's needles, the rules per needle, and needle → position.
type FieldNeedles = (Vec<Vec<u8>>, Vec<Vec<u32>>, HashMap<Vec<u8>, usize>);

#[derive(Debug)]
struct FieldFilter {
    field: Box<str>,
    ac: AhoCorasick,
    rules: Vec<Vec<u32>>,
}

impl RuleList {
    fn build(&mut self, prefilters: &[Option<Vec<Needles>>]) {
        let mut by_field: HashMap<Box<str>, FieldNeedles> = HashMap::new();
        for &idx in &self.members {
            match prefilters.get(idx as usize).and_then(Option::as_ref) {
                None => self.unfiltered.push(idx),
                Some(alts) => {
                    for (field, needles) in alts {
                        let (pats, rules, seen) = by_field.entry(field.clone()).or_default();
                        for n in needles {
                            let pid = *seen.entry(n.clone()).or_insert_with(|| {
                                pats.push(n.clone());
                                rules.push(Vec::new());
                                pats.len() - 1
                            });
                            if rules[pid].last() != Some(&idx) {
                                rules[pid].push(idx);
                            }
                        }
                    }
                }
            }
        }
        let mut fields: Vec<_> = by_field.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (field, (pats, rules, _)) in fields {
            match AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&pats)
            {
                Ok(ac) => self.filters.push(FieldFilter { field, ac, rules }),
                Err(_) => {
                    // Too large for an automaton: evaluate those rules unconditionally.
                    for r in rules.into_iter().flatten() {
                        self.unfiltered.push(r);
                    }
                }
            }
        }
        self.members = Vec::new();
    }

    /// Adds the admitted rules to `out`; with `full`, every rule (the prefilter bypassed).
    fn candidates(&self, record: &dyn Record, full: bool, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.unfiltered);
        for f in &self.filters {
            if full {
                out.extend(f.rules.iter().flatten());
                continue;
            }
            let Some(v) = record.field(&f.field) else {
                continue;
            };
            for_each_text(&v, &mut |s| {
                for m in f.ac.find_overlapping_iter(s) {
                    if let Some(rs) = f.rules.get(m.pattern().as_usize()) {
                        out.extend_from_slice(rs);
                    }
                }
            });
        }
    }
}

/// Calls `f` with the text of a value (each item of a list; numbers rendered).
fn for_each_text(v: &FieldValue<'_>, f: &mut dyn FnMut(&str)) {
    match v {
        FieldValue::Str(s) => f(s),
        FieldValue::List(items) => {
            for i in items.iter() {
                for_each_text(&FieldValue::from_json(i), f);
            }
        }
        FieldValue::Null => f(""),
        FieldValue::Int(i) => f(&i.to_string()),
        FieldValue::UInt(u) => f(&u.to_string()),
        FieldValue::Float(x) => f(&x.to_string()),
        FieldValue::Bool(b) => f(if *b { "true" } else { "false" }),
    }
}

/// Rules for one channel, by EventID.
#[derive(Debug, Default)]
struct Bucket {
    by_event: HashMap<u32, RuleList>,
    any_event: RuleList,
}

/// Rules of one product, by channel.
#[derive(Debug, Default)]
struct ProductIndex {
    /// Keyed by the channel name in ASCII lower case: a rule's log source (`System`) and a
    /// detection naming its channel (`Channel: system`) must land in one bucket, which a record
    /// finds whatever the case of its own channel.
    by_channel: HashMap<String, Bucket>,
    any_channel: Bucket,
}

/// A loaded, compiled and indexed set of Sigma rules.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    report: Vec<bool>,
    compiled: Vec<Compiled>,
    products: HashMap<String, ProductIndex>,
    any_product: ProductIndex,
    correlations: Vec<Correlation>,
    counts: LoadCounts,
}

/// One rule that matched one record.
#[derive(Debug, Clone, Copy)]
pub struct RuleMatch<'a> {
    /// The rule's handle (for [`Correlator`](crate::Correlator) and lookups).
    pub rule_ref: RuleRef,
    /// The rule's metadata.
    pub rule: &'a Rule,
    /// Whether the match should be reported: `false` for rules loaded only because a
    /// correlation needs them (below `min_level`, or referenced with `generate: false`).
    pub report: bool,
    compiled: &'a Compiled,
}

impl<'a> RuleMatch<'a> {
    /// The record fields whose tests passed, in rule order (computed on demand: only matches
    /// pay for it).
    pub fn matched_fields(&self, record: &dyn Record) -> Vec<&'a str> {
        self.compiled.det.matched_fields(record)
    }
}

/// The rules matching one record; see [`RuleSet::matches`].
pub struct Matches<'a> {
    set: &'a RuleSet,
    record: &'a dyn Record,
    candidates: Vec<u32>,
    pos: usize,
}

impl<'a> Iterator for Matches<'a> {
    type Item = RuleMatch<'a>;

    fn next(&mut self) -> Option<RuleMatch<'a>> {
        while let Some(&i) = self.candidates.get(self.pos) {
            self.pos += 1;
            let Some(c) = self.set.compiled.get(i as usize) else {
                continue;
            };
            if c.det.matches(self.record) {
                let idx = c.rule.index();
                return Some(RuleMatch {
                    rule_ref: c.rule,
                    rule: &self.set.rules[idx],
                    report: self.set.report[idx],
                    compiled: c,
                });
            }
        }
        None
    }
}

fn event_id(record: &dyn Record) -> Option<u32> {
    match record.field("EventID")? {
        FieldValue::Int(i) => u32::try_from(i).ok(),
        FieldValue::UInt(u) => u32::try_from(u).ok(),
        FieldValue::Str(s) => s.trim().parse().ok(),
        FieldValue::Float(f) => Some(f as u32),
        _ => None,
    }
}

impl Bucket {
    fn candidates(&self, record: &dyn Record, eid: Option<u32>, full: bool, out: &mut Vec<u32>) {
        if let Some(l) = eid.and_then(|e| self.by_event.get(&e)) {
            l.candidates(record, full, out);
        }
        self.any_event.candidates(record, full, out);
    }

    fn build(&mut self, prefilters: &[Option<Vec<Needles>>]) {
        for l in self.by_event.values_mut() {
            l.build(prefilters);
        }
        self.any_event.build(prefilters);
    }
}

impl ProductIndex {
    fn bucket(&self, channel: &str) -> Option<&Bucket> {
        let bytes = channel.as_bytes();
        if !bytes.iter().any(u8::is_ascii_uppercase) {
            return self.by_channel.get(channel);
        }
        // Lower-case without allocating for ordinary channel names.
        let mut buf = [0u8; 160];
        match buf.get_mut(..bytes.len()) {
            Some(lower) => {
                lower.copy_from_slice(bytes);
                lower.make_ascii_lowercase();
                self.by_channel.get(std::str::from_utf8(lower).ok()?)
            }
            None => self.by_channel.get(&channel.to_ascii_lowercase()),
        }
    }

    fn candidates(
        &self,
        record: &dyn Record,
        channel: Option<&str>,
        eid: Option<u32>,
        full: bool,
        out: &mut Vec<u32>,
    ) {
        if let Some(b) = channel.and_then(|c| self.bucket(c)) {
            b.candidates(record, eid, full, out);
        }
        self.any_channel.candidates(record, eid, full, out);
    }

    fn build(&mut self, prefilters: &[Option<Vec<Needles>>]) {
        for b in self.by_channel.values_mut() {
            b.build(prefilters);
        }
        self.any_channel.build(prefilters);
    }

    fn insert(&mut self, channel: Option<&str>, eids: &[u32], idx: u32) {
        let b = match channel {
            Some(c) => self.by_channel.entry(c.to_ascii_lowercase()).or_default(),
            None => &mut self.any_channel,
        };
        if eids.is_empty() {
            b.any_event.members.push(idx);
        } else {
            for e in eids {
                b.by_event.entry(*e).or_default().members.push(idx);
            }
        }
    }
}

impl RuleSet {
    /// Loads every `.yml`/`.yaml` file under the given files or directories (recursively, in
    /// file-name order). Never fails: problems are diagnostics, and the rules that are fine
    /// are loaded.
    pub fn load<P: AsRef<Path>>(paths: &[P], opts: &LoadOptions) -> (RuleSet, Vec<Diagnostic>) {
        let mut loader = Loader::new(opts);
        for p in paths {
            loader.add_path(p.as_ref());
        }
        loader.finish()
    }

    /// Loads rules from in-memory texts: `(name, yaml)` pairs, the name standing for the path
    /// in diagnostics.
    pub fn from_sources(
        sources: &[(&str, &str)],
        opts: &LoadOptions,
    ) -> (RuleSet, Vec<Diagnostic>) {
        let mut loader = Loader::new(opts);
        for (name, text) in sources {
            loader.files += 1;
            loader.add_text(Path::new(name), text);
        }
        loader.finish()
    }

    /// The embedded ir110 rules ([`builtin_rules`](crate::builtin_rules)), loaded.
    pub fn builtin(opts: &LoadOptions) -> (RuleSet, Vec<Diagnostic>) {
        let sources: Vec<(String, &str)> = crate::builtin_rules()
            .iter()
            .map(|r| (format!("builtin:{}", r.name), r.yaml))
            .collect();
        let refs: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        RuleSet::from_sources(&refs, opts)
    }

    /// Every loaded rule (including those kept only for correlations).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by handle.
    pub fn rule(&self, r: RuleRef) -> Option<&Rule> {
        self.rules.get(r.index())
    }

    /// The loaded correlation rules.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// What the load read, loaded and rejected.
    pub fn counts(&self) -> LoadCounts {
        self.counts
    }

    /// Number of compiled (rule, log-source variant) matchers.
    pub fn compiled_len(&self) -> usize {
        self.compiled.len()
    }

    /// How many compiled rules the index and prefilter admit for a record, and how many of
    /// those have no prefilter (for benchmarks and tuning; not a stable interface).
    #[doc(hidden)]
    pub fn candidate_stats(&self, record: &dyn Record) -> (usize, usize) {
        let m = self.matches(record);
        let unfiltered = m
            .candidates
            .iter()
            .filter(|&&i| {
                self.compiled
                    .get(i as usize)
                    .is_some_and(|c| c.det.prefilter().is_none())
            })
            .count();
        (m.candidates.len(), unfiltered)
    }

    /// Titles of the admitted rules that have no prefilter (for tuning; not a stable interface).
    #[doc(hidden)]
    pub fn unfiltered_titles(&self, record: &dyn Record) -> Vec<&str> {
        let m = self.matches(record);
        m.candidates
            .iter()
            .filter_map(|&i| self.compiled.get(i as usize))
            .filter(|c| c.det.prefilter().is_none())
            .map(|c| self.rules[c.rule.index()].title.as_str())
            .collect()
    }

    /// The rules matching a record, in load order. Only rules indexed under the record's
    /// product, channel and EventID (and rules without such constraints) are considered, and
    /// of those only the ones the prefilter admits are evaluated, lazily as the iterator
    /// advances. The only allocation is the candidate list.
    pub fn matches<'a>(&'a self, record: &'a dyn Record) -> Matches<'a> {
        self.matches_impl(record, false)
    }

    /// Like [`matches`](Self::matches) but with the prefilter bypassed: every rule the index
    /// admits is evaluated. Slower; tests use it to prove the prefilter never drops a match.
    pub fn matches_exhaustive<'a>(&'a self, record: &'a dyn Record) -> Matches<'a> {
        self.matches_impl(record, true)
    }

    fn matches_impl<'a>(&'a self, record: &'a dyn Record, full: bool) -> Matches<'a> {
        let channel = match record.field("Channel") {
            Some(FieldValue::Str(s)) => Some(s),
            _ => None,
        };
        let eid = event_id(record);
        let mut candidates = Vec::new();
        if let Some(p) = self.products.get(record.product()) {
            p.candidates(record, channel, eid, full, &mut candidates);
        }
        self.any_product
            .candidates(record, channel, eid, full, &mut candidates);
        // One rule can be admitted by several needles; evaluate each once, in load order.
        candidates.sort_unstable();
        candidates.dedup();
        Matches {
            set: self,
            record,
            candidates,
            pos: 0,
        }
    }
}

/// Loads rules and reports on them without keeping a rule set: `ir110 hunt --check-rules`.
pub fn check_rules<P: AsRef<Path>>(
    paths: &[P],
    opts: &LoadOptions,
) -> (Vec<Diagnostic>, LoadCounts) {
    let (set, diags) = RuleSet::load(paths, opts);
    (diags, set.counts())
}

/// A detection rule read but not yet compiled per variant.
struct Pending {
    rule: Rule,
    det: Detection,
}

struct Loader<'o> {
    opts: &'o LoadOptions,
    files: usize,
    documents: usize,
    rejected: usize,
    pending: Vec<Pending>,
    correlations: Vec<RawCorrelation>,
    aggregations: usize,
    ids: HashSet<String>,
    diags: Vec<Diagnostic>,
}

impl<'o> Loader<'o> {
    fn new(opts: &'o LoadOptions) -> Self {
        Loader {
            opts,
            files: 0,
            documents: 0,
            rejected: 0,
            pending: Vec::new(),
            correlations: Vec::new(),
            aggregations: 0,
            ids: HashSet::new(),
            diags: Vec::new(),
        }
    }

    fn add_path(&mut self, root: &Path) {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map_or_else(|| root.to_owned(), Path::to_owned);
                    self.diags.push(Diagnostic::new(
                        Code::S001,
                        path,
                        None,
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            };
            let p = entry.path();
            let is_rule = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
            if !entry.file_type().is_file() || !is_rule {
                continue;
            }
            self.files += 1;
            match std::fs::read(p) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => self.add_text(p, &text),
                    Err(e) => self.diags.push(Diagnostic::new(
                        Code::S002,
                        p,
                        None,
                        format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
                    )),
                },
                Err(e) => self.diags.push(Diagnostic::new(
                    Code::S001,
                    p,
                    None,
                    format!("cannot read: {e}"),
                )),
            }
        }
    }

    fn add_text(&mut self, path: &Path, text: &str) {
        let docs = match parse_documents(text) {
            Ok(d) => d,
            Err(e) => {
                self.diags
                    .push(Diagnostic::new(Code::S002, path, Some(e.loc), e.message));
                self.rejected += 1;
                return;
            }
        };
        let mut global: Option<Node> = None;
        for doc in docs {
            if doc.as_map().is_some_and(<[_]>::is_empty) || doc.is_null() {
                continue;
            }
            if doc.as_map().is_none() {
                self.diags.push(Diagnostic::new(
                    Code::S003,
                    path,
                    Some(doc.loc),
                    format!("a rule must be a mapping, not a {}", doc.kind_name()),
                ));
                self.rejected += 1;
                continue;
            }
            match doc.get("action").and_then(Node::as_str) {
                Some("global") => {
                    global = Some(doc);
                    continue;
                }
                Some("reset") => {
                    global = None;
                    continue;
                }
                _ => {}
            }
            let doc = match &global {
                Some(g) => merge_global(g, &doc),
                None => doc,
            };
            self.documents += 1;
            self.add_document(path, &doc);
        }
    }

    fn add_document(&mut self, path: &Path, doc: &Node) {
        let before = self.diags.len();
        let ok = if let Some(corr) = doc.get("correlation") {
            match read_correlation(doc, corr, path, &mut self.diags) {
                Some(c) => {
                    self.correlations.push(c);
                    true
                }
                None => false,
            }
        } else {
            self.add_rule(path, doc)
        };
        let id = doc.get("id").and_then(Node::as_str).map(str::to_owned);
        for d in &mut self.diags[before..] {
            d.rule_id.clone_from(&id);
        }
        if !ok {
            self.rejected += 1;
        }
    }

    fn add_rule(&mut self, path: &Path, doc: &Node) -> bool {
        let rule = read_meta(doc, path, &mut self.diags);
        for key in ["title", "logsource", "detection"] {
            if doc.get(key).is_none() {
                // The document's first key: the mapping's own marker is not where a reader looks.
                let loc = doc
                    .as_map()
                    .and_then(|m| m.first())
                    .map_or(doc.loc, |(k, _)| k.loc);
                self.diags.push(Diagnostic::new(
                    Code::S004,
                    path,
                    Some(loc),
                    format!("the rule has no `{key}`"),
                ));
                return false;
            }
        }
        let Some((det_key, det_node)) = doc
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("detection")))
        else {
            return false;
        };
        let mut ctx = Ctx {
            path,
            placeholders: &self.opts.placeholders,
            diags: &mut self.diags,
        };
        let Some(mut det) = compile_detection(det_node, det_key.loc, &mut ctx) else {
            return false;
        };
        let mut rule = rule;
        if let Some((agg, secs)) = det.aggregation.take() {
            self.add_aggregation(path, doc, &mut rule, agg, secs);
        }
        if let Some(id) = &rule.id
            && !self.ids.insert(id.clone())
        {
            self.diags.push(Diagnostic::new(
                Code::S013,
                path,
                doc.get("id").map(|n| n.loc),
                format!("rule id `{id}` was already loaded; this copy is skipped"),
            ));
            return true;
        }
        self.pending.push(Pending { rule, det });
        true
    }

    /// Turns a deprecated `| count()` aggregation into the correlation it means: the rule
    /// becomes the correlation's (unreported) base rule, the correlation carries its metadata.
    fn add_aggregation(
        &mut self,
        path: &Path,
        doc: &Node,
        rule: &mut Rule,
        agg: Aggregation,
        secs: Option<i64>,
    ) {
        use crate::rule::CorrelationKind;
        self.aggregations += 1;
        let name = rule
            .name
            .get_or_insert_with(|| format!("{}#aggregation{}", path.display(), self.aggregations))
            .clone();
        let kind = if agg.field.is_some() {
            CorrelationKind::ValueCount
        } else {
            CorrelationKind::EventCount
        };
        let loc = doc
            .get("detection")
            .and_then(|d| d.get("condition"))
            .map_or(doc.loc, |n| n.loc);
        self.diags.push(Diagnostic::new(
            Code::S021,
            path,
            Some(loc),
            format!(
                "deprecated `| count()` aggregation evaluated as a {} correlation{}",
                if agg.field.is_some() {
                    "value_count"
                } else {
                    "event_count"
                },
                if secs.is_none() {
                    " over the whole input (no `timeframe`)"
                } else {
                    ""
                }
            ),
        ));
        self.correlations.push(RawCorrelation {
            meta: rule.clone(),
            kind,
            rules: vec![(name, loc)],
            group_by: agg.group_by.into_iter().collect(),
            // Without a timeframe the window is the whole input: a century is plenty.
            timespan_secs: secs.unwrap_or(100 * 365 * 86_400),
            condition: vec![(agg.op, agg.value)],
            field: agg.field,
            aliases: HashMap::new(),
            generate: false,
        });
    }

    fn finish(mut self) -> (RuleSet, Vec<Diagnostic>) {
        let min = self.opts.min_level;
        let below = |l: Option<Severity>| min.is_some_and(|m| l.unwrap_or(Severity::Info) < m);
        // Correlations first: they decide which low-level rules must still be evaluated.
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        for (i, p) in self.pending.iter().enumerate() {
            for k in [&p.rule.id, &p.rule.name].into_iter().flatten() {
                by_key.entry(k.as_str()).or_insert(i);
            }
        }
        for (i, p) in self.pending.iter().enumerate() {
            by_key.entry(p.rule.title.as_str()).or_insert(i);
        }
        let mut needed: Vec<Option<bool>> = vec![None; self.pending.len()];
        let mut correlations_raw = Vec::new();
        let mut corr_rejected = 0;
        let mut below_count = 0;
        for c in std::mem::take(&mut self.correlations) {
            if below(c.meta.level) {
                below_count += 1;
                continue;
            }
            let mut refs = Vec::new();
            let mut missing = false;
            for (name, loc) in &c.rules {
                match by_key.get(name.as_str()) {
                    Some(&i) => refs.push(i),
                    None => {
                        let mut d = Diagnostic::new(
                            Code::S016,
                            &c.meta.path,
                            Some(*loc),
                            format!(
                                "the correlation refers to `{name}`, which is not a loaded rule"
                            ),
                        );
                        d.rule_id.clone_from(&c.meta.id);
                        self.diags.push(d);
                        missing = true;
                    }
                }
            }
            if missing {
                corr_rejected += 1;
                continue;
            }
            for &i in &refs {
                // A rule referenced by a correlation with `generate: false` is not reported
                // by itself (Sigma correlation specification).
                let gen_flag = needed[i].unwrap_or(false) || c.generate;
                needed[i] = Some(gen_flag);
            }
            correlations_raw.push((c, refs));
        }
        let mut set = RuleSet::default();
        let mut new_index: Vec<Option<RuleRef>> = vec![None; self.pending.len()];
        let mut unmapped = 0;
        for (i, p) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            let is_below = below(p.rule.level);
            if is_below && needed[i].is_none() {
                below_count += 1;
                continue;
            }
            let report = !is_below && needed[i].is_none_or(|g| g);
            // A detection that names its channels itself (Hayabusa's rules, including its
            // converted Sigma rules with `Channel: Security` + `EventID: 4688`) is indexed
            // by them as written; the log-source mapping only fills in what a rule leaves out.
            let own_channels = p.det.required_channels();
            let resolution = match own_channels {
                Some(chs) if !chs.is_empty() => Resolution::Variants(
                    chs.into_iter()
                        .map(|c| Variant {
                            channel: Some(c),
                            ..Variant::default()
                        })
                        .collect(),
                ),
                _ => BUILTIN.resolve(&p.rule.logsource),
            };
            let variants = match resolution {
                Resolution::Variants(v) => v,
                Resolution::Unmapped(what) => {
                    let mut d = Diagnostic::new(
                        Code::S018,
                        &p.rule.path,
                        None,
                        format!(
                            "no Windows log carries {what}; the rule never fires on Windows events"
                        ),
                    );
                    d.rule_id.clone_from(&p.rule.id);
                    self.diags.push(d);
                    unmapped += 1;
                    Vec::new()
                }
            };
            let r = RuleRef(u32::try_from(set.rules.len()).unwrap_or(u32::MAX));
            new_index[i] = Some(r);
            let ls = &p.rule.logsource;
            // A rule without a product is indexed under its category or service (`webserver`,
            // `proxy`, `apache`) as if that were its product, so web and proxy rules never meet
            // Windows events; only when the mapping places it on channels (`antivirus`) or it
            // names nothing at all does it apply to every product.
            let channel_bound = variants.iter().any(|v| v.channel.is_some());
            let product = match &ls.product {
                Some(p) => Some(p.to_ascii_lowercase()),
                None if channel_bound => None,
                None => ls
                    .category
                    .as_ref()
                    .or(ls.service.as_ref())
                    .map(|c| c.to_ascii_lowercase()),
            };
            for v in variants {
                let det = match &v.fieldmap {
                    None => Some(p.det.clone()),
                    Some(fm) => p.det.renamed(&|f| BUILTIN.map_field(fm, f)),
                };
                let Some(det) = det else { continue };
                let mut eids = v.event_ids.clone();
                if let Some(req) = det.required_event_ids() {
                    eids = if eids.is_empty() {
                        req
                    } else {
                        eids.into_iter().filter(|e| req.contains(e)).collect()
                    };
                    if eids.is_empty() {
                        // The rule's own EventIDs contradict the log source: it cannot match.
                        continue;
                    }
                }
                let idx = u32::try_from(set.compiled.len()).unwrap_or(u32::MAX);
                set.compiled.push(Compiled { rule: r, det });
                let index = match &product {
                    Some(p) => set.products.entry(p.clone()).or_default(),
                    None => &mut set.any_product,
                };
                index.insert(v.channel.as_deref(), &eids, idx);
            }
            set.rules.push(p.rule);
            set.report.push(report);
        }
        let prefilters: Vec<Option<Vec<Needles>>> =
            set.compiled.iter().map(|c| c.det.prefilter()).collect();
        for p in set.products.values_mut() {
            p.build(&prefilters);
        }
        set.any_product.build(&prefilters);
        for (c, refs) in correlations_raw {
            let refs: Vec<RuleRef> = refs.iter().filter_map(|&i| new_index[i]).collect();
            set.correlations.push(Correlation::new(c, refs, &set.rules));
        }
        let errors = self.diags.iter().filter(|d| d.is_error()).count();
        set.counts = LoadCounts {
            files: self.files,
            documents: self.documents,
            rules: set.rules.len(),
            correlations: set.correlations.len(),
            rejected: self.rejected + corr_rejected,
            below_min_level: below_count,
            unmapped,
            errors,
            warnings: self.diags.len() - errors,
        };
        (set, self.diags)
    }
}
