//! Findings, upserted by their stable id so that re-running triage updates rather than duplicates.

use chrono::{DateTime, Utc};
use ir110_model::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::{RowExt, Store, from_json, in_write_tx, micros, now, to_json, with_pool};

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
    /// Stores `findings` for the case, keyed by `(case, finding.id)`, in one transaction.
    ///
    /// A finding whose id the case already has replaces the stored one (severity, title,
    /// evidence, data: everything), except that its `first_seen`/`last_seen` window is widened to
    /// cover both, so a later run over part of the evidence does not shrink what is known.
    pub async fn upsert_findings(
        &self,
        case_id: i64,
        findings: &[Finding],
    ) -> Result<UpsertSummary> {
        self.ensure_case(case_id).await?;
        let at = micros(now());
        let mut summary = UpsertSummary::default();
        in_write_tx!(self, |tx, Db| {
            for finding in findings {
                let stored = sqlx::query(
                    "SELECT id, body FROM findings WHERE case_id = $1 AND finding_id = $2",
                )
                .bind(case_id)
                .bind(&finding.id)
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
                sqlx::query(
                    "INSERT INTO findings (case_id, finding_id, analyzer, rule, severity, \
                     severity_rank, category, first_seen, last_seen, body, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                     ON CONFLICT (case_id, finding_id) DO UPDATE SET \
                     analyzer = excluded.analyzer, rule = excluded.rule, \
                     severity = excluded.severity, severity_rank = excluded.severity_rank, \
                     category = excluded.category, first_seen = excluded.first_seen, \
                     last_seen = excluded.last_seen, body = excluded.body, \
                     updated_at = excluded.updated_at",
                )
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
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        });
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
