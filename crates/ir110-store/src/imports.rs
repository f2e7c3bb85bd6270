//! Report imports (an uploaded `report.json`: its findings and timeline) and the scoped,
//! paged timeline and findings reads of the server.

use chrono::{DateTime, Utc};
use ir110_model::{Event, Finding};
use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;

use crate::access::{Scope, bind_scope, push_case_in_scope, scope_clause};
use crate::error::Result;
use crate::findings::UpsertSummary;
use crate::store::{RowExt, Store, from_json, micros, now, time, to_json, with_pool};
use crate::tx::{Tx, with_tx};

/// Rows per multi-row `INSERT` (8 binds each).
const EVENTS_PER_STATEMENT: usize = 1000;

/// [`Store::counts_in_scope`] counts events up to this many (and one more to tell "more").
pub const EVENT_COUNT_CAP: i64 = 10_000;

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// When imported (the recorded time of its events).
    pub imported_at: DateTime<Utc>,
    /// Who.
    pub imported_by: String,
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// Version of the ir110 that wrote the report.
    pub tool_version: String,
    /// Findings in the report (inserted or updated).
    pub findings: i64,
    /// Events stored.
    pub events: i64,
}

/// A timeline event as stored: occurred time in the event, recorded time beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Store id (the paging key with the time).
    pub id: i64,
    /// The event; `timestamp` is when it occurred.
    pub event: Event,
    /// When it was recorded in the store (`None` for events stored without an import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
}

/// One page of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    /// Events in time order.
    pub events: Vec<StoredEvent>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<(i64, i64)>,
}

impl Store {
    /// Imports a report into case `case_id` if the case is inside `scope`, in a transaction
    /// of its own (not audited; the server uses [`Tx::import_report`]).
    #[allow(clippy::too_many_arguments)] // the import's provenance, then its content
    pub async fn import_report(
        &self,
        scope: &Scope,
        case_id: i64,
        imported_by: &str,
        sha256: &str,
        tool_version: &str,
        findings: &[Finding],
        events: &[Event],
    ) -> Result<Option<(ImportRecord, UpsertSummary)>> {
        let mut tx = self.begin().await?;
        let imported = tx
            .import_report(
                scope,
                case_id,
                imported_by,
                sha256,
                tool_version,
                findings,
                events,
            )
            .await?;
        if imported.is_some() {
            tx.commit().await?;
        }
        Ok(imported)
    }

    /// The imports of case `case_id` if the case is inside `scope`, oldest first.
    pub async fn imports_in_scope(&self, scope: &Scope, case_id: i64) -> Result<Vec<ImportRecord>> {
        let sql = format!(
            "SELECT i.id, i.case_id, i.imported_at, i.imported_by, i.sha256, i.tool_version, \
             i.findings, i.events FROM report_imports i JOIN cases c ON c.id = i.case_id \
             WHERE i.case_id = $1 AND {} ORDER BY i.id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| {
                    let id = r.int("id")?;
                    Ok(ImportRecord {
                        id,
                        case_id: r.int("case_id")?,
                        imported_at: time("report import", id, r.int("imported_at")?)?,
                        imported_by: r.text("imported_by")?,
                        sha256: r.text("sha256")?,
                        tool_version: r.text("tool_version")?,
                        findings: r.int("findings")?,
                        events: r.int("events")?,
                    })
                })
                .collect()
        })
    }

    /// A page of case `case_id`'s timeline if the case is inside `scope`: at most `limit`
    /// events after the key `after` (`(occurred micros, id)`, exclusive), in time order.
    /// Keyset paging keeps every page as fast as the first on a million-event timeline.
    pub async fn events_page(
        &self,
        scope: &Scope,
        case_id: i64,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<EventPage> {
        let (a_ts, a_id) = after.unwrap_or((i64::MIN, i64::MIN));
        let sql = format!(
            "SELECT e.id, e.ts, e.body, e.recorded_at FROM events e \
             WHERE e.case_id = $1 AND (e.ts > $2 OR (e.ts = $2 AND e.id > $3)) \
             AND e.case_id IN (SELECT c.id FROM cases c WHERE c.id = $1 AND {}) \
             ORDER BY e.ts, e.id LIMIT $7",
            scope_clause("c.client_id", 4)
        );
        let mut events = with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id).bind(a_ts).bind(a_id), scope)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| {
                    let id = r.int("id")?;
                    Ok(StoredEvent {
                        id,
                        event: from_json("event", id, &r.text("body")?)?,
                        recorded_at: r
                            .opt_int("recorded_at")?
                            .map(|t| time("event", id, t))
                            .transpose()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        });
        let next = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events
                .last()
                .map(|e| (e.event.timestamp.timestamp_micros(), e.id))
        } else {
            None
        };
        Ok(EventPage { events, next })
    }

    /// The findings of case `case_id` if the case is inside `scope`, most severe first.
    pub async fn findings_in_scope(&self, scope: &Scope, case_id: i64) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT f.id, f.body FROM findings f JOIN cases c ON c.id = f.case_id \
             WHERE f.case_id = $1 AND {} \
             ORDER BY f.severity_rank DESC, f.first_seen IS NULL, f.first_seen, f.finding_id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| from_json("finding", row.int("id")?, &row.text("body")?))
                .collect()
        })
    }

    /// Finding and event counts of case `case_id` if the case is inside `scope`. The event
    /// count stops at [`EVENT_COUNT_CAP`] + 1 (read "more than the cap"): counting a
    /// million-event timeline on every case page would cost more than the rest of the page.
    pub async fn counts_in_scope(&self, scope: &Scope, case_id: i64) -> Result<(i64, i64)> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM findings f WHERE f.case_id = $1) AS nf, \
             (SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.case_id = $1 LIMIT {}) x) AS ne \
             FROM cases c WHERE c.id = $1 AND {}",
            EVENT_COUNT_CAP + 1,
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Ok((r.int("nf")?, r.int("ne")?)),
                None => Ok((0, 0)),
            }
        })
    }
}

