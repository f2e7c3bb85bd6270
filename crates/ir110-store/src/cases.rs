//! Cases: creation with automatic references, phase and policy changes, and the response log.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ir110_model::{Case, CaseSummary, IncidentType, LogEntry, Phase, PolicyDecision};

use crate::clients::client_name;
use crate::error::{Entity, Result, StoreError, is_unique_violation};
use crate::store::{
    RowExt, Store, date, date_text, from_json, in_write_tx, micros, now, parse_name, time, to_json,
    with_pool,
};

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
    /// Opens a case in phase [`Phase::Intake`].
    ///
    /// A client given by name is found or recorded in the same transaction. Without a fixed
    /// reference the case gets the next free `IR-<year>-<nnnn>` of the current UTC year; a fixed
    /// reference that is already used gives [`StoreError::Conflict`].
    pub async fn create_case(&self, new: NewCase) -> Result<Case> {
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
        let id = in_write_tx!(self, |tx, Db| {
            let client_id = match &new.client {
                ClientRef::Id(id) => {
                    let found = sqlx::query("SELECT id FROM clients WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if found.is_none() {
                        return Err(StoreError::not_found(Entity::Client, id));
                    }
                    *id
                }
                ClientRef::Name(name) => {
                    let name = client_name(name)?;
                    sqlx::query(
                        "INSERT INTO clients (name, notes, created_at) VALUES ($1, '', $2) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(name)
                    .bind(micros(opened_at))
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("SELECT id FROM clients WHERE name = $1")
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await?
                        .int("id")?
                }
            };
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
            let inserted = sqlx::query(
                "INSERT INTO cases (reference, client_id, title, types, policy, policy_decided_by, \
                 policy_decided_at, nda_date, phase, opened_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(&reference)
            .bind(client_id)
            .bind(title)
            .bind(&types_json)
            .bind(new.policy.as_ref().map(|p| p.policy.as_str()))
            .bind(new.policy.as_ref().and_then(|p| p.decided_by.clone()))
            .bind(new.policy.as_ref().map(|p| micros(p.decided_at)))
            .bind(new.nda_date.map(date_text))
            .bind(Phase::Intake.as_str())
            .bind(micros(opened_at))
            .fetch_one(&mut *tx)
            .await;
            match inserted {
                Ok(row) => row.int("id")?,
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        what: Entity::Case,
                        value: reference,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        });
        self.get_case(id).await
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
    /// phase it already has changes and logs nothing.
    pub async fn set_phase(&self, case_id: i64, phase: Phase, actor: &str) -> Result<Case> {
        let at = now();
        in_write_tx!(self, |tx, Db| {
            let Some(row) = sqlx::query("SELECT phase FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Err(StoreError::not_found(Entity::Case, case_id));
            };
            let old: Phase = parse_name("case phase", case_id, &row.text("phase")?)?;
            if old != phase {
                sqlx::query("UPDATE cases SET phase = $1, updated_at = $2 WHERE id = $3")
                    .bind(phase.as_str())
                    .bind(micros(at))
                    .bind(case_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO response_log (case_id, at, actor, action) VALUES ($1, $2, $3, $4)",
                )
                .bind(case_id)
                .bind(micros(at))
                .bind(actor)
                .bind(format!("phase: {old} → {phase}"))
                .execute(&mut *tx)
                .await?;
            }
        });
        self.get_case(case_id).await
    }

    /// Records the agreed policy (replacing any earlier one) and logs
    /// `policy: <name> (decided by <who>)` by `actor` at the decision time.
    pub async fn set_policy(
        &self,
        case_id: i64,
        policy: &PolicyDecision,
        actor: &str,
    ) -> Result<Case> {
        let updated_at = now();
        in_write_tx!(self, |tx, Db| {
            let done = sqlx::query(
                "UPDATE cases SET policy = $1, policy_decided_by = $2, policy_decided_at = $3, \
                 updated_at = $4 WHERE id = $5",
            )
            .bind(policy.policy.as_str())
            .bind(policy.decided_by.as_deref())
            .bind(micros(policy.decided_at))
            .bind(micros(updated_at))
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::not_found(Entity::Case, case_id));
            }
            sqlx::query(
                "INSERT INTO response_log (case_id, at, actor, action) VALUES ($1, $2, $3, $4)",
            )
            .bind(case_id)
            .bind(micros(policy.decided_at))
            .bind(actor)
            .bind(policy_action(policy))
            .execute(&mut *tx)
            .await?;
        });
        self.get_case(case_id).await
    }

    /// Appends a line to the case's response log: `actor` did `action` at `at` (when it happened,
    /// which may be before it is typed in). The log is append-only.
    pub async fn add_log(
        &self,
        case_id: i64,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
    ) -> Result<LogEntry> {
        self.ensure_case(case_id).await?;
        with_pool!(self, |pool, Db| {
            let row = sqlx::query(
                "INSERT INTO response_log (case_id, at, actor, action) VALUES ($1, $2, $3, $4) \
                 RETURNING id, case_id, at, actor, action",
            )
            .bind(case_id)
            .bind(micros(at))
            .bind(actor)
            .bind(action)
            .fetch_one(pool)
            .await?;
            log_from_row(&row)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_zero_padded() {
        assert_eq!(auto_reference(2026, 1), "IR-2026-0001");
        assert_eq!(auto_reference(2026, 12345), "IR-2026-12345");
    }
}
