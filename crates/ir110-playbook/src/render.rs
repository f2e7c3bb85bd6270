//! Plain-text rendering of first aid for a terminal.
//!
//! No colours or other escape codes (the CLI adds them when writing to a terminal), lines
//! wrapped at [`TEXT_WIDTH`] columns counting Japanese characters as two, so the sheet reads
//! the same in a Japanese console, an e-mail or a printed page.

use std::sync::LazyLock;

use ir110_model::{Catalog, Lang};

use crate::wrap::{width, wrap};
use crate::{Guidance, MESSAGES};

/// Width in terminal columns that [`render_text`] wraps to: fits an 80-column console.
pub const TEXT_WIDTH: usize = 78;

/// Headings and labels. Built once from compiled-in catalogues that the tests load; if that
/// ever failed the labels would show as their keys rather than vanish.
static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap_or_default());

const FIRSTAID: &str = "playbook.heading.firstaid";
const DO_NOW: &str = "playbook.heading.do-now";
const DO_NOT: &str = "playbook.heading.do-not";
const CONTACTS: &str = "playbook.heading.contacts";
const EVIDENCE: &str = "playbook.heading.evidence";
const POLICY: &str = "playbook.heading.policy";
const NEXT_STEPS: &str = "playbook.heading.next-steps";
const WHY: &str = "playbook.label.why";
const MERITS: &str = "playbook.label.merits";
const RISKS: &str = "playbook.label.risks";
const FITS: &str = "playbook.label.fits";
const RECOMMENDED: &str = "playbook.label.recommended";

/// The catalogue keys this module uses, so the tests can check each one exists.
#[cfg(test)]
pub(crate) const KEYS: &[&str] = &[
    FIRSTAID,
    DO_NOW,
    DO_NOT,
    CONTACTS,
    EVIDENCE,
    POLICY,
    NEXT_STEPS,
    WHY,
    MERITS,
    RISKS,
    FITS,
    RECOMMENDED,
];

fn label(key: &str, lang: Lang) -> String {
    CATALOG.get(key, lang)
}

/// A heading underlined to its display width.
fn heading(out: &mut Vec<String>, text: &str, rule: char) {
    out.push(String::new());
    out.push(text.to_owned());
    out.push(rule.to_string().repeat(width(text)));
}

fn para(out: &mut Vec<String>, text: &str, first: &str, rest: &str) {
    out.extend(wrap(text, first, rest, TEXT_WIDTH));
}

/// Renders first aid as plain text: title, summary, then numbered actions with their reasons
/// indented beneath, what not to do, who to call, evidence, the policy choice and the next
/// ir110 commands. Ends with a newline.
pub fn render_text(g: &Guidance) -> String {
    let lang = g.lang;
    let mut out: Vec<String> = vec![
        g.title.clone(),
        "=".repeat(width(&g.title)),
        label(FIRSTAID, lang),
        String::new(),
    ];
    para(&mut out, &g.summary, "", "");

    heading(&mut out, &label(DO_NOW, lang), '-');
    // Labels carry their own punctuation and spacing (`理由：`, `Why: `).
    let why = label(WHY, lang);
    let number_width = g.actions.len().to_string().len();
    for (i, action) in g.actions.iter().enumerate() {
        let number = format!("{:>number_width$}. ", i + 1);
        let indent = " ".repeat(width(&number));
        para(&mut out, &action.action, &number, &indent);
        let why_first = format!("{indent}{why}");
        let why_rest = " ".repeat(width(&why_first));
        para(&mut out, &action.why, &why_first, &why_rest);
    }

    heading(&mut out, &label(DO_NOT, lang), '-');
    for item in &g.do_not {
        para(&mut out, item, "- ", "  ");
    }

    heading(&mut out, &label(CONTACTS, lang), '-');
    for contact in &g.contacts {
        para(&mut out, &contact.name, "- ", "  ");
        para(&mut out, &contact.role, "  ", "  ");
        if let Some(note) = &contact.note {
            para(&mut out, note, "  ", "  ");
        }
        if let Some(url) = &contact.url {
            out.push(format!("  {url}"));
        }
    }

    heading(&mut out, &label(EVIDENCE, lang), '-');
    for item in &g.evidence {
        para(&mut out, item, "- ", "  ");
    }

    heading(&mut out, &label(POLICY, lang), '-');
    para(&mut out, &g.policy.intro, "", "");
    for option in &g.policy.options {
        out.push(String::new());
        out.push(format!("[{}]", option.name));
        for (key, items) in [
            (MERITS, &option.merits),
            (RISKS, &option.risks),
            (FITS, &option.fits),
        ] {
            out.push(format!("  {}", label(key, lang)));
            for item in items {
                para(&mut out, item, "  - ", "    ");
            }
        }
    }
    out.push(String::new());
    let recommended = g
        .policy
        .options
        .iter()
        .find(|o| o.policy == g.policy.recommended)
        .map_or_else(|| g.policy.recommended.to_string(), |o| o.name.clone());
    out.push(format!("{}{recommended}", label(RECOMMENDED, lang)));
    para(&mut out, &g.policy.note, "  ", "  ");

    heading(&mut out, &label(NEXT_STEPS, lang), '-');
    for step in &g.next_steps {
        out.push(format!("$ {}", step.command));
        para(&mut out, &step.purpose, "  ", "  ");
    }

    let mut text = out.join("\n");
    text.push('\n');
    text
}
