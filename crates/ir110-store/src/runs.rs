//! Triage runs: when triage ran over a case's evidence, with which version and inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Entity, Result, StoreError};
use crate::store::{RowExt, Store, from_json, micros, time, to_json, with_pool};
use crate::tx::{Tx, with_tx};

/// One run of `ir110 triage` over a case's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRun {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// The ir110 version that ran it.
    pub tool_version: String,
    /// The paths it read.
    pub inputs: Vec<String>,
    /// What it found, for machines (counts per analyzer, problems, …).
    pub summary: serde_json::Value,
}

/// A stored [`TriageRun`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The run.
    #[serde(flatten)]
    pub run: TriageRun,
}

const RUN_COLUMNS: &str = "id, case_id, started_at, finished_at, tool_version, inputs, summary";

fn run_from_row(row: &impl RowExt) -> Result<RunRecord> {
    let id = row.int("id")?;
    Ok(RunRecord {
        id,
        case_id: row.int("case_id")?,
        run: TriageRun {
            started_at: time("triage run", id, row.int("started_at")?)?,
            finished_at: time("triage run", id, row.int("finished_at")?)?,
            tool_version: row.text("tool_version")?,
            inputs: from_json("triage run inputs", id, &row.text("inputs")?)?,
            summary: from_json("triage run summary", id, &row.text("summary")?)?,
        },
    })
}

impl Store {
    /// Records a triage run. Times are kept to the microsecond. (See [`Tx::record_run`].)
    pub async fn record_run(&self, case_id: i64, run: &TriageRun) -> Result<RunRecord> {
        let mut tx = self.begin().await?;
        let Some(record) = tx.record_run(&Scope::all(), case_id, run).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(record)
    }

    /// The case's triage runs, oldest first.
    pub async fn list_runs(&self, case_id: i64) -> Result<Vec<RunRecord>> {
        self.ensure_case(case_id).await?;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM triage_runs WHERE case_id = $1 ORDER BY started_at, id"
        );
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .bind(case_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(run_from_row)
                .collect()
        })
    }
}

impl Tx {
    /// Records a triage run of case `case_id` if the case is inside `scope` (the `INSERT`
    /// selects the case through the scope); `None` otherwise.
    pub async fn record_run(
        &mut self,
        scope: &Scope,
        case_id: i64,
        run: &TriageRun,
    ) -> Result<Option<RunRecord>> {
        let sql = format!(
            "INSERT INTO triage_runs (case_id, started_at, finished_at, tool_version, inputs, \
             summary) SELECT c.id, $2, $3, $4, $5, $6 FROM cases c WHERE c.id = $1 AND {} \
             RETURNING {RUN_COLUMNS}",
            scope_clause("c.client_id", 7)
        );
        let inputs = to_json("triage run inputs", &run.inputs)?;
        let summary = to_json("triage run summary", &run.summary)?;
        with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(case_id)
                    .bind(micros(run.started_at))
                    .bind(micros(run.finished_at))
                    .bind(&run.tool_version)
                    .bind(&inputs)
                    .bind(&summary),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(row) => Ok(Some(run_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }
}
