//! Timeline events: batched inserts and time-ordered, filtered reads.

use chrono::{DateTime, Utc};
use ir110_model::Event;
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::access::{Scope, bind_scope, push_case_in_scope, scope_clause};
use crate::error::{Entity, Result, StoreError};
use crate::store::{RowExt, Store, from_json, micros, to_json, with_pool};
use crate::tx::{Tx, with_tx};

/// Rows per multi-row `INSERT`: 6 binds each stays far below SQLite's 32,766 and PostgreSQL's
/// 65,535 bind limits while amortising the per-statement cost.
const EVENTS_PER_STATEMENT: usize = 1000;

/// Which events [`Store::list_events`] returns. Build with [`EventQuery::new`] and the setters;
/// the default is every event of the case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventQuery {
    /// Only events at or after this time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (exclusive), so consecutive windows do not overlap.
    pub to: Option<DateTime<Utc>>,
    /// Only events of this host (exact).
    pub host: Option<String>,
    /// Only events of this kind (exact, e.g. `logon-failed`).
    pub kind: Option<String>,
    /// At most this many events.
    pub limit: Option<u64>,
    /// Skip this many events first (paging).
    pub offset: u64,
}

impl EventQuery {
    /// Every event of the case.
    pub fn new() -> Self {
        EventQuery::default()
    }
    /// Only events at or after `t`.
    pub fn from(mut self, t: DateTime<Utc>) -> Self {
        self.from = Some(t);
        self
    }
    /// Only events before `t`.
    pub fn to(mut self, t: DateTime<Utc>) -> Self {
        self.to = Some(t);
        self
    }
    /// Only events of `host`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
    /// Only events of `kind`.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
    /// At most `n` events.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Skip `n` events.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }
}

/// Appends the `WHERE` clause of `query` for `case_id`.
fn push_filters<'a, DB>(qb: &mut QueryBuilder<'a, DB>, case_id: i64, query: &'a EventQuery)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE case_id = ").push_bind(case_id);
    if let Some(from) = query.from {
        qb.push(" AND ts >= ").push_bind(micros(from));
    }
    if let Some(to) = query.to {
        qb.push(" AND ts < ").push_bind(micros(to));
    }
    if let Some(host) = &query.host {
        qb.push(" AND host = ").push_bind(host.as_str());
    }
    if let Some(kind) = &query.kind {
        qb.push(" AND kind = ").push_bind(kind.as_str());
    }
}

/// The identity of a stored event: SHA-256 (hex) of its JSON with object keys sorted, so that
/// the same event gives the same digest whatever order an analyzer filled its fields in.
pub(crate) fn event_digest(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => ir110_model::canonical_json(&value),
        Err(_) => body.to_owned(),
    };
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Appends `events` to the case's timeline in one transaction (all or nothing), with
    /// multi-row inserts. Returns how many were stored: an event the case already holds (same
    /// JSON, so the same time, source, place and content) is skipped, so re-running triage over
    /// the same evidence does not duplicate the timeline. (See [`Tx::insert_events`].)
    pub async fn insert_events(&self, case_id: i64, events: &[Event]) -> Result<u64> {
        let mut tx = self.begin().await?;
        let Some(stored) = tx.insert_events(&Scope::all(), case_id, events).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(stored)
    }

    /// How many events the case's timeline holds.
    pub async fn count_events(&self, case_id: i64) -> Result<i64> {
        self.count_matching_events(case_id, &EventQuery::new())
            .await
    }

    /// How many events match `query` (its `limit` and `offset` are ignored): the total for
    /// paging.
    pub async fn count_matching_events(&self, case_id: i64, query: &EventQuery) -> Result<i64> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM events");
            push_filters(&mut qb, case_id, query);
            qb.build().fetch_one(pool).await?.int("n")
        })
    }

    /// The case's events matching `query`, in time order (same-time events in the order they
    /// were stored).
    pub async fn list_events(&self, case_id: i64, query: &EventQuery) -> Result<Vec<Event>> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            let mut qb = QueryBuilder::<Db>::new("SELECT id, body FROM events");
            push_filters(&mut qb, case_id, query);
            qb.push(" ORDER BY ts, id");
            // SQLite needs a LIMIT before an OFFSET; "no limit" is the largest one.
            if query.limit.is_some() || query.offset > 0 {
                qb.push(" LIMIT ")
                    .push_bind(query.limit.map_or(i64::MAX, clamp));
                qb.push(" OFFSET ").push_bind(clamp(query.offset));
            }
            qb.build()
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| from_json("event", row.int("id")?, &row.text("body")?))
                .collect()
        })
    }
}

impl Tx {
    /// Appends `events` to the timeline of case `case_id` if the case is inside `scope` (each
    /// multi-row `INSERT` selects its rows only when the case is in the scope); `None`
    /// otherwise. Returns how many were stored; events the case already holds are skipped.
    pub async fn insert_events(
        &mut self,
        scope: &Scope,
        case_id: i64,
        events: &[Event],
    ) -> Result<Option<u64>> {
        let check = format!(
            "SELECT c.id FROM cases c WHERE c.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        let mut stored = 0;
        with_tx!(self, |tx, Db| {
            if bind_scope!(sqlx::query(&check).bind(case_id), scope)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
            {
                return Ok(None);
            }
            for chunk in events.chunks(EVENTS_PER_STATEMENT) {
                let rows = chunk
                    .iter()
                    .map(|e| Ok((micros(e.timestamp), e, to_json("event", e)?)))
                    .collect::<Result<Vec<_>>>()?;
                // `VALUES` names its columns column1, column2, … on both backends.
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO events (case_id, ts, host, kind, analyzer, body, digest) \
                     SELECT column1, column2, column3, column4, column5, column6, column7 FROM (",
                );
                qb.push_values(&rows, |mut b, (ts, e, body)| {
                    b.push_bind(case_id)
                        .push_bind(*ts)
                        .push_bind(e.host.as_deref())
                        .push_bind(e.kind.as_str())
                        .push_bind(e.analyzer.as_str())
                        .push_bind(body.as_str())
                        .push_bind(event_digest(body));
                });
                qb.push(") AS v WHERE ");
                push_case_in_scope(&mut qb, case_id, scope);
                qb.push(" ON CONFLICT (case_id, digest) DO NOTHING");
                stored += qb.build().execute(&mut *tx).await?.rows_affected();
            }
        });
        Ok(Some(stored))
    }
}
