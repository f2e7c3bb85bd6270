//! Deterministic, real-format sample files and simulated ransomware damage.
//!
//! `ir110 demo` builds a small Japanese company's file share from [`file_share`]; the ransomware
//! scanner's tests and benchmarks damage those files (and real files from public packages) with
//! [`damage`] to get a labelled corpus. Everything is a pure function of its seed: the same seed
//! gives the same bytes on every machine, so corpora are rebuilt at test time, never committed.
//!
//! Every writer produces a file the real application opens: OOXML packages with content types
//! and relationships, PDFs with a correct cross-reference table, PNGs with valid chunk CRCs,
//! baseline JPEGs, ZIPs with correct CRC-32s.
//!
//! ```
//! use ir110_samples::{document, DocKind};
//! let xlsx = document(DocKind::Xlsx, 7, "見積書");
//! assert!(xlsx.starts_with(b"PK\x03\x04"));
//! assert_eq!(xlsx, document(DocKind::Xlsx, 7, "見積書"));
//! ```

pub mod damage;
mod image;
mod ooxml;
mod pdf;
pub mod protected;
mod rng;
mod share;
pub mod text;
mod zip_writer;

pub use rng::Rng;
pub use share::{ShareFile, attack, file_share};
pub use text::TextEncoding;
pub use zip_writer::{Method, ZipWriter};

use std::io::Write;

/// The kinds of document this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// Excel workbook.
    Xlsx,
    /// Word document.
    Docx,
    /// PowerPoint deck.
    Pptx,
    /// PDF with compressed text pages.
    Pdf,
    /// Baseline JPEG photo.
    Jpeg,
    /// PNG screenshot or chart.
    Png,
    /// ZIP archive of text and CSV files.
    Zip,
    /// gzip-compressed log.
    Gzip,
    /// Plain text in UTF-8.
    TxtUtf8,
    /// Plain text in Shift_JIS.
    TxtShiftJis,
    /// Plain text in EUC-JP.
    TxtEucJp,
    /// Plain text in UTF-16LE with BOM.
    TxtUtf16,
    /// CSV in UTF-8 with BOM (as Excel saves "CSV UTF-8").
    CsvUtf8,
    /// CSV in Shift_JIS (as Excel saves plain "CSV" on Japanese Windows).
    CsvShiftJis,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 14] = [
        DocKind::Xlsx,
        DocKind::Docx,
        DocKind::Pptx,
        DocKind::Pdf,
        DocKind::Jpeg,
        DocKind::Png,
        DocKind::Zip,
        DocKind::Gzip,
        DocKind::TxtUtf8,
        DocKind::TxtShiftJis,
        DocKind::TxtEucJp,
        DocKind::TxtUtf16,
        DocKind::CsvUtf8,
        DocKind::CsvShiftJis,
    ];

    /// The usual file extension (without dot).
    pub fn extension(self) -> &'static str {
        match self {
            DocKind::Xlsx => "xlsx",
            DocKind::Docx => "docx",
            DocKind::Pptx => "pptx",
            DocKind::Pdf => "pdf",
            DocKind::Jpeg => "jpg",
            DocKind::Png => "png",
            DocKind::Zip => "zip",
            DocKind::Gzip => "gz",
            DocKind::TxtUtf8 | DocKind::TxtShiftJis | DocKind::TxtEucJp | DocKind::TxtUtf16 => {
                "txt"
            }
            DocKind::CsvUtf8 | DocKind::CsvShiftJis => "csv",
        }
    }

    /// A stable label (`txt-sjis`, `csv-utf8`, …) for corpora and benchmark tables.
    pub fn label(self) -> &'static str {
        match self {
            DocKind::TxtUtf8 => "txt-utf8",
            DocKind::TxtShiftJis => "txt-sjis",
            DocKind::TxtEucJp => "txt-eucjp",
            DocKind::TxtUtf16 => "txt-utf16",
            DocKind::CsvUtf8 => "csv-utf8",
            DocKind::CsvShiftJis => "csv-sjis",
            other => other.extension(),
        }
    }
}

