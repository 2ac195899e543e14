//! A minimal, portable migration runner: numbered SQL scripts embedded in the binary, applied in
//! order inside one transaction each and recorded in `aigov_migrations`.

use sqlx::{AssertSqlSafe, SqliteConnection};

use crate::store_err;

/// (version, name, script) of every SQLite migration, in order.
pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "public_view",
        include_str!("../migrations/sqlite/0002_public_view.sql"),
    ),
    (3, "log", include_str!("../migrations/sqlite/0003_log.sql")),
    (
        4,
        "certificates",
        include_str!("../migrations/sqlite/0004_certificates.sql"),
    ),
];

/// Applies the migrations not yet applied. Refuses a database written by a newer aigov.
pub(crate) async fn run(
    conn: &mut SqliteConnection,
    migrations: &[(i64, &str, &str)],
) -> aigov_registry::Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS aigov_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(store_err)?;
    let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM aigov_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(store_err)?;
    let applied = applied.unwrap_or(0);
    let newest = migrations.last().map_or(0, |m| m.0);
    if applied > newest {
        return Err(aigov_registry::Error::Store(format!(
            "the database has schema version {applied}, newer than this aigov knows ({newest}); upgrade aigov"
        )));
    }
    for (version, name, sql) in migrations.iter().filter(|m| m.0 > applied) {
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(store_err)?;
        let result = async {
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO aigov_migrations (version, name) VALUES (?, ?)")
                .bind(version)
                .bind(*name)
                .execute(&mut *conn)
                .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                sqlx::raw_sql("COMMIT")
                    .execute(&mut *conn)
                    .await
                    .map_err(store_err)?;
            }
            Err(e) => {
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                return Err(aigov_registry::Error::Store(format!(
                    "migration {version} ({name}) failed: {e}"
                )));
            }
        }
    }
    Ok(())
}
