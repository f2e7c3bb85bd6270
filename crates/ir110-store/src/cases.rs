//! Cases: creation with automatic references, phase and policy changes, and the response log.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ir110_model::{Case, CaseSummary, IncidentType, LogEntry, Phase, PolicyDecision};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::clients::client_name;
use crate::error::{Entity, Result, StoreError, is_unique_violation};
use crate::store::{
    RowExt, Store, date, date_text, from_json, micros, now, parse_name, time, to_json, with_pool,
};
use crate::tx::{Tx, with_tx};

/// The client of a new case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientRef {
    /// An existing client, by store id.
    Id(i64),
    /// A client by name; recorded (without NDA date or notes) if not known yet.
    Name(String),
}

impl ClientRef {
    /// A client by name (found or created).
    pub fn name(name: impl Into<String>) -> Self {
        ClientRef::Name(name.into())
    }
}

/// What it takes to open a case. Build with [`NewCase::new`] and the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewCase {
    /// The client.
    pub client: ClientRef,
    /// Short title.
    pub title: String,
    /// Incident types, in the order given (duplicates dropped).
    pub types: Vec<IncidentType>,
    /// The policy, if already agreed at intake.
    pub policy: Option<PolicyDecision>,
    /// NDA date for this engagement.
    pub nda_date: Option<NaiveDate>,
    /// The reference; `None` for the next `IR-<year>-<nnnn>`.
    pub reference: Option<String>,
}

impl NewCase {
    /// A case for `client` titled `title`, with no types, policy, NDA date or fixed reference.
    pub fn new(client: ClientRef, title: impl Into<String>) -> Self {
        NewCase {
            client,
            title: title.into(),
            types: Vec::new(),
            policy: None,
            nda_date: None,
            reference: None,
        }
    }

    /// Sets the incident types.
    pub fn types(mut self, types: impl IntoIterator<Item = IncidentType>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// Sets the agreed policy.
    pub fn policy(mut self, policy: PolicyDecision) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Sets the NDA date.
    pub fn nda_date(mut self, date: NaiveDate) -> Self {
        self.nda_date = Some(date);
        self
    }

    /// Fixes the reference instead of taking the next automatic one.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
}

pub(crate) const CASE_SELECT: &str = "SELECT c.id, c.reference, c.client_id, cl.name AS client_name, \
     c.title, c.types, c.policy, c.policy_decided_by, c.policy_decided_at, c.nda_date, c.phase, \
     c.opened_at, c.updated_at FROM cases c JOIN clients cl ON cl.id = c.client_id";

fn case_from_row(row: &impl RowExt) -> Result<Case> {
    let id = row.int("id")?;
    let types: Vec<String> = from_json("case types", id, &row.text("types")?)?;
    let types = types
        .iter()
        .map(|t| parse_name("case incident type", id, t))
        .collect::<Result<Vec<IncidentType>>>()?;
    let policy = match row.opt_text("policy")? {
        None => None,
        Some(p) => Some(PolicyDecision {
            policy: parse_name("case policy", id, &p)?,
            decided_by: row.opt_text("policy_decided_by")?,
            decided_at: match row.opt_int("policy_decided_at")? {
                Some(at) => time("case policy", id, at)?,
                None => return Err(StoreError::corrupt("case policy", id, "no decision time")),
            },
        }),
    };
    Ok(Case {
        id,
        reference: row.text("reference")?,
        client_id: row.int("client_id")?,
        client_name: row.text("client_name")?,
        title: row.text("title")?,
        types,
        policy,
        nda_date: row
            .opt_text("nda_date")?
            .map(|d| date("case NDA date", id, &d))
            .transpose()?,
        phase: parse_name("case phase", id, &row.text("phase")?)?,
        opened_at: time("case", id, row.int("opened_at")?)?,
        updated_at: time("case", id, row.int("updated_at")?)?,
    })
}

fn log_from_row(row: &impl RowExt) -> Result<LogEntry> {
    let id = row.int("id")?;
    Ok(LogEntry {
        id,
        case_id: row.int("case_id")?,
        at: time("log entry", id, row.int("at")?)?,
        actor: row.text("actor")?,
        action: row.text("action")?,
    })
}

/// The automatic reference for sequence number `seq` of `year`.
fn auto_reference(year: i32, seq: i64) -> String {
    format!("IR-{year}-{seq:04}")
}

fn policy_action(p: &PolicyDecision) -> String {
    match &p.decided_by {
        Some(by) => format!("policy: {} (decided by {by})", p.policy),
        None => format!("policy: {}", p.policy),
    }
}

impl Store {
    /// Opens a case in phase [`Phase::Intake`] (the CLI: every client in scope; see
    /// [`Tx::create_case`]).
    ///
    /// A client given by name is found or recorded in the same transaction. Without a fixed
    /// reference the case gets the next free `IR-<year>-<nnnn>` of the current UTC year; a fixed
    /// reference that is already used gives [`StoreError::Conflict`].
    pub async fn create_case(&self, new: NewCase) -> Result<Case> {
        let client = new.client.clone();
        let mut tx = self.begin().await?;
        let Some(case) = tx.create_case(&Scope::all(), new).await? else {
            return Err(match client {
                ClientRef::Id(id) => StoreError::not_found(Entity::Client, id),
                ClientRef::Name(name) => StoreError::not_found(Entity::Client, name),
            });
        };
        tx.commit().await?;
        Ok(case)
    }

