//! The evidence register: append-only by API and by database trigger.

use chrono::{DateTime, Utc};
use ir110_model::EvidenceItem;

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Entity, Result, StoreError};
use crate::store::{RowExt, Store, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

/// A piece of evidence to register. Build with [`NewEvidence::new`] and the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewEvidence {
    /// The case.
    pub case_id: i64,
    /// Label (`HDD S/N WX12…`, `package PC-01`).
    pub label: String,
    /// What it is: `package`, `medium`, `file`, `log`, `triage-input`.
    pub kind: String,
    /// Where it is (path or URI).
    pub location: String,
    /// SHA-256 (hex) of the item or of its manifest.
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// When it was registered; `None` for now.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Who registered it.
    pub recorded_by: String,
}

impl NewEvidence {
    /// Evidence `label` of `kind` at `location` for case `case_id`, registered by `recorded_by`.
    pub fn new(
        case_id: i64,
        label: impl Into<String>,
        kind: impl Into<String>,
        location: impl Into<String>,
        recorded_by: impl Into<String>,
    ) -> Self {
        NewEvidence {
            case_id,
            label: label.into(),
            kind: kind.into(),
            location: location.into(),
            sha256: None,
            size: None,
            recorded_at: None,
            recorded_by: recorded_by.into(),
        }
    }
    /// Sets the SHA-256 (hex).
    pub fn sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into());
        self
    }
    /// Sets the size in bytes.
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
    /// Sets the registration time (default: now).
    pub fn recorded_at(mut self, at: DateTime<Utc>) -> Self {
        self.recorded_at = Some(at);
        self
    }
}

const EVIDENCE_COLUMNS: &str =
    "id, case_id, label, kind, location, sha256, size, recorded_at, recorded_by";

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

impl Store {
    /// Registers a piece of evidence (the CLI; see [`Tx::add_evidence`]). The register is
    /// append-only: there is no update or delete, and the database refuses them too.
    pub async fn add_evidence(&self, new: &NewEvidence) -> Result<EvidenceItem> {
        let mut tx = self.begin().await?;
        let Some(item) = tx.add_evidence(&Scope::all(), new).await? else {
            return Err(StoreError::not_found(Entity::Case, new.case_id));
        };
        tx.commit().await?;
        Ok(item)
    }

    /// The case's evidence in the order it was registered.
    pub async fn list_evidence(&self, case_id: i64) -> Result<Vec<EvidenceItem>> {
        self.ensure_case(case_id).await?;
        let sql = format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE case_id = $1 ORDER BY recorded_at, id"
        );
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .bind(case_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(evidence_from_row)
                .collect()
        })
    }
}

impl Tx {
    /// Registers a piece of evidence for case `new.case_id` if the case is inside `scope`
    /// (the `INSERT` selects the case through the scope); `None` (nothing written) otherwise.
    pub async fn add_evidence(
        &mut self,
        scope: &Scope,
        new: &NewEvidence,
    ) -> Result<Option<EvidenceItem>> {
        let size = new
            .size
            .map(|s| {
                i64::try_from(s).map_err(|_| StoreError::Invalid {
                    what: "evidence size",
                    detail: format!("{s} bytes is more than the store can hold"),
                })
            })
            .transpose()?;
        let sql = format!(
            "INSERT INTO evidence (case_id, label, kind, location, sha256, size, recorded_at, \
             recorded_by) SELECT c.id, $2, $3, $4, $5, $6, $7, $8 FROM cases c \
             WHERE c.id = $1 AND {}{} RETURNING {EVIDENCE_COLUMNS}",
            scope_clause("c.client_id", 9),
            scope.nda_clause("c.id")
        );
        with_tx!(self, |tx, Db| {
            let row = bind_scope!(
                sqlx::query(&sql)
                    .bind(new.case_id)
                    .bind(&new.label)
                    .bind(&new.kind)
                    .bind(&new.location)
                    .bind(new.sha256.as_deref())
                    .bind(size)
                    .bind(micros(new.recorded_at.unwrap_or_else(now)))
                    .bind(&new.recorded_by),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?;
            row.as_ref().map(evidence_from_row).transpose()
        })
    }
}
