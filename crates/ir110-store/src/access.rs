//! Client scope: which clients a caller may see, enforced inside every query of the server.
//!
//! The case-management server never fetches an object and then checks whose it is: every query
//! that reads or writes a client's object carries the caller's [`Scope`] in its `WHERE` clause
//! (through [`scope_clause`]), so an object outside the scope is simply not found.

use chrono::NaiveDate;
use ir110_model::{Case, IncidentType, PolicyDecision};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::{RowExt, Store, date, from_json, parse_name, time, with_pool};
use crate::tx::{Tx, with_tx};

/// Which clients' objects a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Every client (administrators).
    pub all: bool,
    /// The user whose `user_clients` grants apply when `all` is false.
    pub user_id: i64,
    /// Narrows the scope to this one client (an API token bound to a client).
    pub only_client: Option<i64>,
    /// The NDA gate (the server's callers): writes beyond intake data carry "an NDA covers the
    /// case" in their own statement, so a case without one is not written (`None`), however
    /// late its NDA was cleared. The local CLI's [`Scope::all`] is not gated.
    #[serde(default)]
    pub nda_gate: bool,
}

impl Scope {
    /// Every client.
    pub fn all() -> Self {
        Scope {
            all: true,
            user_id: 0,
            only_client: None,
            nda_gate: false,
        }
    }

    /// The clients granted to `user_id`.
    pub fn user(user_id: i64) -> Self {
        Scope {
            all: false,
            user_id,
            only_client: None,
            nda_gate: false,
        }
    }

    /// The same scope narrowed to one client.
    pub fn narrowed(mut self, client_id: Option<i64>) -> Self {
        if client_id.is_some() {
            self.only_client = client_id;
        }
        self
    }

    /// The same scope behind the NDA gate: its writes beyond intake data need an NDA.
    pub fn nda_gated(mut self) -> Self {
        self.nda_gate = true;
        self
    }

    /// `AND <an NDA covers the case whose id is in column case_id>` when the scope is gated,
    /// else nothing; no binds, so the numbering of the statement stays the same. Mirrors
    /// [`CaseAccess::nda`]: the client's NDA or the case's own NDA date.
    pub(crate) fn nda_clause(&self, case_id: &str) -> String {
        if self.nda_gate {
            format!(
                " AND EXISTS (SELECT 1 FROM cases gc JOIN clients gcl ON gcl.id = gc.client_id \
                 WHERE gc.id = {case_id} AND (gc.nda_date IS NOT NULL OR gcl.nda_signed_on IS NOT NULL))"
            )
        } else {
            String::new()
        }
    }

    /// Every client and not narrowed: may record new clients.
    pub(crate) fn unrestricted(&self) -> bool {
        self.all && self.only_client.is_none()
    }

    pub(crate) fn all_flag(&self) -> i64 {
        i64::from(self.all)
    }

    pub(crate) fn only(&self) -> i64 {
        self.only_client.unwrap_or(0)
    }
}

/// The SQL condition "`column` is a client id inside the scope", using the three binds
/// `$n` (all flag), `$n+1` (user id) and `$n+2` (only-client or 0); bind them with
/// `bind_scope!`.
pub(crate) fn scope_clause(column: &str, n: usize) -> String {
    format!(
        "(${n} = 1 OR {column} IN (SELECT uc.client_id FROM user_clients uc WHERE uc.user_id = ${})) \
         AND (${} = 0 OR {column} = ${})",
        n + 1,
        n + 2,
        n + 2
    )
}

/// Binds the three values of a [`scope_clause`] to a query, in order.
macro_rules! bind_scope {
    ($query:expr, $scope:expr) => {
        $query
            .bind($scope.all_flag())
            .bind($scope.user_id)
            .bind($scope.only())
    };
}
pub(crate) use bind_scope;

/// Appends `EXISTS (case `case_id` inside `scope`)` to a query built with a `QueryBuilder`
/// (whose binds are numbered as they are pushed, so [`scope_clause`] does not fit).
pub(crate) fn push_case_in_scope<'a, DB>(
    qb: &mut sqlx::QueryBuilder<'a, DB>,
    case_id: i64,
    scope: &Scope,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push("EXISTS (SELECT 1 FROM cases c WHERE c.id = ")
        .push_bind(case_id)
        .push(" AND (")
        .push_bind(scope.all_flag())
        .push(
            " = 1 OR c.client_id IN (SELECT uc.client_id FROM user_clients uc WHERE uc.user_id = ",
        )
        .push_bind(scope.user_id)
        .push(")) AND (")
        .push_bind(scope.only())
        .push(" = 0 OR c.client_id = ")
        .push_bind(scope.only())
        .push(")")
        .push(scope.nda_clause("c.id"))
        .push(")");
}

