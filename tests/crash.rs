//! Crash safety: writers commit rows while the server is killed with SIGKILL at random
//! moments, several times; after each restart every acknowledged row is present exactly once,
//! and a materialized view equals its query over the table.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Lcg;
use support::server::TestServer;
use support::{connect, count};

const WRITERS: usize = 4;
const ROUNDS: usize = 3;

#[tokio::test]
async fn acknowledged_rows_survive_repeated_sigkill() {
    let (mut rng, seed) = Lcg::from_clock();
    let data = support::fresh_data_dir("crash");
    let mut server = TestServer::start_with(2, data).expect("server starts");
    {
        let client = connect(&server).await;
        client
            .batch_execute("CREATE TABLE acked (writer int, seq int); CREATE MATERIALIZED VIEW per_writer AS SELECT writer, count(*) AS n FROM acked GROUP BY writer")
            .await
            .unwrap();
    }
    let acknowledged: Arc<Mutex<BTreeSet<(i32, i32)>>> = Arc::default();
    let mut next_seq = 0i32;
    for round in 0..ROUNDS {
        let mut writers = Vec::new();
        for writer in 0..WRITERS as i32 {
            let client = connect(&server).await;
            let acknowledged = acknowledged.clone();
            let start = next_seq;
            writers.push(tokio::spawn(async move {
                // Bounded: at most 10,000 rows per writer per round.
                for seq in start..start + 10_000 {
                    match client
                        .execute("INSERT INTO acked VALUES ($1, $2)", &[&writer, &seq])
                        .await
                    {
                        Ok(_) => {
                            acknowledged.lock().expect("lock").insert((writer, seq));
                        }
                        Err(_) => return, // the server was killed
                    }
                }
            }));
        }
        next_seq += 10_000;
        tokio::time::sleep(Duration::from_millis(200 + rng.next(800))).await;
        let dir = server.kill();
        for w in writers {
            let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
        }
        server = TestServer::start_with(2, dir).expect("server restarts");
        let client = connect(&server).await;
        let acked = acknowledged.lock().expect("lock").clone();
        assert!(
            !acked.is_empty(),
            "round {round}: writers committed something"
        );
        println!("round {round}: {} rows acknowledged so far", acked.len());
        // Every acknowledged row exactly once (unacknowledged ones may or may not be there).
        let rows = client
            .query(
                "SELECT writer, seq, count(*) FROM acked GROUP BY writer, seq",
                &[],
            )
            .await
            .unwrap();
        let present: BTreeSet<(i32, i32)> = rows
            .iter()
            .map(|r| {
                let n: i64 = r.get(2);
                assert_eq!(
                    n,
                    1,
                    "round {round}: duplicated row {:?}",
                    (r.get::<_, i32>(0), r.get::<_, i32>(1))
                );
                (r.get(0), r.get(1))
            })
            .collect();
        let missing: Vec<_> = acked.difference(&present).take(5).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged rows lost, e.g. {missing:?} (seed {seed})"
        );
        // The view equals its query.
        let view = count(&client, "SELECT sum(n)::bigint FROM per_writer").await;
        let table = count(&client, "SELECT count(*) FROM acked").await;
        assert_eq!(
            view, table,
            "round {round}: the view disagrees with the table"
        );
        // Make the sets match what is now durable, for the next round.
        *acknowledged.lock().expect("lock") = present;
    }
}
