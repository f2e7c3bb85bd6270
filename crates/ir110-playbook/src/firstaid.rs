//! First aid: what to do in the next ten minutes, per symptom.
//!
//! The content lives in `data/firstaid/<symptom>.yaml` (one sheet per symptom, every text as a
//! `{ja, en}` pair) plus two shared files: `data/contacts.yaml` (who to call, referenced by id)
//! and `data/policy.yaml` (the recovery-first / evidence-first trade-off). [`firstaid`] joins
//! them into a [`Guidance`] in one language.

use std::collections::BTreeMap;

use ir110_model::{Lang, Policy};
use serde::{Deserialize, Serialize};

use crate::error::parse_yaml;
use crate::{LocalizedText, PlaybookError, Symptom};

/// First aid for one symptom, in one language: everything `ir110 firstaid` prints and what a
/// report or the server shows as "what to do now".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Guidance {
    /// The symptom.
    pub symptom: Symptom,
    /// The language of every text below.
    pub lang: Lang,
    /// Title of the sheet.
    pub title: String,
    /// One or two sentences on the situation.
    pub summary: String,
    /// Immediate actions, in the order to do them.
    pub actions: Vec<Action>,
    /// What not to do.
    pub do_not: Vec<String>,
    /// Who to call or notify, most urgent first.
    pub contacts: Vec<Contact>,
    /// Evidence to preserve.
    pub evidence: Vec<String>,
    /// Recovery first or evidence first.
    pub policy: PolicyGuidance,
    /// The ir110 commands to run next.
    pub next_steps: Vec<NextStep>,
}

/// One immediate action and the reason for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Action {
    /// What to do.
    pub action: String,
    /// Why: people skip steps they do not understand, so every step says what it protects.
    pub why: String,
}

/// Someone to call or notify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Contact {
    /// Stable id from `data/contacts.yaml` (`ppc`, `police`, …).
    pub id: String,
    /// Name of the organisation or role.
    pub name: String,
    /// What they do for you.
    pub role: String,
    /// When or why to call them in this situation, if it needs saying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Their top-level website. No phone numbers: a wrong number in an emergency is worse
    /// than none, and numbers change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The policy decision: restore business first, or preserve evidence first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicyGuidance {
    /// Why the choice matters.
    pub intro: String,
    /// Both options, recovery first then evidence first.
    pub options: Vec<PolicyOption>,
    /// The option we advise for this symptom by default.
    pub recommended: Policy,
    /// Why, and what to keep even under the other option.
    pub note: String,
}

/// One side of the policy choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicyOption {
    /// The policy.
    pub policy: Policy,
    /// Its name in the guidance's language.
    pub name: String,
    /// What it gains.
    pub merits: Vec<String>,
    /// What it risks.
    pub risks: Vec<String>,
    /// Situations it suits.
    pub fits: Vec<String>,
}

/// An ir110 command to run next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NextStep {
    /// The command line, with `<placeholders>`.
    pub command: String,
    /// What it does for this situation.
    pub purpose: String,
}

