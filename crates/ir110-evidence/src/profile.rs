//! Collection profiles: YAML data files naming what to collect, like KAPE targets.
//!
//! A profile lists targets; each target has a name, a description and globs relative to the
//! source root. The built-in `windows` and `linux` profiles live in `profiles/*.yaml` and are
//! compiled in; a responder can write their own and pass its path. See `profiles/linux.yaml`
//! for the format.

use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EvidenceError, IoContext};

/// The built-in Windows profile (YAML text).
pub const WINDOWS_PROFILE: &str = include_str!("../profiles/windows.yaml");
/// The built-in Linux profile (YAML text).
pub const LINUX_PROFILE: &str = include_str!("../profiles/linux.yaml");

/// What to do with the files a target matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetAction {
    /// Copy and hash the content.
    #[default]
    Copy,
    /// Record the metadata only, in `listings/<target>.csv`.
    List,
}

/// One target of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Short name (`event-logs`), used in the manifest and for listing files.
    pub name: String,
    /// What the target holds and why it matters.
    pub description: String,
    /// Copy or list.
    #[serde(default)]
    pub action: TargetAction,
    /// Globs relative to the source root, `/`-separated.
    pub globs: Vec<String>,
}

/// A collection profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Name (`windows`, `linux`, or the author's).
    pub name: String,
    /// What it collects.
    pub description: String,
    /// Match names ignoring ASCII case (Windows volumes).
    #[serde(default)]
    pub case_insensitive: bool,
    /// Directories (globs relative to the root) that are not walked at all.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The targets, in priority order: the first match takes a file.
    pub targets: Vec<Target>,
}

/// Which profile to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChoice {
    /// Detect the layout of the source: `Windows/` → windows, `etc/` and `var/log/` → linux.
    Auto,
    /// A built-in profile by name (`windows`, `linux`).
    Builtin(String),
    /// A YAML profile file.
    File(PathBuf),
}

impl std::str::FromStr for ProfileChoice {
    type Err = std::convert::Infallible;
    /// `auto`, `windows`, `linux`, or a path to a YAML file.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => ProfileChoice::Auto,
            "windows" | "linux" => ProfileChoice::Builtin(s.to_owned()),
            path => ProfileChoice::File(PathBuf::from(path)),
        })
    }
}

/// The file-system layout of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A Windows volume.
    Windows,
    /// A Linux root file system.
    Linux,
}

/// Recognises the layout of a source root: a `Windows/System32` directory (any case) means
/// Windows; `etc/` together with `var/log/` means Linux.
pub fn detect_layout(root: &Path) -> Option<Layout> {
    let child = |dir: &Path, name: &str| -> Option<PathBuf> {
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
            .map(|e| e.path())
            .filter(|p| p.is_dir())
    };
    if child(root, "Windows")
        .and_then(|w| child(&w, "System32"))
        .is_some()
    {
        return Some(Layout::Windows);
    }
    if root.join("etc").is_dir() && root.join("var/log").is_dir() {
        return Some(Layout::Linux);
    }
    None
}

/// A profile ready to match paths, with the YAML it came from.
#[derive(Debug, Clone)]
pub struct CompiledProfile {
    /// The profile.
    pub profile: Profile,
    /// The YAML text (kept in the collection state so that a resume uses the same profile).
    pub yaml: String,
    /// SHA-256 of the YAML text, recorded in the manifest.
    pub sha256: String,
    patterns: Vec<(usize, Pattern)>,
    exclude: Vec<Pattern>,
    options: MatchOptions,
}

