//! A plausible file share of a small Japanese company (経理, 営業, 総務, 人事, 共有), for
//! `ir110 demo` and for end-to-end tests of the ransomware scanner.

use crate::{DocKind, Rng, damage, document, protected, text};

/// One file of the sample share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareFile {
    /// Path relative to the share root, `/`-separated.
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Whether the file is legitimately password-protected (a control, not damage).
    pub protected: bool,
}

/// (folder, title stem, kind, how many)
const LAYOUT: &[(&str, &str, DocKind, u64)] = &[
    ("経理/請求書", "請求書", DocKind::Xlsx, 6),
    ("経理/請求書", "請求書", DocKind::Pdf, 4),
    ("経理/見積書", "見積書", DocKind::Xlsx, 4),
    ("経理/見積書", "見積書", DocKind::Docx, 2),
    ("経理", "売上集計", DocKind::CsvShiftJis, 2),
    ("経理", "経費精算", DocKind::CsvUtf8, 1),
    ("営業", "顧客名簿", DocKind::Xlsx, 2),
    ("営業", "顧客名簿_旧システム", DocKind::CsvShiftJis, 1),
    ("営業/提案資料", "提案書", DocKind::Pptx, 4),
    ("営業/商談メモ", "商談メモ", DocKind::TxtShiftJis, 4),
    ("営業/商談メモ", "訪問記録", DocKind::TxtUtf8, 2),
    ("総務/規程", "就業規則", DocKind::Docx, 2),
    ("総務/規程", "情報セキュリティ規程", DocKind::Pdf, 1),
    ("総務/社内連絡", "お知らせ", DocKind::TxtUtf8, 3),
    ("総務/社内連絡", "旧システム連絡", DocKind::TxtEucJp, 1),
    ("総務/写真", "社員旅行", DocKind::Jpeg, 5),
    ("共有/会議資料", "定例会議", DocKind::Pptx, 2),
    ("共有/議事録", "議事録", DocKind::Docx, 4),
    ("共有/議事録", "議事録_エクスポート", DocKind::TxtUtf16, 1),
    ("共有/スクリーンショット", "画面", DocKind::Png, 4),
    ("共有/アーカイブ", "2025年度資料", DocKind::Zip, 2),
    ("共有/ログ", "fileserver", DocKind::Gzip, 2),
];

/// The share for `seed`: about 60 files, mixed kinds, including three password-protected ones
/// under `人事/給与/` (a ZIP, a PDF and an encrypted Excel file) that a scanner must call
/// `protected`.
pub fn file_share(seed: u64) -> Vec<ShareFile> {
    let mut rng = Rng::derive(seed, "share");
    let mut files = Vec::new();
    for (folder, stem, kind, count) in LAYOUT {
        let first_month = rng.below(12);
        for i in 0..*count {
            let title = if *count > 1 {
                format!("{stem}_2026-{:02}", (first_month + i) % 12 + 1)
            } else {
                (*stem).to_owned()
            };
            let mut name = format!("{folder}/{title}.{}", kind.extension());
            if *kind == DocKind::Gzip {
                name = format!("{folder}/{title}.log.{}", i + 1) + ".gz";
            }
            if files.iter().any(|f: &ShareFile| f.path == name) {
                name = format!("{folder}/{title}_{}.{}", i + 1, kind.extension());
            }
            let bytes = document(*kind, rng.next_u64(), &title);
            files.push(ShareFile {
                path: name,
                bytes,
                protected: false,
            });
        }
    }
    let payroll = text::to_csv(&text::customer_rows(&mut rng, 30));
    files.push(ShareFile {
        path: "人事/給与/給与明細_2026.zip".to_owned(),
        bytes: protected::zip_with_password(&[("給与明細_2026.csv", payroll.as_bytes())]),
        protected: true,
    });
    files.push(ShareFile {
        path: "人事/給与/源泉徴収票.pdf".to_owned(),
        bytes: protected::encrypted_pdf(
            "源泉徴収票",
            &[
                "Withholding slip 2026".to_owned(),
                "Confidential".to_owned(),
            ],
        ),
        protected: true,
    });
    let book = document(DocKind::Xlsx, rng.next_u64(), "人事評価");
    if let Ok(bytes) = protected::encrypted_ooxml(&book, rng.next_u64()) {
        files.push(ShareFile {
            path: "人事/評価/人事評価_2026.xlsx".to_owned(),
            bytes,
            protected: true,
        });
    }
    files
}

/// Applies a campaign to a share: encrypts every unprotected file with `mode`, renames it with
/// `rename`, and drops a note of `style` into every folder that had a damaged file. Returns the
/// damaged share (paths renamed). Used by `ir110 demo` and end-to-end tests.
pub fn attack(
    files: &[ShareFile],
    mode: &damage::Mode,
    rename: &damage::Rename,
    style: damage::NoteStyle,
    seed: u64,
) -> Vec<ShareFile> {
    let id = damage::victim_id(seed);
    let (note_name, note_text) = damage::ransom_note(style, &id);
    let mut out = Vec::new();
    let mut folders = std::collections::BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        if f.protected {
            out.push(f.clone());
            continue;
        }
        let (dir, name) = f.path.rsplit_once('/').unwrap_or(("", f.path.as_str()));
        folders.insert(dir.to_owned());
        let bytes = damage::encrypt(&f.bytes, mode, seed.wrapping_add(i as u64));
        let path = if dir.is_empty() {
            rename.apply(name)
        } else {
            format!("{dir}/{}", rename.apply(name))
        };
        out.push(ShareFile {
            path,
            bytes,
            protected: false,
        });
    }
    for dir in folders {
        let path = if dir.is_empty() {
            note_name.clone()
        } else {
            format!("{dir}/{note_name}")
        };
        out.push(ShareFile {
            path,
            bytes: note_text.as_bytes().to_vec(),
            protected: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_shape() {
        let share = file_share(1);
        assert_eq!(share.len(), 62);
        assert_eq!(share.iter().filter(|f| f.protected).count(), 3);
        let mut paths: Vec<&str> = share.iter().map(|f| f.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), share.len(), "paths are unique");
        assert!(share == file_share(1), "deterministic");
    }
}