// ---- The data files' schema. Every struct denies unknown fields so a typo fails the tests.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetFile {
    symptom: Symptom,
    title: LocalizedText,
    summary: LocalizedText,
    actions: Vec<ActionFile>,
    do_not: Vec<LocalizedText>,
    contacts: Vec<ContactRef>,
    evidence: Vec<LocalizedText>,
    policy: PolicyChoiceFile,
    next_steps: Vec<NextStepFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFile {
    action: LocalizedText,
    why: LocalizedText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactRef {
    id: String,
    #[serde(default)]
    note: Option<LocalizedText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyChoiceFile {
    recommended: Policy,
    note: LocalizedText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NextStepFile {
    command: String,
    purpose: LocalizedText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactFile {
    name: LocalizedText,
    role: LocalizedText,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    intro: LocalizedText,
    recovery_first: PolicyOptionFile,
    evidence_first: PolicyOptionFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyOptionFile {
    name: LocalizedText,
    merits: Vec<LocalizedText>,
    risks: Vec<LocalizedText>,
    fits: Vec<LocalizedText>,
}

const CONTACTS_FILE: &str = "contacts.yaml";
const CONTACTS: &str = include_str!("../data/contacts.yaml");
const POLICY_FILE: &str = "policy.yaml";
const POLICY: &str = include_str!("../data/policy.yaml");

/// The embedded sheet for a symptom: (file name for errors, content).
fn sheet_source(symptom: Symptom) -> (&'static str, &'static str) {
    match symptom {
        Symptom::Ransomware => (
            "firstaid/ransomware.yaml",
            include_str!("../data/firstaid/ransomware.yaml"),
        ),
        Symptom::Defacement => (
            "firstaid/defacement.yaml",
            include_str!("../data/firstaid/defacement.yaml"),
        ),
        Symptom::Emotet => (
            "firstaid/emotet.yaml",
            include_str!("../data/firstaid/emotet.yaml"),
        ),
        Symptom::Leak => (
            "firstaid/leak.yaml",
            include_str!("../data/firstaid/leak.yaml"),
        ),
        Symptom::AvAlert => (
            "firstaid/av-alert.yaml",
            include_str!("../data/firstaid/av-alert.yaml"),
        ),
        Symptom::DriveBy => (
            "firstaid/drive-by.yaml",
            include_str!("../data/firstaid/drive-by.yaml"),
        ),
        Symptom::FilesWontOpen => (
            "firstaid/files-wont-open.yaml",
            include_str!("../data/firstaid/files-wont-open.yaml"),
        ),
        Symptom::UnknownExtension => (
            "firstaid/unknown-extension.yaml",
            include_str!("../data/firstaid/unknown-extension.yaml"),
        ),
        Symptom::Intrusion => (
            "firstaid/intrusion.yaml",
            include_str!("../data/firstaid/intrusion.yaml"),
        ),
    }
}

/// First aid for `symptom` in `lang`.
///
/// Parses the embedded data on every call (a few kilobytes; this runs once per command), so
/// there is no global state. The data is compiled in and every symptom is loaded by the tests,
/// so an error here means a broken build, never bad input.
pub fn firstaid(symptom: Symptom, lang: Lang) -> Result<Guidance, PlaybookError> {
    let (file, text) = sheet_source(symptom);
    let sheet: SheetFile = parse_yaml(file, text)?;
    if sheet.symptom != symptom {
        return Err(PlaybookError::Inconsistent {
            file,
            detail: format!("says symptom `{}`", sheet.symptom),
        });
    }
    let contacts: BTreeMap<String, ContactFile> = parse_yaml(CONTACTS_FILE, CONTACTS)?;
    let policy: PolicyFile = parse_yaml(POLICY_FILE, POLICY)?;
    let t = |text: &LocalizedText| text.get(lang).to_owned();
    let list = |texts: &[LocalizedText]| texts.iter().map(t).collect::<Vec<_>>();

    let contacts = sheet
        .contacts
        .iter()
        .map(|r| {
            let c = contacts
                .get(&r.id)
                .ok_or_else(|| PlaybookError::UnknownContact {
                    file,
                    id: r.id.clone(),
                })?;
            Ok(Contact {
                id: r.id.clone(),
                name: t(&c.name),
                role: t(&c.role),
                note: r.note.as_ref().map(t),
                url: c.url.clone(),
            })
        })
        .collect::<Result<Vec<_>, PlaybookError>>()?;

    let option = |policy: Policy, o: &PolicyOptionFile| PolicyOption {
        policy,
        name: t(&o.name),
        merits: list(&o.merits),
        risks: list(&o.risks),
        fits: list(&o.fits),
    };

    Ok(Guidance {
        symptom,
        lang,
        title: t(&sheet.title),
        summary: t(&sheet.summary),
        actions: sheet
            .actions
            .iter()
            .map(|a| Action {
                action: t(&a.action),
                why: t(&a.why),
            })
            .collect(),
        do_not: list(&sheet.do_not),
        contacts,
        evidence: list(&sheet.evidence),
        policy: PolicyGuidance {
            intro: t(&policy.intro),
            options: vec![
                option(Policy::RecoveryFirst, &policy.recovery_first),
                option(Policy::EvidenceFirst, &policy.evidence_first),
            ],
            recommended: sheet.policy.recommended,
            note: t(&sheet.policy.note),
        },
        next_steps: sheet
            .next_steps
            .iter()
            .map(|s| NextStep {
                command: s.command.clone(),
                purpose: t(&s.purpose),
            })
            .collect(),
    })
}
