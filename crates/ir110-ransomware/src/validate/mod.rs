//! Format validators: each walks a format's own structure and checks its checksums, and says
//! whether the file is intact, where it breaks, or that it is legitimately encrypted.
//!
//! Validators take [`Content`]: for sampled (large) files some ranges are missing, and a
//! validator that needs a missing range stops there and reports what it verified so far
//! (`complete: false`). Every validator is total: any input gives a [`Check`], never a panic.

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::format::Format;

pub mod archive;
pub mod image;
pub mod media;
pub mod misc;
pub mod office;
pub mod pdf;
pub mod text;
pub mod zip;

/// What a validator concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Check {
    /// The structure holds. `complete` when every byte was covered by a structural or checksum
    /// check; otherwise only what was read or what the format lets us check.
    Intact {
        /// Whether the check covered the whole file.
        complete: bool,
    },
    /// The structure breaks at `offset`.
    Broken {
        /// Where the first inconsistency is.
        offset: u64,
        /// What was wrong (a stable short code).
        what: &'static str,
    },
    /// The file ends in the middle of a structure.
    Truncated {
        /// Where the structure that runs past the end starts.
        offset: u64,
    },
    /// Legitimately encrypted (password-protected document or archive).
    Protected {
        /// Which protection (a stable short code).
        what: &'static str,
    },
}

impl Check {
    /// A break at `offset`.
    pub(crate) fn broken(offset: u64, what: &'static str) -> Check {
        Check::Broken { offset, what }
    }
}

/// Runs the validator for `format`.
pub fn validate(format: Format, content: &Content) -> Check {
    match format {
        Format::Zip => zip::check(content),
        Format::Pdf => pdf::check(content),
        Format::Png => image::png(content),
        Format::Jpeg => image::jpeg(content),
        Format::Gif => image::gif(content),
        Format::Bmp => image::bmp(content),
        Format::Tiff => image::tiff(content),
        Format::Netpbm => image::netpbm(content),
        Format::Riff => media::riff(content),
        Format::Ogg => media::ogg(content),
        Format::Mp3 => media::mp3(content),
        Format::Mp4 => media::mp4(content),
        Format::Mpeg => media::mpeg_ps(content),
        Format::Flac => media::flac(content),
        Format::Matroska => media::matroska(content),
        Format::Ole2 => office::ole2(content),
        Format::Gzip => archive::gzip(content),
        Format::Bzip2 => archive::bzip2(content),
        Format::Xz => archive::xz(content),
        Format::Zstd => archive::zstd(content),
        Format::SevenZip => archive::seven_zip(content),
        Format::Rar => archive::rar(content),
        Format::Tar => archive::tar(content),
        Format::Sqlite => misc::sqlite(content),
        Format::Font => misc::font(content),
        Format::Woff => misc::woff(content),
        Format::Pe => misc::pe(content),
        Format::Elf => misc::elf(content),
        Format::Xcf | Format::Psd => Check::Intact { complete: false },
        Format::CryptoContainer => Check::Protected {
            what: "crypto-container",
        },
        Format::Text => text::check(content),
    }
}
