//! APPI (個人情報保護法) breach-report clocks: the discovery date of a possible personal-data
//! leak, from which the server derives the 速報 and 確報 deadlines.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{
    CaseAccess, SCOPED_CASE_SELECT, Scope, access_from_row, bind_scope, scope_clause,
};
use crate::error::Result;
use crate::store::{RowExt, Store, date, date_text, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

/// A case marked as a possible personal-data leak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppiMark {
    /// The case.
    pub case_id: i64,
    /// 発覚日: the day the business became aware (JST date).
    pub discovered_on: NaiveDate,
    /// Caused by unauthorized acts (不正の目的): the final report is due in 60 days, not 30.
    pub unauthorized: bool,
    /// Who marked it.
    pub marked_by: String,
    /// When.
    pub marked_at: DateTime<Utc>,
}

fn mark_from_row(row: &impl RowExt) -> Result<AppiMark> {
    let case_id = row.int("case_id")?;
    Ok(AppiMark {
        case_id,
        discovered_on: date("APPI discovery date", case_id, &row.text("discovered_on")?)?,
        unauthorized: row.int("unauthorized")? != 0,
        marked_by: row.text("marked_by")?,
        marked_at: time("APPI mark", case_id, row.int("marked_at")?)?,
    })
}

impl Store {
    /// Marks (or re-marks) case `case_id` as a possible leak if it is inside `scope`, in a
    /// transaction of its own (not audited; the server uses [`Tx::set_appi`]).
    pub async fn set_appi(
        &self,
        scope: &Scope,
        case_id: i64,
        discovered_on: NaiveDate,
        unauthorized: bool,
        actor: &str,
    ) -> Result<Option<AppiMark>> {
        let mut tx = self.begin().await?;
        let mark = tx
            .set_appi(scope, case_id, discovered_on, unauthorized, actor)
            .await?;
        tx.commit().await?;
        Ok(mark)
    }

    /// The APPI mark of a case inside `scope`, if marked.
    pub async fn appi_in_scope(&self, scope: &Scope, case_id: i64) -> Result<Option<AppiMark>> {
        let sql = format!(
            "SELECT a.case_id, a.discovered_on, a.unauthorized, a.marked_by, a.marked_at \
             FROM appi_clocks a JOIN cases c ON c.id = a.case_id WHERE a.case_id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Ok(Some(mark_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Every marked case inside `scope` whose client's NDA is recorded (or whose case has an NDA
    /// date), oldest discovery first: the cross-client deadline list.
    pub async fn appi_marks_in_scope(&self, scope: &Scope) -> Result<Vec<(CaseAccess, AppiMark)>> {
        let sql = format!(
            "{}, a.case_id, a.discovered_on, a.unauthorized, a.marked_by, a.marked_at \
             FROM cases c JOIN clients cl ON cl.id = c.client_id \
             JOIN appi_clocks a ON a.case_id = c.id WHERE {} \
             AND (cl.nda_signed_on IS NOT NULL OR c.nda_date IS NOT NULL) \
             ORDER BY a.discovered_on, c.id",
            SCOPED_CASE_SELECT
                .split(" FROM ")
                .next()
                .unwrap_or(SCOPED_CASE_SELECT),
            scope_clause("c.client_id", 1)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Ok((access_from_row(r)?, mark_from_row(r)?)))
                .collect()
        })
    }
}

impl Tx {
    /// Marks (or re-marks) case `case_id` as a possible leak if it is inside `scope` (the
    /// `INSERT` selects the case through the scope). Returns `None` when out of scope.
    pub async fn set_appi(
        &mut self,
        scope: &Scope,
        case_id: i64,
        discovered_on: NaiveDate,
        unauthorized: bool,
        actor: &str,
    ) -> Result<Option<AppiMark>> {
        let sql = format!(
            "INSERT INTO appi_clocks (case_id, discovered_on, unauthorized, marked_by, marked_at) \
             SELECT c.id, $1, $2, $3, $4 FROM cases c WHERE c.id = $5 AND {}{} \
             ON CONFLICT (case_id) DO UPDATE SET discovered_on = excluded.discovered_on, \
             unauthorized = excluded.unauthorized, marked_by = excluded.marked_by, \
             marked_at = excluded.marked_at",
            scope_clause("c.client_id", 6),
            scope.nda_clause("c.id")
        );
        let read = format!(
            "SELECT a.case_id, a.discovered_on, a.unauthorized, a.marked_by, a.marked_at \
             FROM appi_clocks a JOIN cases c ON c.id = a.case_id WHERE a.case_id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_tx!(self, |tx, Db| {
            let changed = bind_scope!(
                sqlx::query(&sql)
                    .bind(date_text(discovered_on))
                    .bind(i64::from(unauthorized))
                    .bind(actor)
                    .bind(micros(now()))
                    .bind(case_id),
                scope
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(None);
            }
            match bind_scope!(sqlx::query(&read).bind(case_id), scope)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(r) => Ok(Some(mark_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }
}
