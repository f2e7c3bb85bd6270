//! The report data model and its JSON form.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ir110_model::{Case, Catalog, Event, Finding, Lang, Severity};
use ir110_triage::{Coverage, Outcome};
use serde::{Deserialize, Serialize};

/// At most this many timeline events are embedded in a report; the store keeps them all.
pub const TIMELINE_LIMIT: usize = 5_000;

/// The case a report is about, as shown in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseInfo {
    /// Store id.
    pub id: i64,
    /// Reference (`IR-2026-0001`).
    pub reference: String,
    /// Client company.
    pub client: String,
    /// Title.
    pub title: String,
    /// Incident types.
    pub types: Vec<String>,
    /// Phase.
    pub phase: String,
    /// Agreed policy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl From<&Case> for CaseInfo {
    fn from(case: &Case) -> Self {
        CaseInfo {
            id: case.id,
            reference: case.reference.clone(),
            client: case.client_name.clone(),
            title: case.title.clone(),
            types: case.types.iter().map(|t| t.as_str().to_owned()).collect(),
            phase: case.phase.as_str().to_owned(),
            policy: case.policy.as_ref().map(|p| p.policy.as_str().to_owned()),
        }
    }
}

/// One immediate action shown at the top of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    /// What to do.
    pub text: String,
    /// Why, in a sentence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// A finding with its texts rendered in the report's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFinding {
    /// The finding as analyzers produced it (message keys and arguments).
    #[serde(flatten)]
    pub finding: Finding,
    /// Rendered title.
    pub title_text: String,
    /// Rendered summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary_text: String,
    /// Rendered recommended actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions_text: Vec<String>,
}

/// A host named by findings or events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedHost {
    /// Host name.
    pub name: String,
    /// Findings naming it.
    pub findings: u64,
    /// Highest severity among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<Severity>,
    /// Timeline events on it.
    pub events: u64,
    /// Earliest activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
    /// Latest activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
}

/// A file cited as evidence by findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedFile {
    /// Path as the responder knows it.
    pub path: String,
    /// SHA-256 from an evidence manifest, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Ids of the findings citing it.
    pub findings: Vec<String>,
}

/// Timing and inputs of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Paths given to triage.
    pub inputs: Vec<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
}

/// The headline numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Findings per severity (every severity present, zero included).
    pub findings_by_severity: BTreeMap<Severity, u64>,
    /// Findings in total.
    pub findings_total: u64,
    /// Timeline events in total (also those not embedded).
    pub events_total: u64,
    /// Earliest activity seen in findings or events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_activity: Option<DateTime<Utc>>,
    /// Latest activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<DateTime<Utc>>,
    /// One sentence for the executive summary, in the report's language.
    pub headline: String,
}

/// What the caller supplies beyond the triage outcome.
pub struct ReportInput<'a> {
    /// ir110's version.
    pub tool_version: &'a str,
    /// The case, when triage ran for one.
    pub case: Option<&'a Case>,
    /// Paths given to triage.
    pub inputs: Vec<String>,
    /// Language of the rendered texts.
    pub lang: Lang,
    /// Message catalogue with every crate's entries.
    pub catalog: &'a Catalog,
    /// Immediate actions for what was found (from the first-aid playbook), most urgent first.
    pub immediate_actions: Vec<ActionItem>,
    /// Time of generation (injected so that tests are reproducible).
    pub generated_at: DateTime<Utc>,
}

/// The report: everything `report.json` holds and `report.html` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version of this JSON form.
    pub schema_version: String,
    /// Always `ir110`.
    pub tool: String,
    /// ir110's version.
    pub tool_version: String,
    /// When the report was written.
    pub generated_at: DateTime<Utc>,
    /// Language of the rendered texts.
    pub lang: Lang,
    /// The case, or `null` for a run without one.
    pub case: Option<CaseInfo>,
    /// Run timing and inputs.
    pub run: RunInfo,
    /// Headline numbers.
    pub summary: Summary,
    /// What to do now.
    pub immediate_actions: Vec<ActionItem>,
    /// Findings, most severe first.
    pub findings: Vec<ReportFinding>,
    /// Timeline events in time order (at most [`TIMELINE_LIMIT`]).
    pub timeline: Vec<Event>,
    /// How many events were left out of `timeline` (they are in the case store).
    pub timeline_omitted: u64,
    /// Hosts concerned.
    pub hosts: Vec<AffectedHost>,
    /// Files cited as evidence.
    pub files: Vec<AffectedFile>,
    /// What was and was not analysed.
    pub coverage: Coverage,
}