impl Tx {
    /// Imports a report's findings (upserted by id, see [`Tx::upsert_findings`]) and timeline
    /// events (appended with the import time as recorded time; an event the case already has is
    /// not added again) into case `case_id` if the case is inside `scope`; `None` otherwise,
    /// and then the caller must drop the transaction. Every statement carries the scope: the
    /// import record and the events are inserted from a `SELECT` that finds the case through
    /// it.
    #[allow(clippy::too_many_arguments)] // the import's provenance, then its content
    pub async fn import_report(
        &mut self,
        scope: &Scope,
        case_id: i64,
        imported_by: &str,
        sha256: &str,
        tool_version: &str,
        findings: &[Finding],
        events: &[Event],
    ) -> Result<Option<(ImportRecord, UpsertSummary)>> {
        let at = now();
        let n_findings = i64::try_from(findings.len()).unwrap_or(i64::MAX);
        let n_events = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let sql = format!(
            "INSERT INTO report_imports (case_id, imported_at, imported_by, sha256, \
             tool_version, findings, events) SELECT c.id, $2, $3, $4, $5, $6, $7 FROM cases c \
             WHERE c.id = $1 AND {}{} RETURNING id",
            scope_clause("c.client_id", 8),
            scope.nda_clause("c.id")
        );
        let id = with_tx!(self, |tx, Db| {
            let Some(row) = bind_scope!(
                sqlx::query(&sql)
                    .bind(case_id)
                    .bind(micros(at))
                    .bind(imported_by)
                    .bind(sha256)
                    .bind(tool_version)
                    .bind(n_findings)
                    .bind(n_events),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(None);
            };
            let id = row.int("id")?;
            for chunk in events.chunks(EVENTS_PER_STATEMENT) {
                let rows = chunk
                    .iter()
                    .map(|e| Ok((micros(e.timestamp), e, to_json("event", e)?)))
                    .collect::<Result<Vec<_>>>()?;
                // `VALUES` names its columns column1, column2, … on both backends.
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO events (case_id, ts, host, kind, analyzer, body, recorded_at, \
                     import_id, digest) SELECT column1, column2, column3, column4, column5, \
                     column6, column7, column8, column9 FROM (",
                );
                qb.push_values(&rows, |mut b, (ts, e, body)| {
                    b.push_bind(case_id)
                        .push_bind(*ts)
                        .push_bind(e.host.as_deref())
                        .push_bind(e.kind.as_str())
                        .push_bind(e.analyzer.as_str())
                        .push_bind(body.as_str())
                        .push_bind(micros(at))
                        .push_bind(id)
                        .push_bind(crate::events::event_digest(body));
                });
                qb.push(") AS v WHERE ");
                push_case_in_scope(&mut qb, case_id, scope);
                // Importing the same report again adds no duplicate events.
                qb.push(" ON CONFLICT (case_id, digest) DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            id
        });
        let Some(summary) = self.upsert_findings(scope, case_id, findings).await? else {
            return Ok(None);
        };
        Ok(Some((
            ImportRecord {
                id,
                case_id,
                imported_at: at,
                imported_by: imported_by.to_owned(),
                sha256: sha256.to_owned(),
                tool_version: tool_version.to_owned(),
                findings: n_findings,
                events: n_events,
            },
            summary,
        )))
    }
}
