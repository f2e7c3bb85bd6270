//! Family identification of the sample notes (`ir110-samples`) against the built-in index:
//! look-alike notes written for tests name no family confidently.

use std::collections::BTreeMap;

use ir110_ransomware::family::FamilyIndex;
use ir110_samples::damage::{NoteStyle, ransom_note};

fn top(style: NoteStyle) -> Vec<(String, bool)> {
    let (name, text) = ransom_note(style, "0123456789abcdef");
    FamilyIndex::builtin()
        .identify(&[(name, text.into_bytes())], &BTreeMap::new(), &[])
        .into_iter()
        .map(|c| (c.family, c.score >= 1.0))
        .collect()
}

#[test]
fn sample_notes_name_no_family_confidently() {
    // Written for tests, not copied from a family: the text names nothing. The LockBit-like
    // note carries LockBit 2.0's note name (`Restore-My-Files.txt`, listed for LockBit only):
    // LockBit, weak. The Japanese note's name is listed for no family: unknown.
    assert_eq!(
        top(NoteStyle::LockBitLike),
        vec![("LockBit".to_owned(), false)]
    );
    assert_eq!(top(NoteStyle::Japanese), vec![]);
    // A shortened copy of the Phobos/Dharma-style "info.txt" note: several families send such
    // notes; the closest is listed, weak.
    assert_eq!(
        top(NoteStyle::PhobosLike),
        vec![("Razor".to_owned(), false)]
    );
    // The STOP/Djvu text, shortened: STOP, weak from the text alone (the Djvu file marker
    // makes it confident in a scan, see `attacked_share_end_to_end`).
    assert_eq!(
        top(NoteStyle::DjvuLike),
        vec![("STOP Ransomware".to_owned(), false)]
    );
}
