//! Code shared by the integration tests: starting a real `freshet` server process on a
//! loopback port for the duration of one test. Each integration test binary declares
//! `mod support;` and uses what it needs.

// Each test binary uses a different subset of these helpers.
#[allow(dead_code)]
pub mod server;

/// A tokio-postgres client connected to `server` (its connection driven on a task).
#[allow(dead_code)]
pub async fn connect(server: &server::TestServer) -> tokio_postgres::Client {
    let addr = server.addr();
    let config = format!(
        "host={} port={} user=tester dbname=freshet",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    client
}

/// The single bigint a query returns (`SELECT count(*) ...`).
#[allow(dead_code)]
pub async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}
