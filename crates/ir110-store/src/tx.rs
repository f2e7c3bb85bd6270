//! [`Tx`]: one write transaction, through which the server makes a change and appends its audit
//! entry, so that the two commit or vanish together.
//!
//! Every write method of a [`Tx`] takes the caller's [`Scope`](crate::Scope) and carries it in
//! the SQL statement that writes (`UPDATE … WHERE id = $1 AND <scope>`, `INSERT … SELECT … FROM
//! cases c WHERE c.id = $1 AND <scope>`): an object outside the scope is not found (`None`) and
//! nothing is written. A scope behind the NDA gate ([`Scope::nda_gated`](crate::Scope::nda_gated),
//! every server caller) also carries "an NDA covers the case" into the statements of every write
//! beyond intake data (phase, policy, tasks ticked, APPI, evidence, custody, quotes, findings,
//! report imports), so a case without an NDA is written to by none of them. The CLI, a local administrator, uses the same methods with
//! [`Scope::all`](crate::Scope::all) through the plain [`Store`] methods.
//!
//! Dropping a [`Tx`] without [`Tx::commit`] rolls it back, so a handler that returns early with
//! `?` (an object out of scope, a failed audit append) leaves the store as it was.

use crate::error::Result;
use crate::store::{Pool, Store};

/// An open write transaction on either backend, from [`Store::begin`]: the server makes a
/// change and appends its audit entry ([`Tx::audit`]) through one `Tx`, so the two commit or
/// vanish together. Every write method takes the caller's [`Scope`](crate::Scope) and carries
/// it in the statement that writes; an object outside the scope gives `None` and nothing is
/// written. Dropping a `Tx` without [`Tx::commit`] rolls it back.
#[derive(Debug)]
pub struct Tx {
    pub(crate) inner: TxInner,
}

#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$tx` bound to the transaction's connection (`&mut *$tx` is an executor)
/// and `$db` naming its `sqlx::Database`, compiled once per backend like `with_pool!`.
macro_rules! with_tx {
    ($w:expr, |$tx:ident, $db:ident| $body:expr) => {
        match &mut $w.inner {
            $crate::tx::TxInner::Sqlite(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $tx: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::tx::TxInner::Postgres(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $tx: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

impl Store {
    /// Starts a write transaction. SQLite transactions start `IMMEDIATE`, so two writers wait
    /// for each other (busy timeout) instead of failing on a read-to-write lock upgrade.
    ///
    /// While a [`Tx`] is open, make every read and write of the same unit of work through it:
    /// an in-memory SQLite store has one connection, which the transaction holds.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }
}

impl Tx {
    /// Makes every change of the transaction permanent.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Undoes every change of the transaction (dropping it does the same, without waiting).
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