impl Report {
    /// Builds the report from a triage outcome.
    pub fn build(outcome: &Outcome, input: ReportInput<'_>) -> Report {
        let catalog = input.catalog;
        let lang = input.lang;
        let findings: Vec<ReportFinding> = outcome
            .findings
            .iter()
            .map(|f| ReportFinding {
                title_text: catalog.render(&f.title, lang),
                summary_text: f
                    .summary
                    .as_ref()
                    .map(|s| catalog.render(s, lang))
                    .unwrap_or_default(),
                actions_text: f.actions.iter().map(|a| catalog.render(a, lang)).collect(),
                finding: f.clone(),
            })
            .collect();

        let mut by_severity: BTreeMap<Severity, u64> =
            Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in &outcome.findings {
            *by_severity.entry(f.severity).or_default() += 1;
        }
        let times = outcome
            .findings
            .iter()
            .flat_map(|f| [f.first_seen, f.last_seen])
            .flatten()
            .chain(outcome.events.iter().map(|e| e.timestamp));
        let (first_activity, last_activity) = times.fold((None, None), |(lo, hi), t| {
            (
                Some(lo.map_or(t, |l: DateTime<Utc>| l.min(t))),
                Some(hi.map_or(t, |h: DateTime<Utc>| h.max(t))),
            )
        });
        let headline = headline(catalog, lang, &by_severity, outcome);

        let timeline: Vec<Event> = outcome
            .events
            .iter()
            .take(TIMELINE_LIMIT)
            .cloned()
            .collect();
        Report {
            schema_version: ir110_model::SCHEMA_VERSION.to_owned(),
            tool: "ir110".to_owned(),
            tool_version: input.tool_version.to_owned(),
            generated_at: input.generated_at,
            lang,
            case: input.case.map(CaseInfo::from),
            run: RunInfo {
                inputs: input.inputs,
                started_at: outcome.started_at,
                finished_at: outcome.finished_at,
            },
            summary: Summary {
                findings_total: outcome.findings.len() as u64,
                findings_by_severity: by_severity,
                events_total: outcome.events.len() as u64,
                first_activity,
                last_activity,
                headline,
            },
            immediate_actions: input.immediate_actions,
            findings,
            timeline_omitted: outcome.events.len().saturating_sub(TIMELINE_LIMIT) as u64,
            timeline,
            hosts: hosts(outcome),
            files: files(outcome),
            coverage: outcome.coverage.clone(),
        }
    }

    /// The JSON form, pretty-printed.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}

fn headline(
    catalog: &Catalog,
    lang: Lang,
    by_severity: &BTreeMap<Severity, u64>,
    outcome: &Outcome,
) -> String {
    let count = |s| by_severity.get(&s).copied().unwrap_or(0);
    let key = if count(Severity::Critical) > 0 {
        "report.headline.critical"
    } else if count(Severity::High) > 0 {
        "report.headline.high"
    } else if outcome.findings.is_empty() {
        "report.headline.none"
    } else {
        "report.headline.low"
    };
    let not_analysed = outcome.coverage.not_analysed.len();
    let message = ir110_model::Message::new(key)
        .arg("critical", count(Severity::Critical))
        .arg("high", count(Severity::High))
        .arg("total", outcome.findings.len())
        .arg("files", outcome.coverage.files_total)
        .arg("not_analysed", not_analysed);
    catalog.render(&message, lang)
}

fn hosts(outcome: &Outcome) -> Vec<AffectedHost> {
    fn widen(h: &mut AffectedHost, lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>) {
        if let Some(lo) = lo {
            h.first_seen = Some(h.first_seen.map_or(lo, |t| t.min(lo)));
        }
        if let Some(hi) = hi {
            h.last_seen = Some(h.last_seen.map_or(hi, |t| t.max(hi)));
        }
    }
    let mut map: BTreeMap<&str, AffectedHost> = BTreeMap::new();
    let host = |name: &str| AffectedHost {
        name: name.to_owned(),
        findings: 0,
        max_severity: None,
        events: 0,
        first_seen: None,
        last_seen: None,
    };
    for f in &outcome.findings {
        for name in &f.hosts {
            let h = map.entry(name).or_insert_with(|| host(name));
            h.findings += 1;
            h.max_severity = h.max_severity.max(Some(f.severity));
            widen(h, f.first_seen, f.last_seen);
        }
    }
    for e in &outcome.events {
        if let Some(name) = &e.host {
            let h = map.entry(name).or_insert_with(|| host(name));
            h.events += 1;
            widen(h, Some(e.timestamp), Some(e.timestamp));
        }
    }
    let mut list: Vec<AffectedHost> = map.into_values().collect();
    list.sort_by(|a, b| {
        b.max_severity
            .cmp(&a.max_severity)
            .then(a.name.cmp(&b.name))
    });
    list
}

fn files(outcome: &Outcome) -> Vec<AffectedFile> {
    let mut map: BTreeMap<&str, AffectedFile> = BTreeMap::new();
    for f in &outcome.findings {
        for ev in &f.evidence {
            let file = map.entry(ev.path.as_str()).or_insert_with(|| AffectedFile {
                path: ev.path.clone(),
                sha256: ev.sha256.clone(),
                findings: Vec::new(),
            });
            if file.findings.last() != Some(&f.id) {
                file.findings.push(f.id.clone());
            }
        }
    }
    map.into_values().collect()
}
