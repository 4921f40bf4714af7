//! Every file in `sql/examples/` runs, as written, on a fresh server, and its views answer
//! what the file's header promises.

mod support;

use support::server::TestServer;
use support::{connect, count, text_rows as rows, wait_for_count};
use tokio_postgres::Client;

/// Starts a server and runs `sql/examples/<name>.sql` on it.
async fn run_example(name: &str) -> (TestServer, Client) {
    let path = format!("{}/sql/examples/{name}.sql", env!("CARGO_MANIFEST_DIR"));
    let sql = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (server, client)
}

/// `a` and `b` (two queries with the same columns) hold the same rows: checked in one
/// statement, so at one timestamp.
async fn same_rows(client: &Client, a: &str, b: &str) -> bool {
    count(
        client,
        &format!("SELECT count(*) FROM (({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a})) d"),
    )
    .await
        == 0
}

#[tokio::test]
async fn dashboard_counts_the_last_five_minutes_of_clicks_per_user() {
    let (_server, client) = run_example("dashboard").await;
    let total = wait_for_count(
        &client,
        "SELECT sum(click_count)::bigint FROM clicks_per_user_5m",
        1_000,
    )
    .await;
    // 5 clicks a tick for 300 ticks of history, plus attack bursts, minus what has aged out.
    assert!(
        (1_000..=2_000).contains(&total),
        "{total} clicks in 5 minutes"
    );
    let user = count(
        &client,
        "SELECT min(user_id) FROM clicks_per_user_5m WHERE user_id > 0",
    )
    .await;
    let lookup = rows(
        &client,
        &format!("SELECT click_count > 0 FROM clicks_per_user_5m WHERE user_id = {user}"),
    )
    .await;
    assert_eq!(lookup, vec![vec!["t".to_string()]]);
}

#[tokio::test]
async fn fraud_detection_views_equal_their_queries() {
    let (_server, client) = run_example("fraud_detection").await;
    wait_for_count(&client, "SELECT count(*) FROM auctions", 120).await;
    assert!(count(&client, "SELECT count(*) FROM item_bid_stats").await > 0);
    assert!(
        same_rows(
            &client,
            "SELECT bid_id, buyer, auction_id FROM shill_bids",
            "SELECT b.id, b.buyer, a.id FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE b.buyer = a.seller",
        )
        .await
    );
    assert!(
        same_rows(
            &client,
            "SELECT bid_id FROM outlier_bids",
            "SELECT b.id FROM bids b JOIN auctions a ON a.id = b.auction_id
             JOIN (SELECT a.item, avg(b.amount) AS m, count(*) AS n FROM bids b
                   JOIN auctions a ON a.id = b.auction_id GROUP BY a.item) s ON s.item = a.item
             WHERE s.n >= 10 AND b.amount > 1.8 * s.m",
        )
        .await
    );
}

#[tokio::test]
async fn enrichment_gives_every_click_its_page_and_follows_reference_changes() {
    let (_server, client) = run_example("enrichment").await;
    wait_for_count(&client, "SELECT count(*) FROM enriched_clicks", 300).await;
    assert!(
        same_rows(
            &client,
            "SELECT user_id, url, created_at FROM enriched_clicks",
            "SELECT user_id, url, created_at FROM page_clicks",
        )
        .await
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM clicks_per_team").await,
        5
    );
    client
        .batch_execute("UPDATE pages SET team = 'growth' WHERE team = 'web'")
        .await
        .expect("update reference data");
    let teams = rows(&client, "SELECT team FROM clicks_per_team ORDER BY team").await;
    assert!(teams.contains(&vec!["growth".to_string()]), "{teams:?}");
    assert!(!teams.contains(&vec!["web".to_string()]), "{teams:?}");
}

#[tokio::test]
async fn alerting_flags_the_address_with_five_failed_logins_in_a_minute() {
    let (_server, client) = run_example("alerting").await;
    wait_for_count(&client, "SELECT ticks FROM logins_progress", 60).await;
    let alerts = rows(&client, "SELECT ip, failures FROM failed_login_alerts").await;
    assert_eq!(
        alerts,
        vec![vec!["203.0.113.1".to_string(), "8".to_string()]],
        "the burst of tick 30 (30 s ago) is the one alert"
    );
}

#[tokio::test]
async fn p95_latency_is_reported_per_endpoint() {
    let (_server, client) = run_example("p95_latency").await;
    wait_for_count(&client, "SELECT count(*) FROM endpoint_latency", 8).await;
    let endpoints = rows(
        &client,
        "SELECT endpoint, p95_ms >= p50_ms, p95_ms <= max_ms FROM endpoint_latency ORDER BY endpoint",
    )
    .await;
    assert_eq!(endpoints.len(), 8, "{endpoints:?}");
    for row in endpoints {
        assert_eq!(row[1..], ["t", "t"], "{row:?}");
    }
}

#[tokio::test]
async fn change_detection_keeps_sensors_whose_latest_value_changed() {
    let (_server, client) = run_example("change_detection").await;
    assert_eq!(
        rows(
            &client,
            "SELECT sensor, previous_value, current_value FROM changed_sensors"
        )
        .await,
        vec![vec!["s2".to_string(), "18.00".into(), "19.25".into()]]
    );
    client
        .batch_execute(
            "INSERT INTO readings VALUES ('s1', '2026-01-01 10:02:00+00', 22.0),
                                         ('s2', '2026-01-01 10:02:00+00', 19.25)",
        )
        .await
        .expect("new readings");
    assert_eq!(
        rows(
            &client,
            "SELECT sensor, previous_value, current_value FROM changed_sensors"
        )
        .await,
        vec![vec!["s1".to_string(), "21.50".into(), "22.00".into()]]
    );
}

#[tokio::test]
async fn cdc_folds_change_events_into_current_state() {
    let (_server, client) = run_example("cdc").await;
    assert_eq!(
        rows(
            &client,
            "SELECT id, status, amount FROM orders_current ORDER BY id"
        )
        .await,
        vec![
            vec!["1".to_string(), "paid".into(), "10.00".into()],
            vec!["3".to_string(), "paid".into(), "8.00".into()],
        ]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT status, orders, total FROM orders_by_status"
        )
        .await,
        vec![vec!["paid".to_string(), "2".into(), "18.00".into()]]
    );
}
