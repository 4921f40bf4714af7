//! The `freshet bench` commands run end to end at small sizes and print the figures they
//! promise. Their speed is not checked here (benchmarks measure it); what is checked is
//! that every Nexmark query runs and gives a view, and that the figures are well formed.

mod support;

use serde_json::Value;
use std::process::Command;

/// Runs `freshet bench <args>` and returns its JSON lines.
fn bench(args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_freshet"))
        .arg("bench")
        .args(args)
        .output()
        .expect("run freshet bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "freshet bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?} is JSON: {e}")))
        .collect()
}

#[test]
fn every_nexmark_query_runs_over_the_generator_and_fills_its_view() {
    let lines = bench(&[
        "nexmark",
        "--queries",
        "all",
        "--events",
        "3000",
        "--batch-events",
        "1000",
        "--workers",
        "2",
        "--sql-dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/sql/nexmark"),
    ]);
    assert_eq!(lines.len(), 23, "one line per query: {lines:?}");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["query"], format!("q{i}"), "{line}");
        assert!(line.get("error").is_none(), "q{i} failed: {line}");
        assert_eq!(line["events"], 3000, "{line}");
        assert!(
            line["events_per_sec"].as_f64().unwrap_or(0.0) > 0.0,
            "{line}"
        );
        assert!(line["peak_rss_bytes"].as_u64().unwrap_or(0) > 0, "{line}");
        assert!(line["view_rows"].as_i64().unwrap_or(-1) >= 0, "{line}");
    }
    // Queries that pass every bid through have a row per bid: 46 in every 50 events.
    for q in [0, 1, 22] {
        assert_eq!(lines[q]["view_rows"], 2760, "q{q}: {}", lines[q]);
    }
}

#[test]
fn a_nexmark_query_file_that_fails_is_reported_as_an_error_line() {
    let dir = std::env::temp_dir().join(format!("freshet-bench-bad-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the query directory");
    std::fs::write(
        dir.join("q3.sql"),
        "CREATE MATERIALIZED VIEW q3 AS SELECT no_such_column FROM bid;",
    )
    .expect("write q3.sql");
    let dir_arg = dir.to_string_lossy().to_string();
    let lines = bench(&[
        "nexmark",
        "--queries",
        "q3,q4",
        "--events",
        "200",
        "--sql-dir",
        &dir_arg,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(lines.len(), 2);
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no_such_column"), "{}", lines[0]);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("q4.sql"),
        "a missing file is an error: {}",
        lines[1]
    );
}

#[test]
fn memory_reports_each_row_shape_above_its_payload() {
    let lines = bench(&["memory", "--rows", "20000"]);
    let shapes: Vec<&str> = lines.iter().filter_map(|l| l["shape"].as_str()).collect();
    assert_eq!(shapes, ["two_ints", "int_text50", "ten_ints"]);
    for line in &lines {
        assert!(line.get("error").is_none(), "{line}");
        let payload = line["payload_bytes_per_row"].as_f64().unwrap_or(0.0);
        let bytes = line["bytes_per_row"].as_f64().unwrap_or(0.0);
        assert!(
            bytes >= payload,
            "an arranged row holds its payload: {line}"
        );
    }
}

#[test]
fn serve_measures_a_running_server() {
    let server = support::server::TestServer::start().expect("start freshet");
    let addr = server.addr();
    let url = format!(
        "host={} port={} user=bench dbname=freshet",
        addr.ip(),
        addr.port()
    );
    let lines = bench(&[
        "serve",
        "--url",
        &url,
        "--seconds",
        "1",
        "--scan-rows",
        "5000",
    ]);
    let benches: Vec<&str> = lines.iter().filter_map(|l| l["bench"].as_str()).collect();
    assert_eq!(
        benches,
        [
            "insert_to_subscribe",
            "insert_to_subscribe",
            "point_select",
            "point_select",
            "point_select",
            "full_scan"
        ]
    );
    // The command fails unless every inserted row arrived on the stream.
    assert!(lines[0]["rows"].as_u64().unwrap_or(0) > 0, "{}", lines[0]);
    assert!(
        lines[2]["queries"].as_u64().unwrap_or(0) > 0,
        "{}",
        lines[2]
    );
    assert_eq!(lines[5]["rows"], 5000, "{}", lines[5]);
}
