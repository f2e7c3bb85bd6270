//! File names: the format a name announces, and what ransomware appended to it
//! (`report.xlsx.locked`, `file.docx.id[1A2B3C4D-3423].[mail@example].wiz`).

use serde::{Deserialize, Serialize};

use crate::format::Format;

/// Extensions that are not formats we validate but are ordinary on a share; a name ending in
/// one of them has nothing appended.
const OTHER_KNOWN: &[&str] = &[
    "lnk",
    "url",
    "ini",
    "dat",
    "db",
    "tmp",
    "bak",
    "old",
    "orig",
    "backup",
    "bin",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "vmdk",
    "pst",
    "ost",
    "mdb",
    "accdb",
    "one",
    "eps",
    "indd",
    "dwg",
    "dxf",
    "jtd",
    "jaw",
    "msi",
    "cab",
    "lzh",
    "emf",
    "wmf",
    "ico",
    "cur",
    "heic",
    "raw",
    "psd",
    "mht",
    "xps",
    "key",
    "pem",
    "crt",
    "cer",
    "p12",
    "pfx",
    "ics",
    "vcf",
    "wma",
    "wmv",
    "flv",
    "swf",
    "m3u",
    "part",
    "crdownload",
    "download",
    "swp",
    "lock",
    "pid",
    "sock",
    "gitignore",
    "md5",
    "sha256",
    "sig",
    "asc",
    "map",
    "svgz",
    "xlsb",
    "xla",
    "xlam",
    "ppsx",
    "pps",
    "thmx",
    "odb",
    "numbers",
    "pages",
    "jsonl",
    "ndjson",
    "parquet",
    "avro",
    "orc",
    "ldb",
    "sst",
    "mf",
];

/// What a file name says.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NameInfo {
    /// The extension of the original name (lower-case), when one is recognised.
    pub inner_extension: Option<String>,
    /// Everything after the original name (`locked`, `id[…].[…].wiz`), when something unknown
    /// was appended to a recognised extension.
    pub appended: Option<String>,
    /// The last extension of the name as it is (lower-case), recognised or not.
    pub last_extension: Option<String>,
}

impl NameInfo {
    /// The format the original name announces.
    pub fn expected_format(&self) -> Option<Format> {
        self.inner_extension
            .as_deref()
            .and_then(Format::from_extension)
    }
}

fn known(ext: &str) -> bool {
    Format::from_extension(ext).is_some() || OTHER_KNOWN.contains(&ext)
}

/// Benign suffixes editors, sync tools and people append (`.bak`, `.1`, `~`).
fn benign_suffix(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit())
        || [
            "bak",
            "old",
            "orig",
            "tmp",
            "backup",
            "copy",
            "sav",
            "prev",
            "part",
            "crdownload",
            "download",
            "swp",
            "save",
            "new",
            "disabled",
            "sample",
            "dist",
            "in",
            "example",
        ]
        .contains(&s)
}

/// Analyses a file name (no directory).
pub fn analyse(name: &str) -> NameInfo {
    let name = name.trim_end_matches('~');
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 {
        return NameInfo::default();
    }
    let last = parts[parts.len() - 1].to_ascii_lowercase();
    let mut info = NameInfo {
        last_extension: Some(last.clone()),
        ..NameInfo::default()
    };
    if known(&last) {
        info.inner_extension = Some(last);
        return info;
    }
    // Find the right-most recognised extension; what follows it was appended.
    for i in (1..parts.len() - 1).rev() {
        let ext = parts[i].to_ascii_lowercase();
        if known(&ext) {
            let appended = parts[i + 1..].join(".");
            if benign_suffix(&appended.to_ascii_lowercase()) {
                info.inner_extension = Some(ext);
                return info;
            }
            info.inner_extension = Some(ext);
            info.appended = Some(appended);
            return info;
        }
    }
    info
}

/// The token a campaign shares between files: the last dot-separated part of what was
/// appended, lower-cased (`wiz` for `id[…].[…].wiz`, `locked` for `locked`).
pub fn campaign_token(appended: &str) -> String {
    appended
        .rsplit('.')
        .next()
        .unwrap_or(appended)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_extensions() {
        let a = analyse("report.xlsx.locked");
        assert_eq!(a.inner_extension.as_deref(), Some("xlsx"));
        assert_eq!(a.appended.as_deref(), Some("locked"));
        let p = analyse("file.docx.id[1A2B3C4D-3423].[decrypt@example.invalid].wiz");
        assert_eq!(p.inner_extension.as_deref(), Some("docx"));
        assert_eq!(
            p.appended.as_deref(),
            Some("id[1A2B3C4D-3423].[decrypt@example.invalid].wiz")
        );
        assert_eq!(
            campaign_token(p.appended.as_deref().unwrap_or_default()),
            "wiz"
        );
        assert_eq!(analyse("photo.jpg.bak").appended, None);
        assert_eq!(analyse("photo.jpg").appended, None);
        assert_eq!(analyse("archive.tar.gz").appended, None);
        assert_eq!(analyse("README").inner_extension, None);
        assert_eq!(
            analyse("見積書.xlsx.8hT3kQ9zX").appended.as_deref(),
            Some("8hT3kQ9zX")
        );
    }
}
