//! The crate's one error type.

/// Why guidance could not be produced.
///
/// The guidance files are compiled into the binary and every one of them is loaded by the
/// crate's tests, so [`PlaybookError::Data`] and [`PlaybookError::UnknownContact`] mean a
/// broken build rather than bad user input. [`PlaybookError::UnknownSymptom`] is the only
/// error a user can cause (a mistyped `--symptom`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlaybookError {
    /// A name given for a symptom is not one of [`crate::Symptom::ALL`].
    #[error("`{value}` is not a valid symptom; expected one of: {expected}")]
    UnknownSymptom {
        /// What was given.
        value: String,
        /// The valid names, space-separated.
        expected: String,
    },
    /// An embedded data file does not match its schema.
    #[error("playbook data file `{file}` is invalid: {source}")]
    Data {
        /// The file, relative to the crate's `data/` folder.
        file: &'static str,
        /// What the YAML parser said, with line and column.
        #[source]
        source: serde_yaml::Error,
    },
    /// A first-aid file names a contact that `data/contacts.yaml` does not define.
    #[error("playbook data file `{file}` names unknown contact `{id}`")]
    UnknownContact {
        /// The first-aid file.
        file: &'static str,
        /// The contact id.
        id: String,
    },
    /// A data file is well-formed but says something inconsistent (wrong symptom or incident
    /// type in the header, duplicate task id).
    #[error("playbook data file `{file}` is inconsistent: {detail}")]
    Inconsistent {
        /// The file.
        file: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Parses one embedded YAML file, naming it in the error.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    file: &'static str,
    text: &str,
) -> Result<T, PlaybookError> {
    serde_yaml::from_str(text).map_err(|source| PlaybookError::Data { file, source })
}
