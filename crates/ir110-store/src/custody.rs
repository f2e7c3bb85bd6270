//! Chain of custody of registered evidence: append-only events (received, sealed, transferred,
//! re-hashed, returned, destroyed), read and written only through the caller's scope.

use chrono::{DateTime, Utc};
use ir110_model::EvidenceItem;
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Result, StoreError};
use crate::store::{RowExt, Store, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

/// The custody actions.
pub const CUSTODY_ACTIONS: [&str; 6] = [
    "received",
    "sealed",
    "transferred",
    "rehashed",
    "returned",
    "destroyed",
];

/// A custody event to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustody {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// One of [`CUSTODY_ACTIONS`].
    pub action: String,
    /// Who handled the item.
    pub actor: String,
    /// Where (office, safe, courier).
    pub place: String,
    /// Seal number, when sealed.
    pub seal: String,
    /// SHA-256 measured at this step (re-hash), when measured.
    pub sha256: Option<String>,
    /// Free note.
    pub note: String,
}

/// A stored custody event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    /// Store id.
    pub id: i64,
    /// The evidence item.
    pub evidence_id: i64,
    /// The event.
    #[serde(flatten)]
    pub event: NewCustody,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

const EVIDENCE_COLUMNS: &str = "e.id, e.case_id, e.label, e.kind, e.location, e.sha256, e.size, \
     e.recorded_at, e.recorded_by";

fn evidence_from_row(row: &impl RowExt) -> Result<EvidenceItem> {
    let id = row.int("id")?;
    Ok(EvidenceItem {
        id,
        case_id: row.int("case_id")?,
        label: row.text("label")?,
        kind: row.text("kind")?,
        location: row.text("location")?,
        sha256: row.opt_text("sha256")?,
        size: row
            .opt_int("size")?
            .map(|s| u64::try_from(s).map_err(|e| StoreError::corrupt("evidence size", id, e)))
            .transpose()?,
        recorded_at: time("evidence", id, row.int("recorded_at")?)?,
        recorded_by: row.text("recorded_by")?,
    })
}

fn custody_from_row(row: &impl RowExt) -> Result<CustodyEvent> {
    let id = row.int("id")?;
    Ok(CustodyEvent {
        id,
        evidence_id: row.int("evidence_id")?,
        event: NewCustody {
            at: time("custody event", id, row.int("at")?)?,
            action: row.text("action")?,
            actor: row.text("actor")?,
            place: row.text("place")?,
            seal: row.text("seal")?,
            sha256: row.opt_text("sha256")?,
            note: row.text("note")?,
        },
        recorded_at: time("custody event", id, row.int("recorded_at")?)?,
    })
}

impl Store {
    /// The evidence of case `case_id` if the case is inside `scope`, in registration order.
    pub async fn evidence_of_case_in_scope(
        &self,
        scope: &Scope,
        case_id: i64,
    ) -> Result<Vec<EvidenceItem>> {
        let sql = format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence e JOIN cases c ON c.id = e.case_id \
             WHERE e.case_id = $1 AND {} ORDER BY e.recorded_at, e.id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(evidence_from_row)
                .collect()
        })
    }

    /// The evidence item `id` if its case is inside `scope`.
    pub async fn evidence_in_scope(&self, scope: &Scope, id: i64) -> Result<Option<EvidenceItem>> {
        let sql = format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence e JOIN cases c ON c.id = e.case_id \
             WHERE e.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Ok(Some(evidence_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Appends a custody event to evidence item `evidence_id` if its case is inside `scope`,
    /// in a transaction of its own (not audited; the server uses [`Tx::add_custody`]).
    pub async fn add_custody(
        &self,
        scope: &Scope,
        evidence_id: i64,
        event: &NewCustody,
    ) -> Result<Option<CustodyEvent>> {
        let mut tx = self.begin().await?;
        let stored = tx.add_custody(scope, evidence_id, event).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The custody events of evidence item `evidence_id` if its case is inside `scope`, in time
    /// order.
    pub async fn custody_in_scope(
        &self,
        scope: &Scope,
        evidence_id: i64,
    ) -> Result<Vec<CustodyEvent>> {
        let sql = format!(
            "SELECT k.id, k.evidence_id, k.at, k.action, k.actor, k.place, k.seal, k.sha256, \
             k.note, k.recorded_at FROM custody_events k JOIN evidence e ON e.id = k.evidence_id \
             JOIN cases c ON c.id = e.case_id WHERE k.evidence_id = $1 AND {} ORDER BY k.at, k.id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(evidence_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(custody_from_row)
                .collect()
        })
    }
}

impl Tx {
    /// Appends a custody event to evidence item `evidence_id` if its case is inside `scope`
    /// (the `INSERT` selects the item through the scope); `None` otherwise.
    pub async fn add_custody(
        &mut self,
        scope: &Scope,
        evidence_id: i64,
        event: &NewCustody,
    ) -> Result<Option<CustodyEvent>> {
        if !CUSTODY_ACTIONS.contains(&event.action.as_str()) {
            return Err(StoreError::Invalid {
                what: "custody action",
                detail: format!(
                    "`{}`; expected one of {}",
                    event.action,
                    CUSTODY_ACTIONS.join(", ")
                ),
            });
        }
        let sql = format!(
            "INSERT INTO custody_events (evidence_id, at, action, actor, place, seal, sha256, note, \
             recorded_at) SELECT e.id, $1, $2, $3, $4, $5, $6, $7, $8 FROM evidence e \
             JOIN cases c ON c.id = e.case_id WHERE e.id = $9 AND {}{} \
             RETURNING id, evidence_id, at, action, actor, place, seal, sha256, note, recorded_at",
            scope_clause("c.client_id", 10),
            scope.nda_clause("c.id")
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(micros(event.at))
                    .bind(&event.action)
                    .bind(&event.actor)
                    .bind(&event.place)
                    .bind(&event.seal)
                    .bind(event.sha256.as_deref())
                    .bind(&event.note)
                    .bind(micros(now()))
                    .bind(evidence_id),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(r) => Ok(Some(custody_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }
}
