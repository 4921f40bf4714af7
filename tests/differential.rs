//! Differential test against a real PostgreSQL 15: random tables, random queries (joins,
//! aggregates, subqueries, set operations, top-k, WITH RECURSIVE, window functions, FILTER),
//! random batches of INSERT / UPDATE / DELETE. Every query is a materialized view in Freshet,
//! created before any row exists; after every batch (applied to both databases) each view
//! must equal, as a multiset of rows, the same query run by PostgreSQL.
//!
//! CI runs a fixed seed. `FRESHET_DIFFERENTIAL_SEED=n` runs another one (a failure prints its
//! seed, the batch and the query), `FRESHET_DIFFERENTIAL_BATCHES=n` changes the number of
//! batches, `FRESHET_DIFFERENTIAL_QUERIES=n` the number of queries.

mod support;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio_postgres::{Client, SimpleQueryMessage};

use support::postgres::Postgres;
use support::server::TestServer;

const DEFAULT_SEED: u64 = 20_261_130;
const DEFAULT_BATCHES: usize = 25;
const DEFAULT_QUERIES: usize = 60;
const TABLES: [&str; 3] = ["t0", "t1", "t2"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small integer or NULL (one in eight): small domains make joins and groups collide.
fn int(rng: &mut ChaCha8Rng) -> String {
    if rng.random_range(0..8) == 0 {
        "NULL".into()
    } else {
        rng.random_range(0..6).to_string()
    }
}

fn text(rng: &mut ChaCha8Rng) -> String {
    ["'x'", "'y'", "'z'", "''", "NULL"][rng.random_range(0..5)].to_string()
}

fn table(rng: &mut ChaCha8Rng) -> &'static str {
    TABLES[rng.random_range(0..TABLES.len())]
}

/// A predicate over the columns of alias `t` (`a`, `b` integers, `c` text).
fn predicate(rng: &mut ChaCha8Rng, t: &str) -> String {
    let atom = |rng: &mut ChaCha8Rng| match rng.random_range(0..7) {
        0 => format!("{t}.a > {}", rng.random_range(0..6)),
        1 => format!("{t}.b <= {}", rng.random_range(0..6)),
        2 => format!("{t}.c = {}", text(rng)),
        3 => format!("{t}.a IS NULL"),
        4 => format!("{t}.b IS NOT NULL"),
        5 => format!("{t}.a + {t}.b > {}", rng.random_range(0..10)),
        _ => format!("{t}.a <> {t}.b"),
    };
    match rng.random_range(0..4) {
        0 => format!("{} AND {}", atom(rng), atom(rng)),
        1 => format!("({} OR {})", atom(rng), atom(rng)),
        2 => format!("NOT ({})", atom(rng)),
        _ => atom(rng),
    }
}

