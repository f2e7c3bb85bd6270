//! The backend harness shared by the store's test binaries: a fresh store per test on SQLite
//! (a temporary file) always, and on PostgreSQL (a fresh schema, dropped afterwards) when
//! `IR110_TEST_POSTGRES_URL` is set; `bash .ci/postgres.sh` starts a local server and prints
//! the variable. [`on_every_backend!`] declares each scenario once per backend.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use ir110_store::{Backend, Store};
use sqlx::Connection;

const PG_ENV: &str = "IR110_TEST_POSTGRES_URL";

/// A store for one test, and what to clean up after it.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with, for raw access behind its back.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("case.db").display());
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        TestDb {
            store,
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    /// A store in a new schema of the test server, or `None` (with a note) when none is set.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            // Once per run, and past the test harness's output capture so that it shows.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: the postgres::* store tests are skipped: {PG_ENV} is not set \
                     (run `eval \"$(bash .ci/postgres.sh)\"` to start a local server)"
                );
            });
            eprintln!("skipped {test} on PostgreSQL: {PG_ENV} is not set");
            return None;
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = Utc::now().timestamp_subsec_nanos();
        let schema = format!(
            "t_{}_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos,
            test.to_ascii_lowercase()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb {
            store,
            url,
            _dir: None,
            pg_schema: Some((admin_url, schema)),
        })
    }

    /// Runs `sql` directly on the database, as someone editing it outside ir110 would.
    pub async fn raw(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self.store.backend() {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut c).await?;
                c.close().await
            }
            _ => {
                let mut c = sqlx::PgConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut c).await?;
                c.close().await
            }
        }
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, schema)) = self.pg_schema {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
    }
}

/// Declares each scenario once per backend: `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }
    };
}