    /// The case with this id, or [`StoreError::NotFound`].
    pub async fn get_case(&self, id: i64) -> Result<Case> {
        let sql = format!("{CASE_SELECT} WHERE c.id = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
                Some(row) => case_from_row(&row),
                None => Err(StoreError::not_found(Entity::Case, id)),
            }
        })
    }

    /// The case with this reference (exact, after trimming), or [`StoreError::NotFound`].
    pub async fn case_by_reference(&self, reference: &str) -> Result<Case> {
        let reference = reference.trim();
        let sql = format!("{CASE_SELECT} WHERE c.reference = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql)
                .bind(reference)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => case_from_row(&row),
                None => Err(StoreError::not_found(Entity::Case, reference)),
            }
        })
    }

    /// Every case, newest first, with its finding and event counts.
    pub async fn list_cases(&self) -> Result<Vec<CaseSummary>> {
        let sql = "SELECT c.id, c.reference, c.client_id, cl.name AS client_name, \
             c.title, c.types, c.policy, c.policy_decided_by, c.policy_decided_at, c.nda_date, \
             c.phase, c.opened_at, c.updated_at, \
             (SELECT COUNT(*) FROM findings f WHERE f.case_id = c.id) AS finding_count, \
             (SELECT COUNT(*) FROM events e WHERE e.case_id = c.id) AS event_count \
             FROM cases c JOIN clients cl ON cl.id = c.client_id \
             ORDER BY c.opened_at DESC, c.id DESC";
        with_pool!(self, |pool, Db| {
            sqlx::query(sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok(CaseSummary {
                        case: case_from_row(row)?,
                        findings: row.int("finding_count")?,
                        events: row.int("event_count")?,
                    })
                })
                .collect()
        })
    }

    /// Fails with [`StoreError::NotFound`] unless case `case_id` exists.
    pub(crate) async fn ensure_case(&self, case_id: i64) -> Result<()> {
        let found = with_pool!(self, |pool, Db| {
            sqlx::query("SELECT id FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(pool)
                .await?
                .is_some()
        });
        if found {
            Ok(())
        } else {
            Err(StoreError::not_found(Entity::Case, case_id))
        }
    }

    /// Moves the case to `phase` and logs `phase: <old> → <new>` by `actor` now. Setting the
    /// phase it already has changes and logs nothing. (The CLI; see [`Tx::set_phase`].)
    pub async fn set_phase(&self, case_id: i64, phase: Phase, actor: &str) -> Result<Case> {
        let mut tx = self.begin().await?;
        let Some((_, case)) = tx.set_phase(&Scope::all(), case_id, phase, actor).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(case)
    }

    /// Records the agreed policy (replacing any earlier one) and logs
    /// `policy: <name> (decided by <who>)` by `actor` at the decision time. (The CLI; see
    /// [`Tx::set_policy`].)
    pub async fn set_policy(
        &self,
        case_id: i64,
        policy: &PolicyDecision,
        actor: &str,
    ) -> Result<Case> {
        let mut tx = self.begin().await?;
        let Some(case) = tx.set_policy(&Scope::all(), case_id, policy, actor).await? else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(case)
    }

    /// Appends a line to the case's response log: `actor` did `action` at `at` (when it happened,
    /// which may be before it is typed in). The log is append-only. (See [`Tx::add_log`].)
    pub async fn add_log(
        &self,
        case_id: i64,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
    ) -> Result<LogEntry> {
        let mut tx = self.begin().await?;
        let Some(entry) = tx
            .add_log(&Scope::all(), case_id, at, actor, action)
            .await?
        else {
            return Err(StoreError::not_found(Entity::Case, case_id));
        };
        tx.commit().await?;
        Ok(entry)
    }

    /// The case's response log in time order (entries at the same time in the order recorded).
    pub async fn list_log(&self, case_id: i64) -> Result<Vec<LogEntry>> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            sqlx::query(
                "SELECT id, case_id, at, actor, action FROM response_log WHERE case_id = $1 \
                 ORDER BY at, id",
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(log_from_row)
            .collect()
        })
    }
}