fn query(rng: &mut ChaCha8Rng) -> String {
    let (x, y) = (table(rng), table(rng));
    match rng.random_range(0..22) {
        0 => format!("SELECT a, b, c FROM {x} t WHERE {}", predicate(rng, "t")),
        1 => format!(
            "SELECT t.a, u.b, t.c FROM {x} t JOIN {y} u ON t.a = u.a WHERE {}",
            predicate(rng, "u")
        ),
        2 => {
            format!("SELECT t.a, t.b, u.b AS ub, u.c AS uc FROM {x} t LEFT JOIN {y} u ON t.a = u.b")
        }
        3 => format!(
            "SELECT t.a, u.a AS ua, u.c FROM {x} t FULL JOIN {y} u ON t.b = u.b AND t.c = u.c"
        ),
        4 => format!(
            "SELECT a, count(*), sum(b), min(c), max(b), count(c) AS nc FROM {x} GROUP BY a"
        ),
        5 => format!(
            "SELECT c, count(DISTINCT b), sum(a) FROM {x} t WHERE {} GROUP BY c HAVING count(*) > 1",
            predicate(rng, "t")
        ),
        6 => format!(
            "SELECT a, b FROM {x} t WHERE t.a IN (SELECT u.b FROM {y} u WHERE {})",
            predicate(rng, "u")
        ),
        7 => format!("SELECT a, c FROM {x} t WHERE t.a NOT IN (SELECT u.b FROM {y} u)"),
        8 => format!(
            "SELECT a, c FROM {x} t WHERE EXISTS (SELECT 1 FROM {y} u WHERE u.a = t.b AND {})",
            predicate(rng, "u")
        ),
        9 => format!("SELECT a, (SELECT count(*) FROM {y} u WHERE u.a = t.a) FROM {x} t"),
        10 => {
            let op = [
                "UNION",
                "UNION ALL",
                "EXCEPT",
                "EXCEPT ALL",
                "INTERSECT",
                "INTERSECT ALL",
            ][rng.random_range(0..6)];
            format!("SELECT a, c FROM {x} {op} SELECT b, c FROM {y}")
        }
        11 => format!("SELECT DISTINCT b, c FROM {x}"),
        12 => format!(
            "SELECT a, b, c FROM {x} ORDER BY a, b DESC, c LIMIT {}",
            rng.random_range(1..5)
        ),
        13 => format!(
            "SELECT CASE WHEN a > b THEN 'gt' WHEN a = b THEN 'eq' ELSE 'other' END, \
             COALESCE(c, 'none'), count(*) FROM {x} GROUP BY 1, 2"
        ),
        14 => format!(
            "SELECT t.c, count(*) FROM {x} t JOIN {y} u ON t.c = u.c JOIN {} v ON u.a = v.a \
             GROUP BY t.c",
            table(rng)
        ),
        15 => format!(
            "SELECT a, max(b) FROM (SELECT a, b FROM {x} UNION ALL SELECT b, a FROM {y}) s \
             WHERE a IS NOT NULL GROUP BY a"
        ),
        // Transitive closure: values are small integers, so the recursion is finite.
        16 => format!(
            "WITH RECURSIVE r(s, d) AS (SELECT a, b FROM {x} WHERE a IS NOT NULL \
             UNION SELECT r.s, e.b FROM r JOIN {x} e ON r.d = e.a) SELECT s, d FROM r"
        ),
        // Paths of at most three steps, counted with their multiplicities.
        17 => format!(
            "WITH RECURSIVE r(n, depth) AS (SELECT a, 0 FROM {x} WHERE {} \
             UNION ALL SELECT e.b, r.depth + 1 FROM r JOIN {y} e ON e.a = r.n \
             WHERE r.depth < 3) SELECT n, depth, count(*) FROM r GROUP BY n, depth",
            predicate(rng, x)
        ),
        // Window functions. Rows equal in their order keys are equal in every column, but
        // which of them comes first is undefined: each query has one function whose value
        // depends on the position among equal rows (lag, a ROWS frame), so that the multiset
        // of results is defined.
        18 => format!(
            "SELECT a, b, c, sum(b) OVER (PARTITION BY a ORDER BY b, c) AS running, \
             lag(c, 1, 'none') OVER (PARTITION BY a ORDER BY b, c) AS prev FROM {x}"
        ),
        19 => format!(
            "SELECT a, c, rank() OVER (PARTITION BY c ORDER BY a), \
             count(*) OVER (PARTITION BY c) AS n, \
             first_value(b) OVER (PARTITION BY c ORDER BY a, b ROWS BETWEEN UNBOUNDED \
             PRECEDING AND UNBOUNDED FOLLOWING) AS first, \
             count(*) OVER (PARTITION BY c ORDER BY a, b ROWS BETWEEN 1 PRECEDING AND \
             1 FOLLOWING) AS near FROM {x} t WHERE {}",
            predicate(rng, "t")
        ),
        // Numberings and nearby values (maintained row by row), partitioned and global,
        // one of them per query (see 18); the order keys cover every column, so equal
        // keys mean equal rows.
        20 => {
            let positional = [
                "row_number() OVER (PARTITION BY c ORDER BY a, b)",
                "lead(b, 2) OVER (PARTITION BY c ORDER BY a, b)",
                "sum(a) OVER (PARTITION BY c ORDER BY a, b ROWS BETWEEN 2 PRECEDING AND \
                 1 PRECEDING)",
                "row_number() OVER (ORDER BY a DESC, b, c NULLS FIRST)",
            ][rng.random_range(0..4)];
            format!(
                "SELECT a, b, c, {positional} AS p, \
                 dense_rank() OVER (PARTITION BY c ORDER BY a) AS dr, \
                 sum(b) OVER (PARTITION BY c ORDER BY a DESC RANGE BETWEEN 1 PRECEDING AND \
                 2 FOLLOWING) AS near, \
                 count(*) OVER (PARTITION BY c ORDER BY a GROUPS BETWEEN 1 PRECEDING AND \
                 1 FOLLOWING) AS groups FROM {x}"
            )
        }
        _ => format!(
            "SELECT c, count(*) FILTER (WHERE a > 2) AS big, \
             sum(b) FILTER (WHERE a IS NULL OR b < 3) AS small FROM {x} GROUP BY c"
        ),
    }
}

