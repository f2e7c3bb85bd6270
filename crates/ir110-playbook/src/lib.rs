//! Response guidance for ir110: first aid per symptom and case playbooks per incident type.
//!
//! The words live in data, not code: `data/firstaid/<symptom>.yaml` says what to do in the
//! first ten minutes after a caller reports a symptom, `data/tasks/<incident-type>.yaml` lists
//! the tasks a case starts with. Every text is written in Japanese and English side by side
//! and compiled into the binary (`include_str!`), so the guidance works offline, at a client's
//! site, with no files to install. Reviewers and responders can improve the advice by editing
//! YAML; the tests load every file and snapshot every rendered sheet.
//!
//! ```
//! use ir110_model::Lang;
//! use ir110_playbook::{firstaid, render_text, Symptom};
//!
//! let g = firstaid(Symptom::Ransomware, Lang::Ja)?;
//! assert!(g.actions.len() >= 4);
//! let text = render_text(&g);
//! assert!(text.contains("直ちに行うこと"));
//! # Ok::<(), ir110_playbook::PlaybookError>(())
//! ```

mod error;
mod firstaid;
mod localized;
mod render;
mod symptom;
mod tasks;
mod wrap;

pub use error::PlaybookError;
pub use firstaid::{Action, Contact, Guidance, NextStep, PolicyGuidance, PolicyOption, firstaid};
pub use localized::LocalizedText;
pub use render::{TEXT_WIDTH, render_text};
pub use symptom::{Symptom, symptom_for_incident, symptoms_for_category};
pub use tasks::{Task, tasks};

/// Message catalogue entries for this crate: headings and labels of the first-aid sheet
/// (`playbook.heading.*`, `playbook.label.*`) and symptom names (`playbook.symptom.<name>`,
/// for `--symptom` help and report sections).
pub const MESSAGES: &str = include_str!("../messages.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use ir110_model::Catalog;

    #[test]
    fn catalogue_has_every_key_in_both_languages() {
        let c = Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap();
        for key in render::KEYS {
            assert!(c.contains(key), "{key}");
        }
        for s in Symptom::ALL {
            let key = format!("playbook.symptom.{s}");
            assert!(c.contains(&key), "{key}");
        }
        // Every key we ship is used: no stale entries.
        let ours = Catalog::from_sources(&[MESSAGES]).unwrap();
        assert_eq!(ours.keys().len(), render::KEYS.len() + Symptom::ALL.len());
    }
}
