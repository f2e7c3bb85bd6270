//! Rule diagnostics as data (the yara-x `CompileError` model).
//!
//! Every problem found while reading or compiling a rule is a [`Diagnostic`]: a stable code, a
//! severity, the rule file, the location in it and a [`Message`] key with arguments. The CLI
//! renders them (`ir110 hunt --check-rules`); JSON consumers read them as they are. Codes are
//! stable: a code once published keeps its meaning, new problems get new codes.
//!
//! An error means the rule (or the correlation) was not loaded; a warning means it was loaded but
//! something about it will not behave as its author may expect.

use std::fmt;
use std::path::PathBuf;

use ir110_model::Message;
use serde::Serialize;

pub use crate::yaml::Location;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticSeverity {
    /// The rule loads, with a caveat.
    Warning,
    /// The rule was not loaded.
    Error,
}

/// The stable diagnostic codes. `Code::S001.as_str()` is `"S001"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Code {
    /// The file could not be read.
    S001,
    /// The file is not valid YAML.
    S002,
    /// A YAML document is not a mapping, or a key holds the wrong kind of value.
    S003,
    /// A required key is missing (`detection`, `condition`, `logsource`, `title`).
    S004,
    /// The condition does not parse.
    S005,
    /// The condition names a search identifier that the detection does not define.
    S006,
    /// Unknown value modifier.
    S007,
    /// Modifiers that cannot be combined, or a value a modifier cannot take.
    S008,
    /// A regular expression the engine cannot compile.
    S009,
    /// An invalid CIDR network.
    S010,
    /// An `expand` placeholder with no value supplied by the caller: the value never matches.
    S011,
    /// An aggregation in a condition that cannot be evaluated (`sum`, `avg`, `near`, …, or a
    /// malformed `count()`).
    S012,
    /// Two rules share one `id`: the later one is skipped.
    S013,
    /// Unknown `level` or `status` value.
    S014,
    /// An invalid correlation rule.
    S015,
    /// A correlation refers to a rule that is not loaded.
    S016,
    /// A key repeated in one mapping: the first occurrence is used.
    S017,
    /// A Windows log source with no channel mapping: no Windows event can carry it, so the rule
    /// never fires on Windows records.
    S018,
    /// A detection identifier the condition never uses.
    S019,
    /// A value of a search identifier is empty (an empty list or mapping): it never matches.
    S020,
    /// A deprecated `| count()` aggregation, evaluated as the equivalent correlation.
    S021,
}

impl Code {
    /// The code as text, e.g. `"S005"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::S001 => "S001",
            Code::S002 => "S002",
            Code::S003 => "S003",
            Code::S004 => "S004",
            Code::S005 => "S005",
            Code::S006 => "S006",
            Code::S007 => "S007",
            Code::S008 => "S008",
            Code::S009 => "S009",
            Code::S010 => "S010",
            Code::S011 => "S011",
            Code::S012 => "S012",
            Code::S013 => "S013",
            Code::S014 => "S014",
            Code::S015 => "S015",
            Code::S016 => "S016",
            Code::S017 => "S017",
            Code::S018 => "S018",
            Code::S019 => "S019",
            Code::S020 => "S020",
            Code::S021 => "S021",
        }
    }

    /// The severity a code always has.
    pub fn severity(self) -> DiagnosticSeverity {
        match self {
            Code::S011
            | Code::S013
            | Code::S014
            | Code::S017
            | Code::S018
            | Code::S019
            | Code::S020
            | Code::S021 => DiagnosticSeverity::Warning,
            _ => DiagnosticSeverity::Error,
        }
    }

    /// The message catalogue key of this code (`sigma.diag.S005`).
    pub fn message_key(self) -> String {
        format!("sigma.diag.{}", self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in one rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error (rule not loaded) or warning.
    pub severity: DiagnosticSeverity,
    /// The rule file (or `builtin:<name>` for embedded rules).
    pub path: PathBuf,
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// The rule's `id` when it was read before the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The text for a person: key `sigma.diag.<code>` with arguments (always `detail`).
    pub message: Message,
    /// The same in English, for logs and tests that do not load a catalogue.
    pub detail: String,
}

impl Diagnostic {
    /// A diagnostic; `detail` is the English explanation, also passed as the `detail` argument.
    pub fn new(
        code: Code,
        path: impl Into<PathBuf>,
        location: Option<Location>,
        detail: impl Into<String>,
    ) -> Diagnostic {
        let detail = detail.into();
        Diagnostic {
            code,
            severity: code.severity(),
            path: path.into(),
            location,
            rule_id: None,
            message: Message::new(code.message_key()).arg("detail", &detail),
            detail,
        }
    }

    /// Whether the rule was rejected.
    pub fn is_error(&self) -> bool {
        self.severity == DiagnosticSeverity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:column: error[S005]: detail` — the compiler-like one-line form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        };
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.location {
            write!(f, ":{}:{}", l.line, l.column)?;
        }
        write!(f, ": {sev}[{}]: {}", self.code, self.detail)
    }
}

/// How many rules a load read, loaded and rejected, and how many diagnostics of each severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LoadCounts {
    /// Rule files read (`.yml`/`.yaml`).
    pub files: usize,
    /// YAML documents that were rules or correlations.
    pub documents: usize,
    /// Detection rules loaded.
    pub rules: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Rules or documents rejected (each has at least one error diagnostic).
    pub rejected: usize,
    /// Rules skipped because their level is below `min_level` (not a problem).
    pub below_min_level: usize,
    /// Rules loaded whose Windows log source has no channel mapping (warning S018): they
    /// never fire on Windows records.
    pub unmapped: usize,
    /// Error diagnostics.
    pub errors: usize,
    /// Warning diagnostics.
    pub warnings: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_stable() {
        let d = Diagnostic::new(
            Code::S005,
            "rules/x.yml",
            Some(Location { line: 3, column: 7 }),
            "unexpected `)`",
        );
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["code"], "S005");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["location"]["line"], 3);
        assert_eq!(v["message"]["key"], "sigma.diag.S005");
        assert_eq!(
            d.to_string(),
            "rules/x.yml:3:7: error[S005]: unexpected `)`"
        );
    }
}