fn write(rng: &mut ChaCha8Rng) -> String {
    let t = table(rng);
    match rng.random_range(0..5) {
        0 | 1 => {
            let rows: Vec<String> = (0..rng.random_range(1..5))
                .map(|_| format!("({}, {}, {})", int(rng), int(rng), text(rng)))
                .collect();
            format!("INSERT INTO {t} VALUES {}", rows.join(", "))
        }
        2 => format!(
            "UPDATE {t} SET b = b + 1, c = {} WHERE a = {}",
            text(rng),
            rng.random_range(0..6)
        ),
        3 => format!("DELETE FROM {t} WHERE a = {}", rng.random_range(0..6)),
        _ => format!("DELETE FROM {t} WHERE {}", predicate(rng, t)),
    }
}

/// The rows of `sql` as text, sorted (a multiset).
async fn sorted_rows(client: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let messages = client.simple_query(sql).await.map_err(|e| {
        e.as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_string())
    })?;
    let mut rows: Vec<Vec<Option<String>>> = messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect();
    rows.sort();
    Ok(rows)
}

#[tokio::test]
async fn materialized_views_equal_postgres_after_every_batch() {
    let seed = env_or("FRESHET_DIFFERENTIAL_SEED", DEFAULT_SEED);
    let batches = env_or("FRESHET_DIFFERENTIAL_BATCHES", DEFAULT_BATCHES);
    let queries = env_or("FRESHET_DIFFERENTIAL_QUERIES", DEFAULT_QUERIES);
    println!("seed {seed}, {batches} batches, {queries} queries");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let postgres = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let pg = support::connect_url(&postgres.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let server = TestServer::start().expect("freshet starts");
    let freshet = support::connect(&server).await;
    for t in TABLES {
        let ddl = format!("CREATE TABLE {t} (a integer, b integer, c text)");
        pg.batch_execute(&ddl)
            .await
            .expect("postgres creates the table");
        freshet
            .batch_execute(&ddl)
            .await
            .expect("freshet creates the table");
    }
    let mut views = Vec::new();
    for i in 0..queries {
        let sql = query(&mut rng);
        freshet
            .batch_execute(&format!("CREATE MATERIALIZED VIEW v{i} AS {sql}"))
            .await
            .unwrap_or_else(|e| {
                let message = e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string());
                panic!("seed {seed}: freshet cannot create v{i} as {sql}: {message}")
            });
        views.push(sql);
    }
    let mut mismatches = Vec::new();
    // Rows PostgreSQL returned over all checks: the comparison must not be of empty results.
    let mut rows_compared = 0;
    for batch in 0..batches {
        let statements: Vec<String> = (0..rng.random_range(1..6))
            .map(|_| write(&mut rng))
            .collect();
        for sql in &statements {
            let in_pg = pg.batch_execute(sql).await.map_err(|e| e.to_string());
            let in_freshet = freshet.batch_execute(sql).await.map_err(|e| e.to_string());
            assert_eq!(
                in_pg.is_ok(),
                in_freshet.is_ok(),
                "seed {seed}, batch {batch}: {sql}: postgres {in_pg:?}, freshet {in_freshet:?}"
            );
        }
        for (i, sql) in views.iter().enumerate() {
            let want = sorted_rows(&pg, sql).await;
            let got = sorted_rows(&freshet, &format!("SELECT * FROM v{i}")).await;
            rows_compared += want.as_ref().map_or(0, Vec::len);
            if want != got {
                mismatches.push(format!(
                    "seed {seed}, after batch {batch} ({}):\n  v{i}: {sql}\n  postgres: {want:?}\n  freshet:  {got:?}",
                    statements.join("; ")
                ));
            }
        }
        if !mismatches.is_empty() {
            break;
        }
    }
    println!("{rows_compared} rows compared");
    assert!(
        rows_compared > 0,
        "every query returned nothing: the test checked nothing"
    );
    assert!(
        mismatches.is_empty(),
        "{} views differ from PostgreSQL:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
