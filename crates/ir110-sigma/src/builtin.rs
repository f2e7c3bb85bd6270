//! ir110's own rules, embedded in the binary.
//!
//! `ir110 hunt` must find rules without configuration, and an installed binary cannot count on
//! any directory, so a small curated set ships inside it: the events that matter first in an
//! incident (log clearing, new and suspicious services, brute force and spraying, RDP from the
//! internet, new accounts and admins, scheduled tasks, Defender detections and tampering,
//! suspicious PowerShell, shadow-copy deletion). They are ir110's own work under the crate's
//! licence; SigmaHQ rules (Detection Rule License, attribution required) are loaded from a
//! directory the user names, never embedded.

/// One embedded rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRule {
    /// The file name, e.g. `log_cleared.yml`.
    pub name: &'static str,
    /// The YAML text (one or more documents).
    pub yaml: &'static str,
}

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(BuiltinRule { name: $name, yaml: include_str!(concat!("../builtin/", $name)) }),*]
    };
}

const RULES: &[BuiltinRule] = builtin![
    "accounts.yml",
    "defender.yml",
    "log_cleared.yml",
    "logon.yml",
    "new_service.yml",
    "powershell.yml",
    "ransomware.yml",
];

/// The embedded rule files. Load them with [`RuleSet::builtin`](crate::RuleSet::builtin), or
/// write them out for a user to adapt.
pub fn builtin_rules() -> &'static [BuiltinRule] {
    RULES
}
