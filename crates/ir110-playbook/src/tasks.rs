//! Case playbooks: the task list a case of each incident type starts with.
//!
//! The content lives in `data/tasks/<incident-type>.yaml`. The case-management server creates
//! one task per entry when a case is opened (and adds the entries of a second type when a case
//! turns out to be, say, ransomware *and* a leak); `id`s are stable so that adding a type twice
//! or re-running the import does not duplicate tasks.

use std::collections::BTreeSet;

use ir110_model::{IncidentType, Phase};
use serde::{Deserialize, Serialize};

use crate::error::parse_yaml;
use crate::{LocalizedText, PlaybookError};

/// One task of a case playbook, in both languages (a case may be worked in either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Task {
    /// Stable id, `<incident-type>.<name>` (`ransomware.isolate`).
    pub id: String,
    /// The phase the task belongs to; tasks come in phase order.
    pub phase: Phase,
    /// Short title.
    pub title: LocalizedText,
    /// What to do and what "done" means.
    pub description: LocalizedText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskListFile {
    incident: IncidentType,
    tasks: Vec<TaskFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    id: String,
    phase: Phase,
    title: LocalizedText,
    description: LocalizedText,
}

/// The embedded task list for an incident type: (file name for errors, content).
fn task_source(incident: IncidentType) -> (&'static str, &'static str) {
    match incident {
        IncidentType::Ransomware => (
            "tasks/ransomware.yaml",
            include_str!("../data/tasks/ransomware.yaml"),
        ),
        IncidentType::UnauthorizedAccess => (
            "tasks/unauthorized-access.yaml",
            include_str!("../data/tasks/unauthorized-access.yaml"),
        ),
        IncidentType::Defacement => (
            "tasks/defacement.yaml",
            include_str!("../data/tasks/defacement.yaml"),
        ),
        IncidentType::Emotet => (
            "tasks/emotet.yaml",
            include_str!("../data/tasks/emotet.yaml"),
        ),
        IncidentType::Leak => ("tasks/leak.yaml", include_str!("../data/tasks/leak.yaml")),
        IncidentType::AvAlert => (
            "tasks/av-alert.yaml",
            include_str!("../data/tasks/av-alert.yaml"),
        ),
        IncidentType::DriveBy => (
            "tasks/drive-by.yaml",
            include_str!("../data/tasks/drive-by.yaml"),
        ),
        IncidentType::Other => ("tasks/other.yaml", include_str!("../data/tasks/other.yaml")),
    }
}

/// The task list for a case of this incident type, in phase order.
///
/// Like [`crate::firstaid`], this parses compiled-in data that the tests load for every type;
/// an error means a broken build.
pub fn tasks(incident: IncidentType) -> Result<Vec<Task>, PlaybookError> {
    let (file, text) = task_source(incident);
    let list: TaskListFile = parse_yaml(file, text)?;
    if list.incident != incident {
        return Err(PlaybookError::Inconsistent {
            file,
            detail: format!("says incident type `{}`", list.incident),
        });
    }
    let mut seen = BTreeSet::new();
    let mut previous = Phase::Intake;
    list.tasks
        .into_iter()
        .map(|task| {
            if !seen.insert(task.id.clone()) {
                return Err(PlaybookError::Inconsistent {
                    file,
                    detail: format!("task id `{}` appears twice", task.id),
                });
            }
            // Phase order is what makes the list readable as a plan; keep the files honest.
            if task.phase < previous {
                return Err(PlaybookError::Inconsistent {
                    file,
                    detail: format!("task `{}` ({}) comes after {previous}", task.id, task.phase),
                });
            }
            previous = task.phase;
            Ok(Task {
                id: format!("{incident}.{}", task.id),
                phase: task.phase,
                title: task.title,
                description: task.description,
            })
        })
        .collect()
}
