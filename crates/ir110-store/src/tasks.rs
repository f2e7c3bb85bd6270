//! Case tasks, created from the per-incident-type playbooks and ticked off as the case goes on.

use chrono::{DateTime, Utc};
use ir110_model::Phase;
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Entity, Result, StoreError};
use crate::store::{RowExt, Store, micros, now, parse_name, time, with_pool};
use crate::tx::{Tx, with_tx};

/// A task to add to a case (from `ir110_playbook::tasks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    /// Stable playbook id (`ransomware.isolate`); adding the same id twice adds it once.
    pub key: String,
    /// Phase it belongs to.
    pub phase: Phase,
    /// Title in Japanese and English.
    pub title: [String; 2],
    /// Description in Japanese and English.
    pub description: [String; 2],
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTask {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Playbook id.
    pub key: String,
    /// Phase.
    pub phase: Phase,
    /// Title `[ja, en]`.
    pub title: [String; 2],
    /// Description `[ja, en]`.
    pub description: [String; 2],
    /// When done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    /// Who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<String>,
}

const TASK_COLUMNS: &str = "t.id, t.case_id, t.task_key, t.phase, t.title_ja, t.title_en, \
     t.description_ja, t.description_en, t.done_at, t.done_by";

fn task_from_row(row: &impl RowExt) -> Result<CaseTask> {
    let id = row.int("id")?;
    Ok(CaseTask {
        id,
        case_id: row.int("case_id")?,
        key: row.text("task_key")?,
        phase: parse_name("task phase", id, &row.text("phase")?)?,
        title: [row.text("title_ja")?, row.text("title_en")?],
        description: [row.text("description_ja")?, row.text("description_en")?],
        done_at: row
            .opt_int("done_at")?
            .map(|t| time("task", id, t))
            .transpose()?,
        done_by: row.opt_text("done_by")?,
    })
}

impl Store {
    /// Adds tasks to a case (the CLI; see [`Tx::add_tasks`]); [`StoreError::NotFound`] when
    /// the case does not exist. Returns how many were added.
    pub async fn add_tasks(&self, case_id: i64, tasks: &[NewTask]) -> Result<u64> {
        let mut tx = self.begin().await?;
        let Some(added) = tx.add_tasks(&Scope::all(), case_id, tasks).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(added)
    }

    /// The tasks of case `case_id` if the case is inside `scope`, in playbook order.
    pub async fn tasks_in_scope(&self, scope: &Scope, case_id: i64) -> Result<Vec<CaseTask>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM case_tasks t JOIN cases c ON c.id = t.case_id \
             WHERE t.case_id = $1 AND {} ORDER BY t.position, t.id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(task_from_row)
                .collect()
        })
    }

    /// The task `task_id` if its case is inside `scope`.
    pub async fn task_in_scope(&self, scope: &Scope, task_id: i64) -> Result<Option<CaseTask>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM case_tasks t JOIN cases c ON c.id = t.case_id \
             WHERE t.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(task_id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Ok(Some(task_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Marks a task done (or not done again) if its case is inside `scope`, in a transaction
    /// of its own (not audited; the server uses [`Tx::set_task_done`]).
    pub async fn set_task_done(
        &self,
        scope: &Scope,
        task_id: i64,
        done: bool,
        actor: &str,
    ) -> Result<Option<CaseTask>> {
        let mut tx = self.begin().await?;
        let task = tx.set_task_done(scope, task_id, done, actor).await?;
        tx.commit().await?;
        Ok(task)
    }
}

impl Tx {
    /// Adds tasks to case `case_id` if the case is inside `scope`, after the ones it has; tasks
    /// whose key it already has are skipped. Returns how many were added, or `None` (nothing
    /// written) when out of scope. Every statement carries the scope.
    pub async fn add_tasks(
        &mut self,
        scope: &Scope,
        case_id: i64,
        tasks: &[NewTask],
    ) -> Result<Option<u64>> {
        let mut added = 0;
        let base_sql = format!(
            "SELECT (SELECT COALESCE(MAX(t.position), 0) FROM case_tasks t \
             WHERE t.case_id = c.id) AS n FROM cases c WHERE c.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        let insert = format!(
            "INSERT INTO case_tasks (case_id, task_key, phase, position, title_ja, \
             title_en, description_ja, description_en) \
             SELECT c.id, $2, $3, $4, $5, $6, $7, $8 FROM cases c WHERE c.id = $1 AND {} \
             ON CONFLICT (case_id, task_key) DO NOTHING",
            scope_clause("c.client_id", 9)
        );
        with_tx!(self, |tx, Db| {
            let Some(base) = bind_scope!(sqlx::query(&base_sql).bind(case_id), scope)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let base = base.int("n")?;
            for (i, t) in tasks.iter().enumerate() {
                let done = bind_scope!(
                    sqlx::query(&insert)
                        .bind(case_id)
                        .bind(&t.key)
                        .bind(t.phase.as_str())
                        .bind(base + 1 + i64::try_from(i).unwrap_or(i64::MAX - base - 1))
                        .bind(&t.title[0])
                        .bind(&t.title[1])
                        .bind(&t.description[0])
                        .bind(&t.description[1]),
                    scope
                )
                .execute(&mut *tx)
                .await?;
                added += done.rows_affected();
            }
        });
        Ok(Some(added))
    }

    /// The task `task_id` if its case is inside `scope`, read inside the transaction.
    pub async fn task_in_scope(&mut self, scope: &Scope, task_id: i64) -> Result<Option<CaseTask>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM case_tasks t JOIN cases c ON c.id = t.case_id \
             WHERE t.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(sqlx::query(&sql).bind(task_id), scope)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(r) => Ok(Some(task_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Marks a task done (or not done again) if its case is inside `scope` (checked by the
    /// `UPDATE` itself); `None` when out of scope.
    pub async fn set_task_done(
        &mut self,
        scope: &Scope,
        task_id: i64,
        done: bool,
        actor: &str,
    ) -> Result<Option<CaseTask>> {
        let sql = format!(
            "UPDATE case_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND case_id IN \
             (SELECT c.id FROM cases c WHERE {}{})",
            scope_clause("c.client_id", 4),
            scope.nda_clause("c.id")
        );
        let (at, by) = if done {
            (Some(micros(now())), Some(actor))
        } else {
            (None, None)
        };
        let changed = with_tx!(self, |tx, Db| {
            bind_scope!(sqlx::query(&sql).bind(at).bind(by).bind(task_id), scope)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Ok(None);
        }
        self.task_in_scope(scope, task_id).await
    }
}
