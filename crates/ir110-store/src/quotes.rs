//! Quotes (見積書): lines priced from the service's price list, with consumption tax.
//!
//! The store keeps the computed amounts as given; the server computes them (integer yen).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::Result;
use crate::store::{RowExt, Store, from_json, micros, now, time, to_json, with_pool};
use crate::tx::{Tx, with_tx};

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    /// Price-list item code.
    pub code: String,
    /// Item name `[ja, en]` at the time of quoting.
    pub name: [String; 2],
    /// Unit `[ja, en]` (式, 台, 日).
    pub unit: [String; 2],
    /// Unit price in yen, tax excluded.
    pub unit_price: i64,
    /// Quantity.
    pub quantity: i64,
    /// `unit_price × quantity`.
    pub amount: i64,
}

/// A quote to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuote {
    /// Lines.
    pub lines: Vec<QuoteLine>,
    /// Sum of the lines, tax excluded.
    pub subtotal: i64,
    /// Consumption tax.
    pub tax: i64,
    /// Subtotal plus tax.
    pub total: i64,
    /// Who made it.
    pub created_by: String,
}

/// A stored quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Store id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Content.
    #[serde(flatten)]
    pub quote: NewQuote,
    /// When made.
    pub created_at: DateTime<Utc>,
}

fn quote_from_row(row: &impl RowExt) -> Result<Quote> {
    let id = row.int("id")?;
    Ok(Quote {
        id,
        case_id: row.int("case_id")?,
        quote: NewQuote {
            lines: from_json("quote lines", id, &row.text("lines")?)?,
            subtotal: row.int("subtotal")?,
            tax: row.int("tax")?,
            total: row.int("total")?,
            created_by: row.text("created_by")?,
        },
        created_at: time("quote", id, row.int("created_at")?)?,
    })
}

const QUOTE_COLUMNS: &str =
    "q.id, q.case_id, q.lines, q.subtotal, q.tax, q.total, q.created_by, q.created_at";

impl Store {
    /// Stores a quote for case `case_id` if the case is inside `scope`, in a transaction of
    /// its own (not audited; the server uses [`Tx::create_quote`]).
    pub async fn create_quote(
        &self,
        scope: &Scope,
        case_id: i64,
        quote: &NewQuote,
    ) -> Result<Option<Quote>> {
        let mut tx = self.begin().await?;
        let stored = tx.create_quote(scope, case_id, quote).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The quote `id` if its case is inside `scope`.
    pub async fn quote_in_scope(&self, scope: &Scope, id: i64) -> Result<Option<Quote>> {
        let sql = format!(
            "SELECT {QUOTE_COLUMNS} FROM quotes q JOIN cases c ON c.id = q.case_id \
             WHERE q.id = $1 AND {}",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            match bind_scope!(sqlx::query(&sql).bind(id), scope)
                .fetch_optional(pool)
                .await?
            {
                Some(r) => Ok(Some(quote_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// The quotes of case `case_id` if the case is inside `scope`, oldest first.
    pub async fn quotes_in_scope(&self, scope: &Scope, case_id: i64) -> Result<Vec<Quote>> {
        let sql = format!(
            "SELECT {QUOTE_COLUMNS} FROM quotes q JOIN cases c ON c.id = q.case_id \
             WHERE q.case_id = $1 AND {} ORDER BY q.id",
            scope_clause("c.client_id", 2)
        );
        with_pool!(self, |pool, Db| {
            bind_scope!(sqlx::query(&sql).bind(case_id), scope)
                .fetch_all(pool)
                .await?
                .iter()
                .map(quote_from_row)
                .collect()
        })
    }
}

impl Tx {
    /// Stores a quote for case `case_id` if the case is inside `scope` (the `INSERT` selects
    /// the case through the scope); `None` otherwise.
    pub async fn create_quote(
        &mut self,
        scope: &Scope,
        case_id: i64,
        quote: &NewQuote,
    ) -> Result<Option<Quote>> {
        let lines = to_json("quote lines", &quote.lines)?;
        let sql = format!(
            "INSERT INTO quotes (case_id, lines, subtotal, tax, total, created_by, created_at) \
             SELECT c.id, $1, $2, $3, $4, $5, $6 FROM cases c WHERE c.id = $7 AND {}{} \
             RETURNING id, case_id, lines, subtotal, tax, total, created_by, created_at",
            scope_clause("c.client_id", 8),
            scope.nda_clause("c.id")
        );
        with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(&lines)
                    .bind(quote.subtotal)
                    .bind(quote.tax)
                    .bind(quote.total)
                    .bind(&quote.created_by)
                    .bind(micros(now()))
                    .bind(case_id),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(r) => Ok(Some(quote_from_row(&r)?)),
                None => Ok(None),
            }
        })
    }
}
