//! File formats: recognised from content (magic numbers) and expected from names.

use serde::{Deserialize, Serialize};

/// A file format the scanner knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// ZIP and ZIP-based formats (OOXML, ODF, JAR, EPUB).
    Zip,
    /// PDF.
    Pdf,
    /// PNG.
    Png,
    /// JPEG/JFIF/Exif.
    Jpeg,
    /// GIF.
    Gif,
    /// Windows bitmap.
    Bmp,
    /// TIFF.
    Tiff,
    /// RIFF containers: WAV, AVI, WebP.
    Riff,
    /// Ogg (Vorbis, Opus, Theora).
    Ogg,
    /// MPEG audio (MP3).
    Mp3,
    /// FLAC.
    Flac,
    /// ISO base media (MP4, MOV, M4A, HEIC).
    Mp4,
    /// MPEG program stream (`.mpg`).
    Mpeg,
    /// Matroska/WebM.
    Matroska,
    /// OLE2 compound file (doc, xls, ppt, msg; encrypted OOXML).
    Ole2,
    /// gzip.
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
    /// 7-Zip.
    SevenZip,
    /// RAR.
    Rar,
    /// SQLite 3 database.
    Sqlite,
    /// TrueType/OpenType font.
    Font,
    /// WOFF or WOFF2 web font.
    Woff,
    /// Windows PE executable.
    Pe,
    /// ELF executable.
    Elf,
    /// GIMP image.
    Xcf,
    /// Netpbm image (PPM/PGM/PBM).
    Netpbm,
    /// Photoshop image.
    Psd,
    /// POSIX tar.
    Tar,
    /// A legitimately encrypted container: OpenPGP message, KeePass database, LUKS volume,
    /// age file.
    CryptoContainer,
    /// Text in UTF-8, Shift_JIS, EUC-JP or UTF-16.
    Text,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 32] = [
        Format::Zip,
        Format::Pdf,
        Format::Png,
        Format::Jpeg,
        Format::Gif,
        Format::Bmp,
        Format::Tiff,
        Format::Riff,
        Format::Ogg,
        Format::Mp3,
        Format::Flac,
        Format::Mp4,
        Format::Mpeg,
        Format::Matroska,
        Format::Ole2,
        Format::Gzip,
        Format::Bzip2,
        Format::Xz,
        Format::Zstd,
        Format::SevenZip,
        Format::Rar,
        Format::Sqlite,
        Format::Font,
        Format::Woff,
        Format::Pe,
        Format::Elf,
        Format::Xcf,
        Format::Netpbm,
        Format::Psd,
        Format::Tar,
        Format::CryptoContainer,
        Format::Text,
    ];

    /// A stable short name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Pdf => "pdf",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Riff => "riff",
            Format::Ogg => "ogg",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Mp4 => "mp4",
            Format::Mpeg => "mpeg",
            Format::Matroska => "matroska",
            Format::Ole2 => "ole2",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::SevenZip => "7z",
            Format::Rar => "rar",
            Format::Sqlite => "sqlite",
            Format::Font => "font",
            Format::Woff => "woff",
            Format::Pe => "pe",
            Format::Elf => "elf",
            Format::Xcf => "xcf",
            Format::Netpbm => "netpbm",
            Format::Psd => "psd",
            Format::Tar => "tar",
            Format::CryptoContainer => "crypto-container",
            Format::Text => "text",
        }
    }

    /// Whether the format's bytes are normally far from random (so block statistics are
    /// meaningful everywhere in the file).
    pub fn low_entropy(self) -> bool {
        matches!(
            self,
            Format::Text
                | Format::Bmp
                | Format::Netpbm
                | Format::Sqlite
                | Format::Tar
                | Format::Pe
                | Format::Elf
                | Format::Font
                | Format::Ole2
                | Format::Psd
                | Format::Tiff
        )
    }

    /// The format a file name's extension announces (`ext` lower-case, no dot).
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext {
            "zip" | "docx" | "xlsx" | "pptx" | "docm" | "xlsm" | "pptm" | "dotx" | "xltx"
            | "potx" | "odt" | "ods" | "odp" | "odg" | "jar" | "apk" | "epub" | "vsdx" | "kmz"
            | "xps" | "3mf" | "ipa" | "nupkg" | "whl" => Format::Zip,
            "pdf" | "ai" => Format::Pdf,
            "png" => Format::Png,
            "jpg" | "jpeg" | "jpe" | "jfif" => Format::Jpeg,
            "gif" => Format::Gif,
            "bmp" | "dib" => Format::Bmp,
            "tif" | "tiff" | "dng" | "nef" | "cr2" | "arw" => Format::Tiff,
            "wav" | "avi" | "webp" => Format::Riff,
            "ogg" | "oga" | "ogv" | "opus" => Format::Ogg,
            "mp3" => Format::Mp3,
            "flac" => Format::Flac,
            "mp4" | "m4a" | "m4v" | "mov" | "3gp" | "3g2" | "heic" | "heif" | "avif" => Format::Mp4,
            "mpg" | "mpeg" | "vob" => Format::Mpeg,
            "mkv" | "webm" | "mka" => Format::Matroska,
            "doc" | "xls" | "ppt" | "msg" | "vsd" | "pub" | "dot" | "xlt" | "pot" | "msi" => {
                Format::Ole2
            }
            "gz" | "tgz" => Format::Gzip,
            "bz2" | "tbz2" => Format::Bzip2,
            "xz" | "txz" => Format::Xz,
            "zst" => Format::Zstd,
            "7z" => Format::SevenZip,
            "rar" => Format::Rar,
            "sqlite" | "sqlite3" | "db3" => Format::Sqlite,
            "ttf" | "otf" | "ttc" => Format::Font,
            "woff" | "woff2" => Format::Woff,
            "exe" | "dll" | "sys" | "ocx" | "scr" => Format::Pe,
            "xcf" => Format::Xcf,
            "ppm" | "pgm" | "pbm" | "pnm" => Format::Netpbm,
            "psd" => Format::Psd,
            "tar" => Format::Tar,
            "gpg" | "pgp" | "kdbx" | "age" | "hc" | "tc" => Format::CryptoContainer,
            "txt" | "csv" | "tsv" | "log" | "md" | "html" | "htm" | "xml" | "json" | "ini"
            | "cfg" | "conf" | "sh" | "bat" | "cmd" | "ps1" | "py" | "js" | "css" | "sql"
            | "yaml" | "yml" | "rtf" | "c" | "h" | "rs" | "java" | "php" | "vbs" | "reg"
            | "eml" | "svg" | "tex" | "toml" => Format::Text,
            _ => return None,
        })
    }

    /// Recognises a format from the first bytes of a file (at least 512 bytes when available).
    /// Text is not recognised here (see [`crate::validate::text`]).
    pub fn sniff(head: &[u8]) -> Option<Format> {
        let h = head;
        let starts = |m: &[u8]| h.starts_with(m);
        let at = |off: usize, m: &[u8]| h.get(off..off + m.len()) == Some(m);
        Some(
            if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
                Format::Zip
            } else if starts(b"%PDF-")
                || h.get(..1024).is_some_and(|w| find(w, b"%PDF-").is_some()) && !is_textual_html(h)
            {
                Format::Pdf
            } else if starts(b"\x89PNG\r\n\x1a\n") {
                Format::Png
            } else if starts(&[0xff, 0xd8, 0xff]) {
                Format::Jpeg
            } else if starts(b"GIF87a") || starts(b"GIF89a") {
                Format::Gif
            } else if starts(b"BM") && h.len() >= 26 && at(6, &[0, 0, 0, 0]) {
                Format::Bmp
            } else if starts(b"II*\0") || starts(b"MM\0*") {
                Format::Tiff
            } else if starts(b"RIFF") {
                Format::Riff
            } else if starts(b"OggS") {
                Format::Ogg
            } else if starts(b"fLaC") {
                Format::Flac
            } else if at(4, b"ftyp")
                || at(4, b"moov")
                || at(4, b"mdat")
                || at(4, b"wide")
                || at(4, b"free")
                || at(4, b"skip")
            {
                Format::Mp4
            } else if starts(&[0, 0, 1, 0xba]) || starts(&[0, 0, 1, 0xb3]) {
                Format::Mpeg
            } else if starts(&[0x1a, 0x45, 0xdf, 0xa3]) {
                Format::Matroska
            } else if starts(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
                Format::Ole2
            } else if starts(&[0x1f, 0x8b, 0x08]) {
                Format::Gzip
            } else if starts(b"BZh") && h.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
                Format::Bzip2
            } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
                Format::Xz
            } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
                Format::Zstd
            } else if starts(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
                Format::SevenZip
            } else if starts(b"Rar!\x1a\x07") {
                Format::Rar
            } else if starts(b"SQLite format 3\0") {
                Format::Sqlite
            } else if starts(&[0, 1, 0, 0])
                && read_be16(h, 4).is_some_and(|n| (1..=64).contains(&n))
                || starts(b"OTTO")
                || starts(b"ttcf")
                || starts(b"true")
            {
                Format::Font
            } else if starts(b"wOFF") || starts(b"wOF2") {
                Format::Woff
            } else if starts(b"MZ") {
                Format::Pe
            } else if starts(b"\x7fELF") {
                Format::Elf
            } else if starts(b"gimp xcf ") {
                Format::Xcf
            } else if h.len() > 3
                && h[0] == b'P'
                && (b'1'..=b'7').contains(&h[1])
                && h[2].is_ascii_whitespace()
            {
                Format::Netpbm
            } else if starts(b"8BPS") {
                Format::Psd
            } else if at(257, b"ustar") {
                Format::Tar
            } else if starts(b"ID3")
                || is_mp3_frame(h, 0) && is_mp3_frame(h, mp3_frame_len(h, 0).unwrap_or(0))
            {
                Format::Mp3
            } else if is_openpgp_message(h)
                || starts(&[0x03, 0xd9, 0xa2, 0x9a])
                || starts(b"LUKS\xba\xbe")
                || starts(b"age-encryption.org/v1")
                || starts(b"-----BEGIN PGP MESSAGE")
            {
                Format::CryptoContainer
            } else {
                return None;
            },
        )
    }
}

