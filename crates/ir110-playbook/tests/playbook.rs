//! Every first-aid sheet and task list loads, is complete in both languages, and renders as
//! the committed snapshots show.

use ir110_model::{Catalog, IncidentType, Lang, Phase, Policy};
use ir110_playbook::{
    Guidance, MESSAGES, Symptom, TEXT_WIDTH, firstaid, render_text, symptom_for_incident, tasks,
};

/// Hiragana, katakana or CJK ideographs.
fn has_japanese(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(u32::from(c),
            0x3040..=0x309F | 0x30A0..=0x30FF | 0x4E00..=0x9FFF | 0x3400..=0x4DBF)
    })
}

/// Every text a person reads in a sheet (commands and URLs excluded: they are code).
fn texts(g: &Guidance) -> Vec<(&'static str, &str)> {
    let mut v = vec![("title", g.title.as_str()), ("summary", g.summary.as_str())];
    for a in &g.actions {
        v.push(("action", &a.action));
        v.push(("why", &a.why));
    }
    v.extend(g.do_not.iter().map(|s| ("do_not", s.as_str())));
    for c in &g.contacts {
        v.push(("contact.name", &c.name));
        v.push(("contact.role", &c.role));
        if let Some(n) = &c.note {
            v.push(("contact.note", n));
        }
    }
    v.extend(g.evidence.iter().map(|s| ("evidence", s.as_str())));
    v.push(("policy.intro", &g.policy.intro));
    v.push(("policy.note", &g.policy.note));
    for o in &g.policy.options {
        v.push(("policy.name", &o.name));
        for s in o.merits.iter().chain(&o.risks).chain(&o.fits) {
            v.push(("policy.item", s));
        }
    }
    v.extend(
        g.next_steps
            .iter()
            .map(|s| ("next_step.purpose", s.purpose.as_str())),
    );
    v
}

#[test]
fn every_sheet_loads_complete_in_both_languages() {
    for &symptom in Symptom::ALL {
        for lang in [Lang::Ja, Lang::En] {
            let g = firstaid(symptom, lang).unwrap_or_else(|e| panic!("{symptom}: {e}"));
            let at = format!("{symptom}/{lang}");
            assert_eq!(g.symptom, symptom);
            assert_eq!(g.lang, lang);
            assert!(g.actions.len() >= 4, "{at}: {} actions", g.actions.len());
            assert!(g.do_not.len() >= 3, "{at}: {} do-nots", g.do_not.len());
            assert!(g.contacts.len() >= 2, "{at}: contacts");
            assert!(g.contacts.iter().any(|c| c.id == "ir110"), "{at}: ir110");
            assert!(g.evidence.len() >= 3, "{at}: evidence");
            assert!(!g.next_steps.is_empty(), "{at}: next steps");
            assert_eq!(g.policy.options.len(), 2, "{at}");
            assert!(
                !g.policy.intro.is_empty() && !g.policy.note.is_empty(),
                "{at}"
            );
            for o in &g.policy.options {
                assert!(!o.merits.is_empty() && !o.risks.is_empty() && !o.fits.is_empty());
            }
            for step in &g.next_steps {
                assert!(step.command.starts_with("ir110 "), "{at}: {}", step.command);
            }
            for (field, text) in texts(&g) {
                assert!(!text.trim().is_empty(), "{at}: empty {field}");
                match lang {
                    Lang::Ja => assert!(has_japanese(text), "{at}: {field} not Japanese: {text}"),
                    Lang::En => assert!(
                        allowed_japanese_in_english(text),
                        "{at}: {field} has Japanese: {text}"
                    ),
                }
            }
        }
    }
}

/// English text may name a Japanese term in parentheses, so the reader can match it to
/// Japanese documents (速報, 確報, 被害届, 要配慮個人情報, 個人情報保護委員会) and recognise
/// the service's own name. Anything else is a translation left behind.
fn allowed_japanese_in_english(text: &str) -> bool {
    let mut rest = text.to_owned();
    for term in [
        "情報セキュリティ110番",
        "個人情報保護委員会",
        "要配慮個人情報",
        "速報",
        "確報",
        "被害届",
    ] {
        rest = rest.replace(term, "");
    }
    !has_japanese(&rest)
}

#[test]
fn rendered_sheets_match_snapshots_and_fit_the_width() {
    for &symptom in Symptom::ALL {
        for lang in [Lang::Ja, Lang::En] {
            let g = firstaid(symptom, lang).unwrap();
            let text = render_text(&g);
            for line in text.lines() {
                // Commands and URLs may overflow rather than break; prose must fit.
                let w: usize = line.chars().map(display_width).sum();
                let code = line.starts_with("$ ") || line.trim_start().starts_with("http");
                assert!(
                    code || w <= TEXT_WIDTH,
                    "{symptom}/{lang}: {w} columns: {line}"
                );
            }
            insta::assert_snapshot!(format!("firstaid_{symptom}_{lang}"), text);
        }
    }
}

/// Terminal columns, counted independently of the crate's own function.
fn display_width(c: char) -> usize {
    if has_japanese(&c.to_string()) || matches!(u32::from(c), 0x3000..=0x303F | 0xFF00..=0xFF60) {
        2
    } else {
        1
    }
}

#[test]
fn policy_names_match_the_model_catalogue() {
    let c = Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap();
    for lang in [Lang::Ja, Lang::En] {
        let g = firstaid(Symptom::Ransomware, lang).unwrap();
        for o in &g.policy.options {
            assert_eq!(o.name, c.get(&format!("policy.{}", o.policy), lang));
        }
        assert_eq!(g.policy.options[0].policy, Policy::RecoveryFirst);
        assert_eq!(g.policy.options[1].policy, Policy::EvidenceFirst);
    }
}

#[test]
fn guidance_serializes_with_stable_names() {
    let g = firstaid(Symptom::FilesWontOpen, Lang::En).unwrap();
    let v = serde_json::to_value(&g).unwrap();
    assert_eq!(v["symptom"], "files-wont-open");
    assert_eq!(v["lang"], "en");
    assert_eq!(v["policy"]["recommended"], "evidence-first");
    assert_eq!(v["policy"]["options"][0]["policy"], "recovery-first");
    assert!(v["actions"][0]["why"].is_string());
}

#[test]
fn every_incident_type_has_tasks_in_phase_order() {
    for &t in IncidentType::ALL {
        let list = tasks(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        let min = match t {
            IncidentType::AvAlert | IncidentType::DriveBy | IncidentType::Other => 4,
            _ => 9,
        };
        assert!(list.len() >= min, "{t}: {} tasks", list.len());
        assert!(list.windows(2).all(|w| w[0].phase <= w[1].phase), "{t}");
        assert_eq!(list[0].phase, Phase::Intake, "{t}");
        for task in &list {
            assert!(task.id.starts_with(&format!("{t}.")), "{}", task.id);
            for text in [&task.title, &task.description] {
                assert!(has_japanese(&text.ja), "{}: ja {}", task.id, text.ja);
                assert!(
                    allowed_japanese_in_english(&text.en),
                    "{}: en {}",
                    task.id,
                    text.en
                );
            }
        }
    }
}

#[test]
fn task_lists_snapshot() {
    let all: std::collections::BTreeMap<_, _> = IncidentType::ALL
        .iter()
        .map(|&t| (t.as_str(), tasks(t).unwrap()))
        .collect();
    insta::assert_yaml_snapshot!("tasks", all);
}

#[test]
fn incident_types_reach_a_sheet() {
    for &t in IncidentType::ALL {
        assert!(firstaid(symptom_for_incident(t), Lang::Ja).is_ok());
    }
}
