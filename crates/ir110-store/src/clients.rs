//! Client companies.

use chrono::NaiveDate;
use ir110_model::Client;

use crate::error::{Entity, Result, StoreError, is_unique_violation};
use crate::store::{RowExt, Store, date, date_text, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

const CLIENT_COLUMNS: &str = "id, name, nda_signed_on, notes, created_at";

pub(crate) fn client_from_row(row: &impl RowExt) -> Result<Client> {
    let id = row.int("id")?;
    Ok(Client {
        id,
        name: row.text("name")?,
        nda_signed_on: row
            .opt_text("nda_signed_on")?
            .map(|d| date("client NDA date", id, &d))
            .transpose()?,
        notes: row.text("notes")?,
        created_at: time("client", id, row.int("created_at")?)?,
    })
}

/// A client name as stored: trimmed, and not empty.
pub(crate) fn client_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid {
            what: "client name",
            detail: "it is empty".to_owned(),
        });
    }
    Ok(name)
}

impl Store {
    /// Records a new client, in a transaction of its own (see [`Tx::create_client`]).
    pub async fn create_client(
        &self,
        name: &str,
        nda_signed_on: Option<NaiveDate>,
        notes: &str,
    ) -> Result<Client> {
        let mut tx = self.begin().await?;
        let client = tx.create_client(name, nda_signed_on, notes).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// The client with this id, or [`StoreError::NotFound`].
    pub async fn get_client(&self, id: i64) -> Result<Client> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
                Some(row) => client_from_row(&row),
                None => Err(StoreError::not_found(Entity::Client, id)),
            }
        })
    }

    /// The client with this name (trimmed, exact match), or [`StoreError::NotFound`].
    pub async fn client_by_name(&self, name: &str) -> Result<Client> {
        let name = client_name(name)?;
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE name = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql).bind(name).fetch_optional(pool).await? {
                Some(row) => client_from_row(&row),
                None => Err(StoreError::not_found(Entity::Client, name)),
            }
        })
    }

    /// Every client, by name.
    pub async fn list_clients(&self) -> Result<Vec<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY name, id");
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(client_from_row)
                .collect()
        })
    }

    /// Sets (or clears) the date the client signed the NDA.
    pub async fn set_client_nda(
        &self,
        id: i64,
        nda_signed_on: Option<NaiveDate>,
    ) -> Result<Client> {
        let sql = format!(
            "UPDATE clients SET nda_signed_on = $1 WHERE id = $2 RETURNING {CLIENT_COLUMNS}"
        );
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql)
                .bind(nda_signed_on.map(date_text))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => client_from_row(&row),
                None => Err(StoreError::not_found(Entity::Client, id)),
            }
        })
    }
}

impl Tx {
    /// Records a new client. The name (trimmed) must be unique: another client with the same
    /// name gives [`StoreError::Conflict`].
    pub async fn create_client(
        &mut self,
        name: &str,
        nda_signed_on: Option<NaiveDate>,
        notes: &str,
    ) -> Result<Client> {
        let name = client_name(name)?;
        let sql = format!(
            "INSERT INTO clients (name, nda_signed_on, notes, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING {CLIENT_COLUMNS}"
        );
        with_tx!(self, |tx, Db| {
            sqlx::query(&sql)
                .bind(name)
                .bind(nda_signed_on.map(date_text))
                .bind(notes)
                .bind(micros(now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict {
                            what: Entity::Client,
                            value: name.to_owned(),
                        }
                    } else {
                        e.into()
                    }
                })
                .and_then(|row| client_from_row(&row))
        })
    }

    /// The client with this id, or [`StoreError::NotFound`].
    pub async fn get_client(&mut self, id: i64) -> Result<Client> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        with_tx!(self, |tx, Db| {
            match sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await? {
                Some(row) => client_from_row(&row),
                None => Err(StoreError::not_found(Entity::Client, id)),
            }
        })
    }
}