impl CompiledProfile {
    /// Parses and compiles a profile from YAML text. `name` is for error messages.
    pub fn from_yaml(name: &str, yaml: &str) -> Result<CompiledProfile, EvidenceError> {
        let err = |detail: String| EvidenceError::Profile {
            name: name.to_owned(),
            detail,
        };
        let profile: Profile = serde_yaml::from_str(yaml).map_err(|e| err(e.to_string()))?;
        let mut patterns = Vec::new();
        for (i, t) in profile.targets.iter().enumerate() {
            if t.name.is_empty() || t.name.contains(['/', '\\']) || t.name.starts_with('.') {
                return Err(err(format!("target name `{}` is not a plain name", t.name)));
            }
            for g in &t.globs {
                let p = Pattern::new(g.trim_start_matches('/'))
                    .map_err(|e| err(format!("target {}: glob `{g}`: {e}", t.name)))?;
                patterns.push((i, p));
            }
        }
        let exclude = profile
            .exclude
            .iter()
            .map(|g| Pattern::new(g.trim_start_matches('/')).map_err(|e| err(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let options = MatchOptions {
            case_sensitive: !profile.case_insensitive,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        Ok(CompiledProfile {
            sha256: hex::encode(Sha256::digest(yaml.as_bytes())),
            yaml: yaml.to_owned(),
            profile,
            patterns,
            exclude,
            options,
        })
    }

    /// Resolves a choice against a source root.
    pub fn resolve(
        choice: &ProfileChoice,
        source: &Path,
    ) -> Result<CompiledProfile, EvidenceError> {
        match choice {
            ProfileChoice::Auto => match detect_layout(source) {
                Some(Layout::Windows) => Self::from_yaml("windows", WINDOWS_PROFILE),
                Some(Layout::Linux) => Self::from_yaml("linux", LINUX_PROFILE),
                None => Err(EvidenceError::UnknownLayout {
                    path: source.to_path_buf(),
                }),
            },
            ProfileChoice::Builtin(name) => match name.as_str() {
                "windows" => Self::from_yaml("windows", WINDOWS_PROFILE),
                "linux" => Self::from_yaml("linux", LINUX_PROFILE),
                other => Err(EvidenceError::Profile {
                    name: other.to_owned(),
                    detail: "no such built-in profile (windows, linux)".to_owned(),
                }),
            },
            ProfileChoice::File(path) => {
                let yaml = std::fs::read_to_string(path).at(path)?;
                Self::from_yaml(&path.display().to_string(), &yaml)
            }
        }
    }

    /// The target that takes a file at `rel` (relative, `/`-separated), if any.
    pub fn target_for(&self, rel: &str) -> Option<&Target> {
        self.patterns
            .iter()
            .find(|(_, p)| p.matches_with(rel, self.options))
            .and_then(|(i, _)| self.profile.targets.get(*i))
    }

    /// Whether a directory at `rel` is walked.
    pub fn descend(&self, rel: &str) -> bool {
        !self
            .exclude
            .iter()
            .any(|p| p.matches_with(rel, self.options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(p: &CompiledProfile, rel: &str) -> Option<String> {
        p.target_for(rel).map(|t| t.name.clone())
    }

    #[test]
    fn windows_profile_matches_ignoring_case() {
        let p = CompiledProfile::from_yaml("windows", WINDOWS_PROFILE).unwrap();
        assert_eq!(
            target(&p, "Windows/System32/winevt/Logs/Security.evtx").as_deref(),
            Some("event-logs")
        );
        assert_eq!(
            target(&p, "WINDOWS/system32/winevt/logs/System.EVTX").as_deref(),
            Some("event-logs")
        );
        assert_eq!(
            target(&p, "Users/taro/NTUSER.DAT").as_deref(),
            Some("registry-user-hives")
        );
        assert_eq!(
            target(
                &p,
                "Users/taro/AppData/Local/Microsoft/Windows/UsrClass.dat"
            )
            .as_deref(),
            Some("registry-user-hives")
        );
        assert_eq!(
            target(
                &p,
                "Windows/System32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag"
            )
            .as_deref(),
            Some("scheduled-tasks")
        );
        assert_eq!(
            target(&p, "inetpub/wwwroot/aspnet_client/shell.aspx").as_deref(),
            Some("web-roots")
        );
        assert_eq!(target(&p, "Users/taro/Documents/見積書.xlsx"), None);
        // `*` does not cross directories.
        assert_eq!(target(&p, "Users/a/b/NTUSER.DAT"), None);
    }

    #[test]
    fn linux_profile_orders_targets() {
        let p = CompiledProfile::from_yaml("linux", LINUX_PROFILE).unwrap();
        assert_eq!(
            target(&p, "var/log/auth.log.1").as_deref(),
            Some("auth-logs")
        );
        assert_eq!(target(&p, "var/log/syslog").as_deref(), Some("logs"));
        assert_eq!(
            target(&p, "var/log/nginx/access.log").as_deref(),
            Some("web-server-logs")
        );
        assert_eq!(
            target(&p, "var/log/journal/abc/system.journal").as_deref(),
            Some("journal")
        );
        assert_eq!(
            target(&p, "home/taro/.bash_history").as_deref(),
            Some("shell-histories")
        );
        assert_eq!(
            target(&p, "tmp/.x/payload").as_deref(),
            Some("temp-listing")
        );
        assert_eq!(target(&p, "etc/shadow"), None);
        assert!(!p.descend("proc"));
        assert!(p.descend("etc"));
    }

    #[test]
    fn bad_profiles_are_errors() {
        assert!(matches!(
            CompiledProfile::from_yaml(
                "x",
                "name: x\ndescription: d\ntargets:\n  - name: a\n    description: d\n    globs: ['[']\n"
            ),
            Err(EvidenceError::Profile { .. })
        ));
        assert!(CompiledProfile::from_yaml("x", "not: [valid").is_err());
    }
}
