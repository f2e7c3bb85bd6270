//! The audit log: every write, and every refused access, in one hash-chained, append-only list.
//!
//! Entry `n` stores `hash = SHA-256(prev_hash ‖ n ‖ at ‖ actor ‖ action ‖ object ‖ client ‖ case ‖
//! detail)` (fields separated by a zero byte) where `prev_hash` is entry `n-1`'s hash (64 zeros
//! for the first). Changing, removing or inserting an entry breaks every later hash, which
//! [`Store::verify_audit`] finds. The database refuses updates and deletes; the chain catches a
//! tamperer who gets around that.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::store::{RowExt, Store, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

/// The `prev_hash` of the first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAudit {
    /// Who (user name, or `anonymous`).
    pub actor: String,
    /// What, as a stable name: `case.create`, `client.nda`, `nda.refused`, `login.failed`, …
    pub action: String,
    /// Which object: `case:7`, `client:3`, `evidence:12`.
    pub object: String,
    /// The client concerned, when one is.
    pub client_id: Option<i64>,
    /// The case concerned, when one is.
    pub case_id: Option<i64>,
    /// Details as JSON (never passwords or tokens).
    pub detail: serde_json::Value,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain: 1, 2, 3, …
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which object.
    pub object: String,
    /// The client concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    /// The case concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    /// Details (JSON text).
    pub detail: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry should have given its fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            micros(self.at),
            &self.actor,
            &self.action,
            &self.object,
            self.client_id,
            self.case_id,
            &self.detail,
        )
    }
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerdict {
    /// Entries checked.
    pub entries: i64,
    /// The first entry whose hash or link does not match, if any.
    pub first_broken: Option<i64>,
}

#[allow(clippy::too_many_arguments)] // one argument per hashed field, in hashing order
fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    object: &str,
    client: Option<i64>,
    case: Option<i64>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for part in [
        prev,
        &seq.to_string(),
        &at.to_string(),
        actor,
        action,
        object,
        &opt(client),
        &opt(case),
        detail,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex_lower(&h.finalize())
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, object, client_id, case_id, detail, prev_hash, hash";

fn audit_from_row(row: &impl RowExt) -> Result<AuditEntry> {
    let seq = row.int("seq")?;
    Ok(AuditEntry {
        seq,
        at: time("audit entry", seq, row.int("at")?)?,
        actor: row.text("actor")?,
        action: row.text("action")?,
        object: row.text("object")?,
        client_id: row.opt_int("client_id")?,
        case_id: row.opt_int("case_id")?,
        detail: row.text("detail")?,
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

impl Store {
    /// Appends an entry at the end of the chain, in a transaction of its own (refusals, failed
    /// logins: records that go with no change). An entry that records a change is appended with
    /// [`Tx::audit`] in the change's own transaction.
    pub async fn append_audit(&self, entry: &NewAudit) -> Result<AuditEntry> {
        let mut tx = self.begin().await?;
        let appended = tx.audit(entry).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// Up to `limit` entries before `before` (exclusive; `None` for the newest), newest first.
    pub async fn list_audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
        );
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .bind(before.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(audit_from_row)
                .collect()
        })
    }

    /// The entries about one case, oldest first.
    pub async fn case_audit(&self, case_id: i64) -> Result<Vec<AuditEntry>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE case_id = $1 ORDER BY seq");
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .bind(case_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(audit_from_row)
                .collect()
        })
    }

    /// The entries about case `case_id` if the case is inside `scope`, oldest first (the case's
    /// own trail, for the case page).
    pub async fn case_audit_in_scope(
        &self,
        scope: &crate::Scope,
        case_id: i64,
    ) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT a.seq, a.at, a.actor, a.action, a.object, a.client_id, a.case_id, a.detail, \
             a.prev_hash, a.hash FROM audit_log a JOIN cases c ON c.id = a.case_id \
             WHERE a.case_id = $1 AND {} ORDER BY a.seq",
            crate::access::scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            crate::access::bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(audit_from_row)
                .collect()
        })
    }

    /// Recomputes the whole chain (in pages of 10,000) and reports the first broken entry.
    pub async fn verify_audit(&self) -> Result<AuditVerdict> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 10000"
        );
        let mut prev_hash = AUDIT_GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut entries = 0;
        loop {
            let page: Vec<AuditEntry> = with_pool!(self, |pool, Db| {
                sqlx::query(&sql)
                    .bind(expected_seq - 1)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(audit_from_row)
                    .collect::<Result<Vec<_>>>()?
            });
            if page.is_empty() {
                break;
            }
            for e in &page {
                entries += 1;
                if e.seq != expected_seq || e.prev_hash != prev_hash || e.hash != e.expected_hash()
                {
                    return Ok(AuditVerdict {
                        entries,
                        first_broken: Some(expected_seq),
                    });
                }
                prev_hash = e.hash.clone();
                expected_seq += 1;
            }
        }
        // A removed tail shows as a head that points past the last entry.
        let head = with_pool!(self, |pool, Db| {
            sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await?
                .int("seq")?
        });
        let first_broken = (head != expected_seq - 1).then_some(expected_seq);
        Ok(AuditVerdict {
            entries,
            first_broken,
        })
    }
}

impl Tx {
    /// Appends an entry at the end of the chain, inside this transaction: it is committed with
    /// the change it records, or rolled back with it. The chain head row is locked by the
    /// statement, so concurrent appenders queue instead of forking the chain; append last in a
    /// transaction, to hold that lock briefly.
    pub async fn audit(&mut self, entry: &NewAudit) -> Result<AuditEntry> {
        let at = now();
        let detail = serde_json::to_string(&entry.detail).map_err(|e| StoreError::Invalid {
            what: "audit detail",
            detail: e.to_string(),
        })?;
        with_tx!(self, |tx, Db| {
            let head =
                sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *tx)
                    .await?;
            let seq = head.int("seq")?;
            let prev = head.text("hash")?;
            let hash = entry_hash(
                &prev,
                seq,
                micros(at),
                &entry.actor,
                &entry.action,
                &entry.object,
                entry.client_id,
                entry.case_id,
                &detail,
            );
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, action, object, client_id, case_id, \
                 detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq)
            .bind(micros(at))
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.object)
            .bind(entry.client_id)
            .bind(entry.case_id)
            .bind(&detail)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            Ok(AuditEntry {
                seq,
                at,
                actor: entry.actor.clone(),
                action: entry.action.clone(),
                object: entry.object.clone(),
                client_id: entry.client_id,
                case_id: entry.case_id,
                detail,
                prev_hash: prev,
                hash,
            })
        })
    }
}