/// English lines for PDF pages (the built-in PDF fonts have no Japanese glyphs).
fn pdf_lines(rng: &mut Rng, title: &str) -> Vec<String> {
    const ITEMS: &[&str] = &[
        "Maintenance support",
        "Notebook PC",
        "Multifunction printer lease",
        "Website renovation",
        "System integration",
        "Network equipment",
        "Office supplies",
        "Training",
        "Software licence",
    ];
    let mut lines = vec![
        format!(
            "Document: {}",
            title.chars().filter(char::is_ascii).collect::<String>()
        ),
        format!("No. 2026-{:04}", rng.below(10_000)),
        format!("Date: 2026-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
        String::new(),
    ];
    let mut total = 0;
    for i in 0..rng.range(8, 120) {
        let qty = rng.range(1, 20);
        let price = rng.range(5, 400) * 1000;
        total += qty * price;
        lines.push(format!(
            "{:>3}  {:<32} {:>3} x JPY {:>9}",
            i + 1,
            rng.pick(ITEMS),
            qty,
            price
        ));
    }
    lines.push(String::new());
    lines.push(format!("Total: JPY {total}"));
    lines
}

/// Writes one document of `kind`, deterministic from `seed`; `title` goes into the content.
pub fn document(kind: DocKind, seed: u64, title: &str) -> Vec<u8> {
    let mut rng = Rng::derive(seed, kind.label());
    let author = text::person(&mut rng);
    match kind {
        DocKind::Xlsx => {
            let rows = ooxml::spreadsheet_rows(&mut rng, title);
            ooxml::xlsx(title, &author, &rows)
        }
        DocKind::Docx => {
            let memo = text::memo(&mut rng, title);
            let paras: Vec<String> = memo.lines().map(str::to_owned).collect();
            ooxml::docx(title, &author, &paras)
        }
        DocKind::Pptx => {
            let slides = (0..rng.range(2, 8))
                .map(|i| {
                    let memo = text::memo(&mut rng, title);
                    let bullets = memo.lines().skip(4).take(5).map(str::to_owned).collect();
                    (format!("{title} ({})", i + 1), bullets)
                })
                .collect::<Vec<_>>();
            ooxml::pptx(title, &author, &slides)
        }
        DocKind::Pdf => {
            let lines = pdf_lines(&mut rng, title);
            pdf::pdf(title, &lines, None)
        }
        DocKind::Jpeg => {
            let (w, h) = (rng.range(160, 800) as u32, rng.range(120, 600) as u32);
            let px = image::picture(&mut rng, w, h, true);
            image::jpeg(&px, w, h, rng.range(60, 95) as u8)
        }
        DocKind::Png => {
            let (w, h) = (rng.range(120, 640) as u32, rng.range(90, 480) as u32);
            let px = image::picture(&mut rng, w, h, false);
            image::png(&px, w, h)
        }
        DocKind::Zip => {
            let mut z = ZipWriter::new();
            for i in 0..rng.range(2, 6) {
                let body = text::memo(&mut rng, title);
                let method = if i % 3 == 2 {
                    Method::Stored
                } else {
                    Method::Deflated
                };
                z.add(&format!("{title}_{}.txt", i + 1), body.as_bytes(), method);
            }
            let n = rng.range(5, 40) as usize;
            let csv = text::to_csv(&text::customer_rows(&mut rng, n));
            z.add("顧客一覧.csv", csv.as_bytes(), Method::Deflated);
            z.finish()
        }
        DocKind::Gzip => {
            let mut log = String::new();
            for i in 0..rng.range(50, 800) {
                log.push_str(&format!(
                    "2026-04-{:02}T{:02}:{:02}:{:02}+09:00 fileserver smbd[{}]: user {} opened {}\n",
                    1 + i % 28,
                    rng.below(24),
                    rng.below(60),
                    rng.below(60),
                    1000 + rng.below(9000),
                    rng.below(40),
                    title
                ));
            }
            let mut enc = flate2::GzBuilder::new()
                .mtime(1_775_000_000)
                .write(Vec::new(), flate2::Compression::new(6));
            let _ = enc.write_all(log.as_bytes());
            enc.finish().unwrap_or_default()
        }
        DocKind::TxtUtf8 | DocKind::TxtShiftJis | DocKind::TxtEucJp | DocKind::TxtUtf16 => {
            let enc = match kind {
                DocKind::TxtShiftJis => TextEncoding::ShiftJis,
                DocKind::TxtEucJp => TextEncoding::EucJp,
                DocKind::TxtUtf16 => TextEncoding::Utf16Le,
                _ => TextEncoding::Utf8,
            };
            let mut body = text::memo(&mut rng, title);
            for _ in 0..rng.range(0, 6) {
                body.push_str(&text::memo(&mut rng, title));
            }
            text::encode(&body, enc)
        }
        DocKind::CsvUtf8 | DocKind::CsvShiftJis => {
            let n = rng.range(10, 400) as usize;
            let csv = text::to_csv(&text::customer_rows(&mut rng, n));
            let enc = if kind == DocKind::CsvUtf8 {
                TextEncoding::Utf8Bom
            } else {
                TextEncoding::ShiftJis
            };
            text::encode(&csv, enc)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_deterministic_and_non_empty() {
        for kind in DocKind::ALL {
            let a = document(kind, 42, "請求書");
            assert!(a.len() > 100, "{kind:?}");
            assert_eq!(a, document(kind, 42, "請求書"), "{kind:?}");
            assert_ne!(a, document(kind, 43, "請求書"), "{kind:?}");
        }
    }

    #[test]
    fn magic_numbers() {
        assert!(document(DocKind::Pdf, 1, "x").starts_with(b"%PDF-1.4"));
        assert!(document(DocKind::Png, 1, "x").starts_with(b"\x89PNG"));
        assert!(document(DocKind::Jpeg, 1, "x").starts_with(&[0xff, 0xd8, 0xff]));
        assert!(document(DocKind::Gzip, 1, "x").starts_with(&[0x1f, 0x8b]));
        assert!(document(DocKind::TxtUtf16, 1, "x").starts_with(&[0xff, 0xfe]));
        assert!(document(DocKind::Jpeg, 1, "x").ends_with(&[0xff, 0xd9]));
    }
}