/// A case the caller may see, with what the NDA gate needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAccess {
    /// The case (intake data: always visible within scope).
    pub case: Case,
    /// Whether an NDA covers the case: the client's NDA or the case's own NDA date is recorded.
    /// Until then only intake data may be seen or edited.
    pub nda: bool,
}

pub(crate) const SCOPED_CASE_SELECT: &str = "SELECT c.id, c.reference, c.client_id, \
     cl.name AS client_name, c.title, c.types, c.policy, c.policy_decided_by, \
     c.policy_decided_at, c.nda_date, c.phase, c.opened_at, c.updated_at, \
     cl.nda_signed_on AS client_nda FROM cases c JOIN clients cl ON cl.id = c.client_id";

pub(crate) fn access_from_row(row: &impl RowExt) -> Result<CaseAccess> {
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
    let nda_date: Option<NaiveDate> = row
        .opt_text("nda_date")?
        .map(|d| date("case NDA date", id, &d))
        .transpose()?;
    let client_nda = row.opt_text("client_nda")?;
    Ok(CaseAccess {
        nda: nda_date.is_some() || client_nda.is_some(),
        case: Case {
            id,
            reference: row.text("reference")?,
            client_id: row.int("client_id")?,
            client_name: row.text("client_name")?,
            title: row.text("title")?,
            types,
            policy,
            nda_date,
            phase: parse_name("case phase", id, &row.text("phase")?)?,
            opened_at: time("case", id, row.int("opened_at")?)?,
            updated_at: time("case", id, row.int("updated_at")?)?,
        },
    })
}

/// One page of the case list: newest first, with the key of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePage {
    /// The cases of this page.
    pub cases: Vec<CaseAccess>,
    /// Cases in scope in total.
    pub total: i64,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next: Option<(i64, i64)>,
}

