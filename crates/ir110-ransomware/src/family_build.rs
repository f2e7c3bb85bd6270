//! Compiles `shared/data/ransomware` into the committed index (`data/family-index.jsonl`).
//! Used by `examples/family_index.rs` (regenerate) and the `family_index` test (check).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::family::{Family, contact_points, encode_note, mention_grams, mention_key};
use crate::format::Format;

/// Errors while building the index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A source file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The MISP JSON did not parse.
    #[error("cannot parse {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The error.
        source: serde_json::Error,
    },
}

fn read(path: &Path) -> Result<String, BuildError> {
    let bytes = std::fs::read(path).map_err(|source| BuildError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The merge key of a family name: ASCII letters and digits, lower case, without a trailing
/// "ransomware". The MISP galaxy lists many families twice (`Dharma Ransomware` and `dharma`,
/// `PLAY Ransomware` and `play`, `Mount Locker` and `mountlocker`); two index entries for one
/// family split its notes and make a right answer look like a wrong one.
fn key(name: &str) -> String {
    let k = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match k.strip_suffix("ransomware") {
        Some(stem) if stem.len() >= 3 => stem.to_owned(),
        _ => k,
    }
}

/// Families the sources list under unrelated names (merge key → the key it is merged into).
const SAME_FAMILY: &[(&str, &str)] = &[("djvu", "stop")];

fn merged_key(name: &str) -> String {
    let k = key(name);
    SAME_FAMILY
        .iter()
        .find(|(from, _)| *from == k)
        .map_or(k, |(_, to)| (*to).to_owned())
}

const NOT_EXTENSIONS: &[&str] = &[
    "com", "net", "org", "ch", "cc", "io", "ru", "me", "info", "tk", "de", "su", "cn", "in",
    "onion", "biz", "eu", "us", "xyz", "ws", "co", "uk", "is", "fr", "it", "pw", "su", "to", "li",
    "ua", "la",
];

/// Normalises one messy extension value (`.locked`, `example:.x.y`, `.id-<ID>.[mail].ext`).
pub fn normalise_extension(raw: &str) -> Option<String> {
    let v = raw.trim().trim_start_matches("example:").trim();
    if v.is_empty() || v.contains(' ') && !v.starts_with('.') {
        return None;
    }
    let v = v.split_whitespace().next()?;
    let last = v
        .trim_end_matches([']', ')', '}', '>', '"', '\'', ','])
        .rsplit('.')
        .next()?;
    // A wildcard (`.NEMTY_*`) stands for a random part: no file ends in the fixed part alone.
    if last.contains('*') {
        return None;
    }
    let last = last
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
        .to_lowercase();
    if last.len() < 2
        || last.len() > 24
        || !last
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        || NOT_EXTENSIONS.contains(&last.as_str())
        || Format::from_extension(&last).is_some()
        || last.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(last)
}

/// Normalises a note file name; variable parts become `*`.
pub fn normalise_note_name(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_lowercase();
    if s.is_empty() || s.len() > 80 || s.contains(' ') && s.split(' ').count() > 8 {
        return None;
    }
    for (open, close) in [('[', ']'), ('<', '>'), ('{', '}')] {
        while let (Some(a), Some(b)) = (s.find(open), s.find(close)) {
            if b <= a {
                break;
            }
            s.replace_range(a..=b, "*");
        }
    }
    if s.matches('*').count() > 2 || s.chars().all(|c| c == '*' || c == '.') {
        return None;
    }
    Some(s)
}

/// Builds the index from `shared/data/ransomware`.
pub fn build(root: &Path) -> Result<Vec<Family>, BuildError> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut alias: BTreeMap<String, String> = BTreeMap::new();
    // Note texts per family, encoded once every family name is known.
    let mut raw_notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let misp_path = root.join("misp-galaxy/ransomware.json");
    let misp: serde_json::Value =
        serde_json::from_str(&read(&misp_path)?).map_err(|source| BuildError::Json {
            path: misp_path.display().to_string(),
            source,
        })?;
    let strings = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for e in misp
        .get("values")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let Some(name) = e.get("value").and_then(|v| v.as_str()) else {
            continue;
        };
        let meta = e.get("meta");
        let mut synonyms = strings(meta.and_then(|m| m.get("synonyms")));
        let extensions: Vec<String> = strings(meta.and_then(|m| m.get("extensions")))
            .iter()
            .filter_map(|x| normalise_extension(x))
            .collect();
        let note_names: Vec<String> = strings(meta.and_then(|m| m.get("ransomnotes-filenames")))
            .iter()
            .filter_map(|x| normalise_note_name(x))
            .collect();
        let all_notes = strings(meta.and_then(|m| m.get("ransomnotes")));
        let contacts: Vec<String> = all_notes.iter().flat_map(|t| contact_points(t)).collect();
        let notes: Vec<String> = all_notes.into_iter().filter(|t| t.len() >= 80).collect();
        let k = merged_key(name);
        let canonical = alias.entry(k).or_insert_with(|| name.to_owned()).clone();
        for s in &synonyms {
            alias
                .entry(merged_key(s))
                .or_insert_with(|| canonical.clone());
        }
        if canonical != name {
            synonyms.push(name.to_owned());
        }
        let f = families.entry(canonical.clone()).or_insert_with(|| Family {
            name: canonical.clone(),
            synonyms: Vec::new(),
            extensions: Vec::new(),
            note_names: Vec::new(),
            notes: Vec::new(),
            contacts: Vec::new(),
        });
        f.synonyms.extend(synonyms);
        f.extensions.extend(extensions);
        f.note_names.extend(note_names);
        f.contacts.extend(contacts);
        raw_notes.entry(canonical).or_default().extend(notes);
    }
    let resolve = |name: &str, alias: &BTreeMap<String, String>| {
        alias
            .get(&merged_key(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    };
    let splunk = read(&root.join("splunk-security-content/ransomware_extensions_20231219.csv"))?;
    for line in splunk.lines().skip(1) {
        let Some((ext, name)) = line.rsplit_once(',') else {
            continue;
        };
        let Some(ext) = normalise_extension(ext) else {
            continue;
        };
        let fam = resolve(name.trim(), &alias);
        families
            .entry(fam.clone())
            .or_insert_with(|| Family {
                name: fam.clone(),
                synonyms: Vec::new(),
                extensions: Vec::new(),
                note_names: Vec::new(),
                notes: Vec::new(),
                contacts: Vec::new(),
            })
            .extensions
            .push(ext);
    }
    let tz = root.join("threatlabz-ransomware-notes");
    let index = read(&tz.join("index.tsv"))?;
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(folder), Some(rel)) = (cols.first(), cols.get(1)) else {
            continue;
        };
        let fam = resolve(folder, &alias);
        let path = tz.join("notes").join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Some(text) = crate::notes::note_text(&bytes) else {
            continue;
        };
        let file = rel.rsplit('/').next().unwrap_or(rel);
        let f = families.entry(fam.clone()).or_insert_with(|| Family {
            name: fam.clone(),
            synonyms: Vec::new(),
            extensions: Vec::new(),
            note_names: Vec::new(),
            notes: Vec::new(),
            contacts: Vec::new(),
        });
        f.contacts.extend(contact_points(&text));
        if text.len() >= 80 {
            raw_notes.entry(fam.clone()).or_default().push(text);
        }
        // Renamed copies (`conti1.txt`, `8base_note.txt`) are not real note names.
        let lower = file.to_lowercase();
        if !lower.contains(&folder.to_lowercase()) {
            if let Some(n) = normalise_note_name(file) {
                f.note_names.push(n);
            }
        }
    }
    // Every family name a note could mention; each note records the ones it does, so that the
    // index can tell, at load time, which names only their own family writes.
    let names: BTreeSet<String> = families
        .values()
        .flat_map(|f| std::iter::once(&f.name).chain(&f.synonyms))
        .filter_map(|n| mention_key(n))
        .collect();
    for (fam, texts) in raw_notes {
        if let Some(f) = families.get_mut(&fam) {
            for t in texts {
                let grams = mention_grams(&t);
                let mentioned: Vec<&str> = names
                    .iter()
                    .filter(|n| grams.contains(n.as_str()))
                    .map(String::as_str)
                    .collect();
                f.notes.push(encode_note(&t, &mentioned));
            }
        }
    }
    let mut out: Vec<Family> = families
        .into_values()
        .filter_map(|mut f| {
            for v in [
                &mut f.synonyms,
                &mut f.extensions,
                &mut f.note_names,
                &mut f.notes,
                &mut f.contacts,
            ] {
                v.sort();
                v.dedup();
            }
            (!f.extensions.is_empty() || !f.note_names.is_empty() || !f.notes.is_empty())
                .then_some(f)
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The index file text for `families`.
pub fn render(families: &[Family]) -> String {
    let mut s = String::from(
        "# ir110 ransomware family index: generated from shared/data/ransomware (MISP galaxy CC0/BSD-2, Splunk security_content Apache-2.0, ThreatLabz ransomware_notes MIT)\n# by `cargo run -p ir110-ransomware --example family_index`. Do not edit by hand. Notes are stored as MinHash signatures, not text; contact points (`c`: onion labels, Tox ids, e-mail addresses) as the notes write them.\n",
    );
    for f in families {
        if let Ok(line) = serde_json::to_string(f) {
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messy_extension_values() {
        let cases: &[(&str, Option<&str>)] = &[
            (".wiz", Some("wiz")),
            (".CCCRRRPPP", Some("cccrrrppp")),
            ("example:.docx.locked", Some("locked")),
            ("([A-F0-9]{32}).osiris", Some("osiris")),
            (".[random].encrypted", Some("encrypted")),
            (".id-[ID].[email].ext", Some("ext")),
            (".NEMTY_*", None),
            ("AES+RSA", None),
            ("RANDOM 3 LETTERS ARE ADDED", None),
            ("!@#$%___________%$#@.mail", Some("mail")),
            (".com", None),
            (".docx", None),
            (".1999", None),
            (".x", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_extension(raw).as_deref(), *want, "{raw}");
        }
    }

    #[test]
    fn family_names_merge() {
        assert_eq!(key("Dharma Ransomware"), key("dharma"));
        assert_eq!(key("PLAY Ransomware"), key("play"));
        assert_eq!(key("Mount Locker"), key("mountlocker"));
        assert_eq!(merged_key("Djvu"), merged_key("STOP Ransomware"));
        // "Ransomware" alone and short stems stay as they are.
        assert_eq!(key("Ransomware"), "ransomware");
        assert_eq!(key("RA Ransomware"), "raransomware");
    }

    #[test]
    fn note_names() {
        assert_eq!(
            normalise_note_name("[id]-Readme.txt").as_deref(),
            Some("*-readme.txt")
        );
        assert_eq!(
            normalise_note_name("HOW_TO_DECRYPT.txt").as_deref(),
            Some("how_to_decrypt.txt")
        );
        assert_eq!(normalise_note_name("[a][b][c].txt"), None);
        assert_eq!(normalise_note_name(""), None);
    }
}