fn is_textual_html(h: &[u8]) -> bool {
    h.iter().take(256).all(|&b| b >= 0x09)
        && (find(&h[..h.len().min(256)], b"<html").is_some()
            || find(&h[..h.len().min(256)], b"<!DOCTYPE").is_some())
}

/// Big-endian u32 at `off`.
pub(crate) fn read_be32(h: &[u8], off: usize) -> Option<u32> {
    h.get(off..off + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Little-endian u32 at `off`.
pub(crate) fn read_le32(h: &[u8], off: usize) -> Option<u32> {
    h.get(off..off + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Little-endian u16 at `off`.
pub(crate) fn read_le16(h: &[u8], off: usize) -> Option<u16> {
    h.get(off..off + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// Big-endian u16 at `off`.
pub(crate) fn read_be16(h: &[u8], off: usize) -> Option<u16> {
    h.get(off..off + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// First position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// Last position of `needle` in `hay`.
pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    memchr::memmem::rfind(hay, needle)
}

/// An OpenPGP message: a symmetric-key (tag 3) or public-key (tag 1) encrypted session key
/// packet (RFC 4880 §5.1, §5.3). Two bytes of magic are matched by one random file in about
/// 7,000 (a fully encrypted file was called protected), so the packet's version, algorithm
/// and S2K fields are checked too.
fn is_openpgp_message(h: &[u8]) -> bool {
    match (h.first(), h.get(1)) {
        // Old-format tag 3 (0x8c) or new-format tag 3 (0xc3), one length byte: version 4,
        // a symmetric algorithm, an S2K type (simple, salted, iterated).
        (Some(0x8c | 0xc3), Some(0x04 | 0x0c | 0x0d)) => {
            h.get(2) == Some(&4)
                && h.get(3).is_some_and(|a| (1..=13).contains(a))
                && h.get(4).is_some_and(|t| matches!(t, 0 | 1 | 3))
        }
        // Old-format tag 1 (0x85), two length bytes: version 3, 8-byte key id, public-key
        // algorithm (RSA, Elgamal, ECDH).
        (Some(0x85), Some(0x00..=0x04)) => {
            h.get(3) == Some(&3) && h.get(12).is_some_and(|a| matches!(a, 1 | 2 | 16 | 18))
        }
        _ => false,
    }
}

/// Whether an MPEG audio frame header starts at `off`.
pub(crate) fn is_mp3_frame(h: &[u8], off: usize) -> bool {
    mp3_frame_len(h, off).is_some()
}

/// The length of the MPEG-1/2 Layer III frame whose header is at `off`.
pub(crate) fn mp3_frame_len(h: &[u8], off: usize) -> Option<usize> {
    let b = h.get(off..off + 4)?;
    if b[0] != 0xff || b[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (b[1] >> 3) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
    let layer = (b[1] >> 1) & 3; // 1 = layer III
    let bitrate_idx = usize::from(b[2] >> 4);
    let rate_idx = usize::from((b[2] >> 2) & 3);
    let padding = usize::from((b[2] >> 1) & 1);
    if version == 1 || layer != 1 || bitrate_idx == 0 || bitrate_idx == 15 || rate_idx == 3 {
        return None;
    }
    const V1: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let rates: [usize; 3] = match version {
        3 => [44100, 48000, 32000],
        2 => [22050, 24000, 16000],
        _ => [11025, 12000, 8000],
    };
    let bitrate = if version == 3 {
        V1[bitrate_idx]
    } else {
        V2[bitrate_idx]
    } * 1000;
    let coeff = if version == 3 { 144 } else { 72 };
    Some(coeff * bitrate / rates[rate_idx] + padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(Format::sniff(b"PK\x03\x04\x14\0"), Some(Format::Zip));
        assert_eq!(Format::sniff(b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypmp42"), Some(Format::Mp4));
        assert_eq!(Format::sniff(b"hello world"), None);
        // OpenPGP: gpg --symmetric (iterated S2K, AES-256) and a public-key session key.
        assert_eq!(
            Format::sniff(&[0x8c, 0x0d, 4, 9, 3, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xee]),
            Some(Format::CryptoContainer)
        );
        assert_eq!(
            Format::sniff(&[0x85, 0x01, 0x0c, 3, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0x08, 0x00]),
            Some(Format::CryptoContainer)
        );
        // The same first two bytes followed by random bytes are not a PGP message.
        assert_eq!(Format::sniff(&[0x8c, 0x0d, 0x9a, 0x31, 0xf0, 0x12]), None);
        assert_eq!(Format::from_extension("xlsx"), Some(Format::Zip));
        assert_eq!(Format::from_extension("locked"), None);
    }
}
