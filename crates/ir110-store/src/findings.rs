//! Findings, upserted by their stable id so that re-running triage updates rather than duplicates.

use chrono::{DateTime, Utc};
use ir110_model::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Entity, Result, StoreError};
use crate::store::{RowExt, Store, from_json, micros, now, to_json, with_pool};
use crate::tx::{Tx, with_tx};

/// What [`Store::upsert_findings`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpsertSummary {
    /// Findings the case did not have yet.
    pub inserted: u64,
    /// Findings that replaced a stored one with the same id.
    pub updated: u64,
}

/// Rank for ordering in SQL: most severe has the highest number.
fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The activity window of a stored finding, read exactly from its JSON body.
#[derive(Deserialize)]
struct Window {
    #[serde(default)]
    first_seen: Option<DateTime<Utc>>,
    #[serde(default)]
    last_seen: Option<DateTime<Utc>>,
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl Store {
    /// Stores `findings` for the case (the CLI; see [`Tx::upsert_findings`]) in one
    /// transaction; [`StoreError::NotFound`] when the case does not exist.
    pub async fn upsert_findings(
        &self,
        case_id: i64,
        findings: &[Finding],
    ) -> Result<UpsertSummary> {
        let mut tx = self.begin().await?;
        let Some(summary) = tx.upsert_findings(&Scope::all(), case_id, findings).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(summary)
    }

    /// The case's findings, most severe first, then by `first_seen` (unknown last), then by id.
    pub async fn list_findings(&self, case_id: i64) -> Result<Vec<Finding>> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            sqlx::query(
                "SELECT id, body FROM findings WHERE case_id = $1 \
                 ORDER BY severity_rank DESC, first_seen IS NULL, first_seen, finding_id",
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| from_json("finding", row.int("id")?, &row.text("body")?))
            .collect()
        })
    }

    /// How many findings the case has.
    pub async fn count_findings(&self, case_id: i64) -> Result<i64> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            sqlx::query("SELECT COUNT(*) AS n FROM findings WHERE case_id = $1")
                .bind(case_id)
                .fetch_one(pool)
                .await?
                .int("n")
        })
    }
}

impl Tx {
    /// Stores `findings` for case `case_id` if the case is inside `scope`, keyed by
    /// `(case, finding.id)`; `None` when out of scope. Every statement carries the scope; an
    /// upsert that writes no row (the case left the scope meanwhile) also gives `None`, and the
    /// caller drops the transaction.
    ///
    /// A finding whose id the case already has replaces the stored one (severity, title,
    /// evidence, data: everything), except that its `first_seen`/`last_seen` window is widened to
    /// cover both, so a later run over part of the evidence does not shrink what is known.
    pub async fn upsert_findings(
        &mut self,
        scope: &Scope,
        case_id: i64,
        findings: &[Finding],
    ) -> Result<Option<UpsertSummary>> {
        let at = micros(now());
        let mut summary = UpsertSummary::default();
        let check = format!(
            "SELECT c.id FROM cases c WHERE c.id = $1 AND {}{}",
            scope_clause("c.client_id", 2),
            scope.nda_clause("c.id")
        );
        let stored_sql = format!(
            "SELECT f.id, f.body FROM findings f JOIN cases c ON c.id = f.case_id \
             WHERE f.case_id = $1 AND f.finding_id = $2 AND {}",
            scope_clause("c.client_id", 3)
        );
        // SQLite reads `ON CONFLICT` after `INSERT … SELECT` only when the SELECT has a WHERE.
        let upsert = format!(
            "INSERT INTO findings (case_id, finding_id, analyzer, rule, severity, \
             severity_rank, category, first_seen, last_seen, body, created_at, updated_at) \
             SELECT c.id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11 FROM cases c \
             WHERE c.id = $1 AND {}{} \
             ON CONFLICT (case_id, finding_id) DO UPDATE SET \
             analyzer = excluded.analyzer, rule = excluded.rule, \
             severity = excluded.severity, severity_rank = excluded.severity_rank, \
             category = excluded.category, first_seen = excluded.first_seen, \
             last_seen = excluded.last_seen, body = excluded.body, \
             updated_at = excluded.updated_at",
            scope_clause("c.client_id", 12),
            scope.nda_clause("c.id")
        );
        with_tx!(self, |tx, Db| {
            if bind_scope!(sqlx::query(&check).bind(case_id), scope)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
            {
                return Ok(None);
            }
            for finding in findings {
                let stored = bind_scope!(
                    sqlx::query(&stored_sql).bind(case_id).bind(&finding.id),
                    scope
                )
                .fetch_optional(&mut *tx)
                .await?;
                let mut finding = finding.clone();
                match stored {
                    Some(row) => {
                        let old: Window = from_json("finding", row.int("id")?, &row.text("body")?)?;
                        finding.first_seen = earliest(finding.first_seen, old.first_seen);
                        finding.last_seen = latest(finding.last_seen, old.last_seen);
                        summary.updated += 1;
                    }
                    None => summary.inserted += 1,
                }
                let done = bind_scope!(
                    sqlx::query(&upsert)
                        .bind(case_id)
                        .bind(&finding.id)
                        .bind(&finding.analyzer)
                        .bind(&finding.rule)
                        .bind(finding.severity.as_str())
                        .bind(severity_rank(finding.severity))
                        .bind(finding.category.as_str())
                        .bind(finding.first_seen.map(micros))
                        .bind(finding.last_seen.map(micros))
                        .bind(to_json("finding", &finding)?)
                        .bind(at),
                    scope
                )
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
            }
        });
        Ok(Some(summary))
    }
}