impl Store {
    /// The case `id` if it is inside `scope`, else `None` (whether it exists or not).
    pub async fn case_in_scope(&self, scope: &Scope, id: i64) -> Result<Option<CaseAccess>> {
        let sql = format!(
            "{SCOPED_CASE_SELECT} WHERE c.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(access_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }

    /// A page of the cases in `scope`, newest first (keyset paging on `(opened_at, id)`:
    /// `before` is the `next` of the previous page), at most `limit` cases.
    pub async fn cases_page(
        &self,
        scope: &Scope,
        before: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<CasePage> {
        let (b_at, b_id) = before.unwrap_or((i64::MAX, i64::MAX));
        let sql = format!(
            "{SCOPED_CASE_SELECT} WHERE {} AND (c.opened_at < $4 OR (c.opened_at = $4 AND c.id < $5)) \
             ORDER BY c.opened_at DESC, c.id DESC LIMIT $6",
            scope_clause("c.client_id", 1)
        );
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM cases c WHERE {}",
            scope_clause("c.client_id", 1)
        );
        let (cases, total) = with_pool!(self, |pool, Db| {
            let rows = bind_scope!(sqlx::query(&sql), scope)
                .bind(b_at)
                .bind(b_id)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?;
            let cases = rows
                .iter()
                .map(access_from_row)
                .collect::<Result<Vec<_>>>()?;
            let total = bind_scope!(sqlx::query(&count_sql), scope)
                .fetch_one(pool)
                .await?
                .int("n")?;
            (cases, total)
        });
        let mut cases = cases;
        let next = if cases.len() > limit as usize {
            cases.truncate(limit as usize);
            cases
                .last()
                .map(|c| (c.case.opened_at.timestamp_micros(), c.case.id))
        } else {
            None
        };
        Ok(CasePage { cases, total, next })
    }

    /// The clients inside `scope`, by name.
    pub async fn clients_in_scope(&self, scope: &Scope) -> Result<Vec<ir110_model::Client>> {
        let sql = format!(
            "SELECT id, name, nda_signed_on, notes, created_at FROM clients WHERE {} \
             ORDER BY name, id",
            scope_clause("id", 1)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(crate::clients::client_from_row)
                .collect()
        })
    }

    /// The client `id` if it is inside `scope`.
    pub async fn client_in_scope(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<ir110_model::Client>> {
        let sql = format!(
            "SELECT id, name, nda_signed_on, notes, created_at FROM clients WHERE id = $1 AND {}",
            scope_clause("id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(crate::clients::client_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }

    /// Sets the client's notes (contacts, contract) if the client is inside `scope`, in a
    /// transaction of its own (not audited; the server uses [`Tx::set_client_notes`]).
    pub async fn set_client_notes(
        &self,
        scope: &Scope,
        id: i64,
        notes: &str,
    ) -> Result<Option<ir110_model::Client>> {
        let mut tx = self.begin().await?;
        let client = tx.set_client_notes(scope, id, notes).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Edits a case's intake data if the case is inside `scope`, in a transaction of its own
    /// (not audited; the server uses [`Tx::set_case_intake`]).
    pub async fn set_case_intake(
        &self,
        scope: &Scope,
        id: i64,
        title: &str,
        types: &[IncidentType],
    ) -> Result<Option<CaseAccess>> {
        let mut tx = self.begin().await?;
        let case = tx.set_case_intake(scope, id, title, types).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Records (or clears) the client's NDA date if the client is inside `scope`, in a
    /// transaction of its own (not audited; the server uses [`Tx::set_client_nda`]).
    pub async fn set_client_nda_in_scope(
        &self,
        scope: &Scope,
        id: i64,
        signed_on: Option<NaiveDate>,
    ) -> Result<Option<ir110_model::Client>> {
        let mut tx = self.begin().await?;
        let client = tx.set_client_nda(scope, id, signed_on).await?;
        tx.commit().await?;
        Ok(client)
    }
}

impl Tx {
    /// The case `id` if it is inside `scope`, read inside the transaction (so it shows the
    /// transaction's own changes).
    pub async fn case_in_scope(&mut self, scope: &Scope, id: i64) -> Result<Option<CaseAccess>> {
        let sql = format!(
            "{SCOPED_CASE_SELECT} WHERE c.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(row) => Ok(Some(access_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }

    /// The client `id` if it is inside `scope`, read inside the transaction.
    pub async fn client_in_scope(
        &mut self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<ir110_model::Client>> {
        let sql = format!(
            "SELECT id, name, nda_signed_on, notes, created_at FROM clients WHERE id = $1 AND {}",
            scope_clause("id", 2)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(row) => Ok(Some(crate::clients::client_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }

    /// Sets the client's notes (contacts, contract) if the client is inside `scope` (checked by
    /// the `UPDATE` itself).
    pub async fn set_client_notes(
        &mut self,
        scope: &Scope,
        id: i64,
        notes: &str,
    ) -> Result<Option<ir110_model::Client>> {
        let sql = format!(
            "UPDATE clients SET notes = $1 WHERE id = $2 AND {} \
             RETURNING id, name, nda_signed_on, notes, created_at",
            scope_clause("id", 3)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(sqlx::query(&sql).bind(notes).bind(id), scope)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(row) => Ok(Some(crate::clients::client_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }

    /// Edits a case's intake data (title and incident types, duplicates dropped) if the case is
    /// inside `scope` (checked by the `UPDATE` itself); returns the case as it is now, or `None`
    /// when out of scope.
    pub async fn set_case_intake(
        &mut self,
        scope: &Scope,
        id: i64,
        title: &str,
        types: &[IncidentType],
    ) -> Result<Option<CaseAccess>> {
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::Invalid {
                what: "case title",
                detail: "it is empty".to_owned(),
            });
        }
        let mut unique: Vec<&str> = Vec::new();
        for t in types {
            if !unique.contains(&t.as_str()) {
                unique.push(t.as_str());
            }
        }
        let types_json = crate::store::to_json("case types", &unique)?;
        let sql = format!(
            "UPDATE cases SET title = $1, types = $2, updated_at = $3 WHERE id = $4 AND {}",
            scope_clause("client_id", 5)
        );
        let changed = with_tx!(self, |tx, Db| {
            bind_scope!(
                sqlx::query(&sql)
                    .bind(title)
                    .bind(&types_json)
                    .bind(crate::store::micros(crate::store::now()))
                    .bind(id),
                scope
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Ok(None);
        }
        self.case_in_scope(scope, id).await
    }

    /// Records (or clears) the client's NDA date if the client is inside `scope` (checked by the
    /// `UPDATE` itself).
    pub async fn set_client_nda(
        &mut self,
        scope: &Scope,
        id: i64,
        signed_on: Option<NaiveDate>,
    ) -> Result<Option<ir110_model::Client>> {
        let sql = format!(
            "UPDATE clients SET nda_signed_on = $1 WHERE id = $2 AND {} \
             RETURNING id, name, nda_signed_on, notes, created_at",
            scope_clause("id", 3)
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(signed_on.map(crate::store::date_text))
                    .bind(id),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(row) => Ok(Some(crate::clients::client_from_row(&row)?)),
                None => Ok(None),
            }
        })
    }
}