impl Tx {
    /// Opens a case in phase [`Phase::Intake`] for a client inside `scope`; `None` (nothing
    /// written) when the client is not in scope. The `INSERT` selects the client through the
    /// scope, so a case can only be opened for a client the caller may see.
    ///
    /// A client given by name is found or, with an unnarrowed [`Scope::all`] only, recorded; a restricted
    /// scope finds it among its clients. Without a fixed reference the case gets the next free
    /// `IR-<year>-<nnnn>` of the current UTC year; a fixed reference that is already used gives
    /// [`StoreError::Conflict`].
    pub async fn create_case(&mut self, scope: &Scope, new: NewCase) -> Result<Option<Case>> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(StoreError::Invalid {
                what: "case title",
                detail: "it is empty".to_owned(),
            });
        }
        let fixed_reference = match &new.reference {
            Some(r) if r.trim().is_empty() => {
                return Err(StoreError::Invalid {
                    what: "case reference",
                    detail: "it is empty".to_owned(),
                });
            }
            Some(r) => Some(r.trim().to_owned()),
            None => None,
        };
        let mut types: Vec<IncidentType> = Vec::with_capacity(new.types.len());
        for t in &new.types {
            if !types.contains(t) {
                types.push(*t);
            }
        }
        let types_json = to_json(
            "case types",
            &types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        )?;
        let opened_at = now();
        let year = opened_at.year();
        let by_id = format!(
            "SELECT id FROM clients WHERE id = $1 AND {}",
            scope_clause("id", 2)
        );
        let by_name = format!(
            "SELECT id FROM clients WHERE name = $1 AND {}",
            scope_clause("id", 2)
        );
        let insert = format!(
            "INSERT INTO cases (reference, client_id, title, types, policy, policy_decided_by, \
             policy_decided_at, nda_date, phase, opened_at, updated_at) \
             SELECT $1, cl.id, $3, $4, $5, $6, $7, $8, $9, $10, $10 FROM clients cl \
             WHERE cl.id = $2 AND {} RETURNING id",
            scope_clause("cl.id", 11)
        );
        let id = with_tx!(self, |tx, Db| {
            let found = match &new.client {
                ClientRef::Id(id) => {
                    bind_scope!(sqlx::query(&by_id).bind(id), scope)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                ClientRef::Name(name) => {
                    let name = client_name(name)?;
                    if scope.unrestricted() {
                        sqlx::query(
                            "INSERT INTO clients (name, notes, created_at) VALUES ($1, '', $2) \
                             ON CONFLICT (name) DO NOTHING",
                        )
                        .bind(name)
                        .bind(micros(opened_at))
                        .execute(&mut *tx)
                        .await?;
                    }
                    bind_scope!(sqlx::query(&by_name).bind(name), scope)
                        .fetch_optional(&mut *tx)
                        .await?
                }
            };
            let Some(found) = found else {
                return Ok(None);
            };
            let client_id = found.int("id")?;
            let reference = match &fixed_reference {
                Some(r) => r.clone(),
                None => loop {
                    // The counter row is locked until commit, so concurrent openers get distinct
                    // numbers; a number taken by a hand-chosen reference is skipped.
                    let seq = sqlx::query(
                        "INSERT INTO case_sequences (year, last) VALUES ($1, 1) \
                         ON CONFLICT (year) DO UPDATE SET last = case_sequences.last + 1 \
                         RETURNING last",
                    )
                    .bind(i64::from(year))
                    .fetch_one(&mut *tx)
                    .await?
                    .int("last")?;
                    let candidate = auto_reference(year, seq);
                    let taken = sqlx::query("SELECT id FROM cases WHERE reference = $1")
                        .bind(&candidate)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if taken.is_none() {
                        break candidate;
                    }
                },
            };
            let inserted = bind_scope!(
                sqlx::query(&insert)
                    .bind(&reference)
                    .bind(client_id)
                    .bind(title)
                    .bind(&types_json)
                    .bind(new.policy.as_ref().map(|p| p.policy.as_str()))
                    .bind(new.policy.as_ref().and_then(|p| p.decided_by.clone()))
                    .bind(new.policy.as_ref().map(|p| micros(p.decided_at)))
                    .bind(new.nda_date.map(date_text))
                    .bind(Phase::Intake.as_str())
                    .bind(micros(opened_at)),
                scope
            )
            .fetch_optional(&mut *tx)
            .await;
            match inserted {
                Ok(Some(row)) => row.int("id")?,
                Ok(None) => return Ok(None),
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        what: Entity::Case,
                        value: reference,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        });
        Ok(self.case_in_scope(scope, id).await?.map(|a| a.case))
    }

    /// Moves case `case_id` to `phase` if the case is inside `scope` and logs
    /// `phase: <old> → <new>` by `actor` now; returns the phase it had and the case as it is
    /// now, or `None` (nothing written) when out of scope. Setting the phase it already has
    /// changes and logs nothing. Every statement carries the scope.
    pub async fn set_phase(
        &mut self,
        scope: &Scope,
        case_id: i64,
        phase: Phase,
        actor: &str,
    ) -> Result<Option<(Phase, Case)>> {
        let at = now();
        let select = format!(
            "SELECT c.phase FROM cases c WHERE c.id = $1 AND {}{}",
            scope_clause("c.client_id", 2),
            scope.nda_clause("c.id")
        );
        let update = format!(
            "UPDATE cases SET phase = $1, updated_at = $2 WHERE id = $3 AND {}{}",
            scope_clause("client_id", 4),
            scope.nda_clause("cases.id")
        );
        let log = scoped_log_insert(5, scope);
        let old = with_tx!(self, |tx, Db| {
            let Some(row) = bind_scope!(sqlx::query(&select).bind(case_id), scope)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let old: Phase = parse_name("case phase", case_id, &row.text("phase")?)?;
            if old != phase {
                let done = bind_scope!(
                    sqlx::query(&update)
                        .bind(phase.as_str())
                        .bind(micros(at))
                        .bind(case_id),
                    scope
                )
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                bind_scope!(
                    sqlx::query(&log)
                        .bind(case_id)
                        .bind(micros(at))
                        .bind(actor)
                        .bind(format!("phase: {old} → {phase}")),
                    scope
                )
                .execute(&mut *tx)
                .await?;
            }
            old
        });
        Ok(self
            .case_in_scope(scope, case_id)
            .await?
            .map(|a| (old, a.case)))
    }

    /// Records the agreed policy of case `case_id` (replacing any earlier one) if the case is
    /// inside `scope`, and logs `policy: <name> (decided by <who>)` by `actor` at the decision
    /// time; `None` (nothing written) when out of scope. Every statement carries the scope.
    pub async fn set_policy(
        &mut self,
        scope: &Scope,
        case_id: i64,
        policy: &PolicyDecision,
        actor: &str,
    ) -> Result<Option<Case>> {
        let updated_at = now();
        let update = format!(
            "UPDATE cases SET policy = $1, policy_decided_by = $2, policy_decided_at = $3, \
             updated_at = $4 WHERE id = $5 AND {}{}",
            scope_clause("client_id", 6),
            scope.nda_clause("cases.id")
        );
        let log = scoped_log_insert(5, scope);
        with_tx!(self, |tx, Db| {
            let done = bind_scope!(
                sqlx::query(&update)
                    .bind(policy.policy.as_str())
                    .bind(policy.decided_by.as_deref())
                    .bind(micros(policy.decided_at))
                    .bind(micros(updated_at))
                    .bind(case_id),
                scope
            )
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            bind_scope!(
                sqlx::query(&log)
                    .bind(case_id)
                    .bind(micros(policy.decided_at))
                    .bind(actor)
                    .bind(policy_action(policy)),
                scope
            )
            .execute(&mut *tx)
            .await?;
        });
        Ok(self.case_in_scope(scope, case_id).await?.map(|a| a.case))
    }
}

