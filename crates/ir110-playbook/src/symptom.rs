//! What the caller reports, and how it maps to incident types and finding categories.

use std::fmt;

use ir110_model::{Category, IncidentType};
use serde::{Deserialize, Serialize};

use crate::PlaybookError;

/// What the person on the phone says is happening, in their words rather than ours.
///
/// Callers rarely say "ransomware": they say files will not open or the extension became a
/// strange string. Each symptom has its own first-aid sheet so the advice matches what the
/// caller can see, even where several symptoms lead to the same incident type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symptom {
    /// Files encrypted and a ransom demanded.
    Ransomware,
    /// The company's website was altered.
    Defacement,
    /// Malicious mail (Emotet and the like) is being sent from the company's addresses.
    Emotet,
    /// Data has leaked or may have leaked.
    Leak,
    /// A UTM, antivirus or EDR product raised an alert.
    AvAlert,
    /// A PC was infected while browsing.
    DriveBy,
    /// Excel, PDF and other files suddenly will not open.
    FilesWontOpen,
    /// File names gained an unfamiliar extension.
    UnknownExtension,
    /// Unauthorized access is suspected and its cause must be found.
    Intrusion,
}

impl Symptom {
    /// Every symptom, in the order the CLI lists them.
    pub const ALL: &'static [Symptom] = &[
        Symptom::Ransomware,
        Symptom::Defacement,
        Symptom::Emotet,
        Symptom::Leak,
        Symptom::AvAlert,
        Symptom::DriveBy,
        Symptom::FilesWontOpen,
        Symptom::UnknownExtension,
        Symptom::Intrusion,
    ];

    /// The stable kebab-case name used by `--symptom`, JSON, data file names and message keys
    /// (`playbook.symptom.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Symptom::Ransomware => "ransomware",
            Symptom::Defacement => "defacement",
            Symptom::Emotet => "emotet",
            Symptom::Leak => "leak",
            Symptom::AvAlert => "av-alert",
            Symptom::DriveBy => "drive-by",
            Symptom::FilesWontOpen => "files-wont-open",
            Symptom::UnknownExtension => "unknown-extension",
            Symptom::Intrusion => "intrusion",
        }
    }

    /// The incident type a case opened for this symptom starts with (the responder may change
    /// it once the facts are known): files that will not open and strange extensions are
    /// treated as ransomware until proven otherwise.
    pub fn incident_type(self) -> IncidentType {
        match self {
            Symptom::Ransomware | Symptom::FilesWontOpen | Symptom::UnknownExtension => {
                IncidentType::Ransomware
            }
            Symptom::Defacement => IncidentType::Defacement,
            Symptom::Emotet => IncidentType::Emotet,
            Symptom::Leak => IncidentType::Leak,
            Symptom::AvAlert => IncidentType::AvAlert,
            Symptom::DriveBy => IncidentType::DriveBy,
            Symptom::Intrusion => IncidentType::UnauthorizedAccess,
        }
    }
}

impl fmt::Display for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Symptom {
    type Err = PlaybookError;

    /// Accepts the kebab-case name in any case, with `_` for `-` (as the model's enums do).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Symptom::ALL
            .iter()
            .copied()
            .find(|symptom| symptom.as_str() == wanted)
            .ok_or_else(|| PlaybookError::UnknownSymptom {
                value: s.to_owned(),
                expected: Symptom::ALL
                    .iter()
                    .map(|symptom| symptom.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            })
    }
}

/// The first-aid sheet to show for a case of this incident type.
///
/// `Other` gets the intrusion sheet: when nobody knows yet what happened, the safe first steps
/// are the generic ones (preserve logs before they roll over, isolate, check accounts).
pub fn symptom_for_incident(incident: IncidentType) -> Symptom {
    match incident {
        IncidentType::Ransomware => Symptom::Ransomware,
        IncidentType::UnauthorizedAccess | IncidentType::Other => Symptom::Intrusion,
        IncidentType::Defacement => Symptom::Defacement,
        IncidentType::Emotet => Symptom::Emotet,
        IncidentType::Leak => Symptom::Leak,
        IncidentType::AvAlert => Symptom::AvAlert,
        IncidentType::DriveBy => Symptom::DriveBy,
    }
}

/// The first-aid sheets that apply when a finding of this category is reported, most relevant
/// first, so a report can show "what to do now" next to what was found.
///
/// Empty for categories that call for no immediate action: posture findings (weak settings are
/// fixed as prevention, not as first aid) and `Other`.
pub fn symptoms_for_category(category: Category) -> &'static [Symptom] {
    match category {
        Category::Ransomware => &[Symptom::Ransomware],
        Category::InitialAccess
        | Category::CredentialAccess
        | Category::Execution
        | Category::Persistence
        | Category::PrivilegeEscalation
        | Category::DefenseEvasion
        | Category::Discovery
        | Category::LateralMovement
        | Category::C2 => &[Symptom::Intrusion],
        // Data leaving means a possible leak (with its reporting clock) and an intruder.
        Category::Exfiltration => &[Symptom::Leak, Symptom::Intrusion],
        // Web compromise includes form skimmers, which leak card and personal data.
        Category::WebCompromise => &[Symptom::Defacement, Symptom::Leak],
        Category::MailAbuse => &[Symptom::Emotet],
        Category::Malware => &[Symptom::AvAlert],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Symptom::ALL {
            assert_eq!(s.as_str().parse::<Symptom>().unwrap(), *s);
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            "Files_Wont_Open".parse::<Symptom>().unwrap(),
            Symptom::FilesWontOpen
        );
        let err = "flood".parse::<Symptom>().unwrap_err().to_string();
        assert_eq!(
            err,
            "`flood` is not a valid symptom; expected one of: ransomware defacement emotet \
             leak av-alert drive-by files-wont-open unknown-extension intrusion"
        );
    }

    #[test]
    fn every_incident_type_maps_back_to_itself_or_to_intrusion() {
        for t in IncidentType::ALL {
            let s = symptom_for_incident(*t);
            if *t == IncidentType::Other {
                assert_eq!(s, Symptom::Intrusion);
            } else {
                assert_eq!(s.incident_type(), *t, "{t}");
            }
        }
    }

    #[test]
    fn categories() {
        assert_eq!(
            symptoms_for_category(Category::Ransomware),
            &[Symptom::Ransomware]
        );
        assert_eq!(
            symptoms_for_category(Category::Exfiltration),
            &[Symptom::Leak, Symptom::Intrusion]
        );
        assert_eq!(
            symptoms_for_category(Category::MailAbuse),
            &[Symptom::Emotet]
        );
        assert!(symptoms_for_category(Category::Posture).is_empty());
        assert!(symptoms_for_category(Category::Other).is_empty());
    }
}
