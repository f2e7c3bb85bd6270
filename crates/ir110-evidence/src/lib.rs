//! Evidence preservation (証拠保全) for ir110.
//!
//! - [`collect`] walks a source (a mounted image, a copied volume, or `/`) once: it writes a
//!   listing of every entry (`listing.csv`), copies and hashes the files a [`Profile`] names
//!   under their original paths, and seals the package with a signed `manifest.json` and the
//!   first entry of a hash-chained custody log. Sources are opened read-only with `O_NOATIME`;
//!   unreadable files are recorded and the run goes on; an interrupted run resumes.
//! - [`verify`] re-hashes every file and checks the signature and the custody chain, naming
//!   each failure.
//! - [`custody_add`] / [`custody_show`] keep the chain of custody; [`preservation_record`]
//!   renders the 保全記録書.
//! - [`archive_package`] and [`encrypt_file`] prepare a package for transport.
//! - [`open_package`] makes a package (directory or archive) an input for triage, with original
//!   paths and manifest hashes.
//!
//! The package format is documented in `docs/package-format.md` so that anyone can verify a
//! package without ir110.

mod archive;
mod collect;
mod copy;
mod custody;
mod error;
mod keys;
pub mod manifest;
mod names;
mod package;
mod profile;
mod record;
mod verify;
mod walk;

use std::sync::LazyLock;

use ir110_model::Catalog;

pub use archive::{ArchiveFormat, ArchiveSummary, archive_package, encrypt_file};
pub use collect::{
    CollectObserver, CollectOptions, CollectPhase, CollectSummary, NoProgress, TOOL_VERSION,
    collect,
};
pub use copy::{ReadOnlyOpener, SourceReader};
pub use custody::{
    ChainProblem, CustodyAction, CustodyEntry, CustodyEvent, ParseActionError, custody_add,
    custody_show, sidecar_path,
};
pub use error::EvidenceError;
pub use keys::{fingerprint, generate_key, load_key, parse_public_key_pem, public_key_pem};
pub use manifest::{CaseMeta, HostFacts, Manifest};
pub use package::{Package, PackageEntry, open_package, open_package_in};
pub use profile::{
    CompiledProfile, LINUX_PROFILE, Layout, Profile, ProfileChoice, Target, TargetAction,
    WINDOWS_PROFILE, detect_layout,
};
pub use record::preservation_record;
pub use verify::{VerifyFailure, VerifyReport, verify};

/// Re-exported so callers need not depend on `ed25519-dalek` directly.
pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// Message catalogue entries of this crate (`evidence.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

/// The model's and this crate's messages, for rendering failures and the record. An immutable
/// table; a broken catalogue is caught by the tests, and renders keys rather than panicking.
pub(crate) static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_every_key_used() {
        let c = Catalog::from_sources(&[ir110_model::MESSAGES, MESSAGES]).unwrap();
        // Keys the CLI (`ir110-cli/src/cmd/evidence.rs`) renders.
        for key in [
            "evidence.cli.listing",
            "evidence.cli.copying",
            "evidence.cli.sealing",
            "evidence.cli.resumed",
            "evidence.cli.archive-written",
            "evidence.cli.encrypted",
            "evidence.cli.no-key",
            "evidence.cli.key-created",
            "evidence.cli.key-show",
            "evidence.cli.custody-added",
            "evidence.cli.record-written",
            "evidence.cli.key-differs",
            "evidence.cli.registered",
            "evidence.collect.summary",
            "evidence.collect.failed-file",
            "evidence.collect.changed-file",
            "evidence.collect.empty-targets",
            "evidence.collect.package",
            "evidence.verify.ok",
            "evidence.verify.failed",
        ] {
            assert!(c.contains(key), "missing message {key}");
        }
        for a in CustodyAction::ALL {
            assert!(c.contains(&format!("evidence.custody.{a}")), "{a}");
        }
        let source = [
            include_str!("verify.rs"),
            include_str!("record.rs"),
            include_str!("collect.rs"),
        ]
        .concat();
        // Keys built as m("…") in verify.rs and t("…") in record.rs.
        for (prefix, marker) in [("evidence.verify.", "m(\""), ("evidence.record.", "t(\"")] {
            let mut found = 0;
            for part in source.split(marker).skip(1) {
                let Some(end) = part.find('"') else { continue };
                let key = format!("{prefix}{}", &part[..end]);
                if part[..end].contains(['{', ' ']) {
                    continue;
                }
                found += 1;
                assert!(c.contains(&key), "missing message {key}");
            }
            assert!(found > 5, "{prefix}: {found}");
        }
    }
}