impl Tx {
    /// Appends a line to the response log of case `case_id` if the case is inside `scope` (the
    /// `INSERT` selects the case through the scope); `None` otherwise.
    pub async fn add_log(
        &mut self,
        scope: &Scope,
        case_id: i64,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
    ) -> Result<Option<LogEntry>> {
        let sql = format!(
            "{} RETURNING id, case_id, at, actor, action",
            scoped_log_insert(5, scope)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(case_id)
                    .bind(micros(at))
                    .bind(actor)
                    .bind(action),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(row) => Ok(Some(log_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }
}

/// `INSERT` of a response-log line `($1 case, $2 at, $3 actor, $4 action)` that writes only
/// when the case is inside the scope bound at `$n…` (and, for a gated scope, an NDA covers it).
fn scoped_log_insert(n: usize, scope: &Scope) -> String {
    format!(
        "INSERT INTO response_log (case_id, at, actor, action) SELECT c.id, $2, $3, $4 \
         FROM cases c WHERE c.id = $1 AND {}{}",
        scope_clause("c.client_id", n),
        scope.nda_clause("c.id")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_zero_padded() {
        assert_eq!(auto_reference(2026, 1), "IR-2026-0001");
        assert_eq!(auto_reference(2026, 12345), "IR-2026-12345");
    }
}
