//! Code shared by the integration tests: starting a real `freshet` server process, or a
//! Kafka-protocol broker, on a loopback port for the duration of one test. Each integration
//! test binary declares `mod support;` and uses what it needs.

// Each test binary uses a different subset of these helpers.
#[allow(dead_code)]
pub mod kafka_broker;
#[allow(dead_code)]
pub mod postgres;
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
    connect_url(&config).await.unwrap_or_else(|e| {
        panic!(
            "connects: {e}\nserver log:\n{}",
            server.log_tail(STARTUP_LOG_LINES)
        )
    })
}

/// Lines of the server log shown when a connection fails.
const STARTUP_LOG_LINES: usize = 40;

/// A tokio-postgres client for a connection string (any server: Freshet or PostgreSQL), its
/// connection driven on a task until the client is dropped or the server goes away.
#[allow(dead_code)]
pub async fn connect_url(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| match std::error::Error::source(&e) {
            Some(cause) => format!("cannot connect to {url}: {e}: {cause}"),
            None => format!("cannot connect to {url}: {e}"),
        })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The rows of `sql` (simple protocol) as text, NULL as `NULL`.
#[allow(dead_code)]
pub async fn text_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
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

/// Polls `sql` (a single bigint; no row or NULL count as not there yet) until it is at least
/// `at_least`, for at most 20 s; returns the last value read (the caller asserts on it).
#[allow(dead_code)]
pub async fn wait_for_count(client: &tokio_postgres::Client, sql: &str, at_least: i64) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = client
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let n = rows
            .first()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .unwrap_or(-1);
        if n >= at_least || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A small deterministic generator for tests that act at random moments (they print the
/// seed, so a failure can be replayed).
#[allow(dead_code)]
pub struct Lcg(pub u64);

#[allow(dead_code)]
impl Lcg {
    /// A generator seeded from the clock; prints the seed.
    pub fn from_clock() -> (Lcg, u64) {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        println!("seed {seed}");
        (Lcg(seed), seed)
    }

    /// The next number below `bound`.
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

/// An empty data directory named for `test` and this process, under cargo's test tmpdir.
#[allow(dead_code)]
pub fn fresh_data_dir(test: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
