//! psql 15 against a Freshet server: its describe commands read `pg_catalog` with the
//! queries psql sends to PostgreSQL, and print the relations, schemas, databases and roles a
//! user expects.

mod support;

use std::process::Command;
use support::connect;
use support::server::TestServer;

/// psql's output for `command` (unaligned, tuples only), failing the test on any error.
fn psql(server: &TestServer, command: &str) -> Vec<String> {
    let (lines, stderr) = psql_output(server, command);
    assert!(stderr.is_empty(), "psql {command} failed: {stderr}");
    lines
}

/// psql's standard output lines and standard error for `command`, which must succeed.
fn psql_output(server: &TestServer, command: &str) -> (Vec<String>, String) {
    let (stdout, stderr) = run_psql(server, &["-A", "-t"], command);
    (stdout.lines().map(str::to_string).collect(), stderr)
}

/// psql's aligned output (headers and footers included) for `command`, which must succeed.
fn psql_text(server: &TestServer, command: &str) -> String {
    run_psql(server, &[], command).0
}

/// Runs psql with `format` options and `command` against `server`: its standard output and
/// standard error. Fails the test if psql fails.
fn run_psql(server: &TestServer, format: &[&str], command: &str) -> (String, String) {
    let addr = server.addr();
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let mut args = vec!["-X", "-v", "ON_ERROR_STOP=1"];
    args.extend(format);
    args.extend([
        "-h", &host, "-p", &port, "-U", "tester", "-d", "freshet", "-c", command,
    ]);
    let output = Command::new("psql")
        .args(args)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql runs (PostgreSQL 15's client is on the machine)");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "psql {command} failed: {stderr}");
    (String::from_utf8_lossy(&output.stdout).to_string(), stderr)
}

#[tokio::test]
async fn describe_commands_list_what_exists() {
    let server = TestServer::start().expect("freshet starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE orders (id integer NOT NULL, item varchar(20) DEFAULT 'pen', \
             price numeric(10,2));
             CREATE VIEW cheap AS SELECT id, item FROM orders WHERE price < 10;
             CREATE MATERIALIZED VIEW totals AS SELECT item, sum(price) AS total FROM orders \
             GROUP BY item;
             CREATE INDEX orders_item ON orders (item);",
        )
        .await
        .expect("DDL runs");
    assert_eq!(
        psql(&server, "\\d"),
        vec![
            "public|cheap|view|tester",
            "public|orders|table|tester",
            "public|totals|materialized view|tester",
        ]
    );
    assert_eq!(psql(&server, "\\dt"), vec!["public|orders|table|tester"]);
    assert_eq!(psql(&server, "\\dv"), vec!["public|cheap|view|tester"]);
    assert_eq!(
        psql(&server, "\\dm"),
        vec!["public|totals|materialized view|tester"]
    );
    assert_eq!(
        psql(&server, "\\di"),
        vec!["public|orders_item|index|tester|orders"]
    );
    assert_eq!(psql(&server, "\\dn"), vec!["public|tester"]);
    let databases = psql(&server, "\\l");
    assert_eq!(databases.len(), 1, "{databases:?}");
    assert!(
        databases[0].starts_with("freshet|tester|UTF8|C|C|"),
        "{databases:?}"
    );
    let roles = psql(&server, "\\du");
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert!(roles[0].starts_with("tester|Superuser"), "{roles:?}");
    // A dropped relation is gone from the next listing.
    client
        .batch_execute("DROP VIEW cheap")
        .await
        .expect("drop runs");
    let (views, message) = psql_output(&server, "\\dv");
    assert!(views.is_empty(), "{views:?}");
    assert_eq!(message.trim(), "Did not find any relations.");
}

#[tokio::test]
async fn catalog_oids_arrive_as_oid_values_in_binary() {
    let server = TestServer::start().expect("freshet starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE widgets (id integer)")
        .await
        .expect("DDL runs");
    // tokio-postgres reads results in binary and maps type `oid` to u32.
    let row = client
        .query_one(
            "SELECT c.oid, c.relnamespace FROM pg_catalog.pg_class c WHERE c.relname = $1",
            &[&"widgets"],
        )
        .await
        .expect("pg_class answers");
    let (oid, namespace): (u32, u32) = (row.get(0), row.get(1));
    assert!(oid >= 16_384, "user OIDs start at 16384, got {oid}");
    assert_eq!(namespace, 2200, "public's OID");
    let by_oid = client
        .query_one(
            "SELECT relname FROM pg_catalog.pg_class WHERE oid = $1",
            &[&oid],
        )
        .await
        .expect("a parameter of type oid");
    assert_eq!(by_oid.get::<_, String>(0), "widgets");
}

#[tokio::test]
async fn describe_one_relation_shows_columns_indexes_keys_and_definitions() {
    let server = TestServer::start().expect("freshet starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE orders (id integer PRIMARY KEY, item varchar(20) DEFAULT 'pen', \
             code text UNIQUE);
             CREATE INDEX orders_item ON orders (item);
             CREATE MATERIALIZED VIEW totals AS SELECT item, count(*) AS n FROM orders \
             GROUP BY item;",
        )
        .await
        .expect("DDL runs");
    // \d <table>: columns with types, nullability and defaults, then its indexes (those
    // behind the keys included), as psql prints them.
    assert_eq!(
        psql(&server, "\\d orders"),
        vec![
            "id|integer||not null|",
            "item|character varying(20)|||'pen'::character varying",
            "code|text|||",
        ]
    );
    let full = psql_text(&server, "\\d orders");
    for line in [
        "\"orders_pkey\" PRIMARY KEY, btree (id)",
        "\"orders_code_key\" UNIQUE CONSTRAINT, btree (code)",
        "\"orders_item\" btree (item)",
    ] {
        assert!(full.contains(line), "{line} missing from:\n{full}");
    }
    // \d+ <materialized view>: its columns and its definition.
    let view = psql_text(&server, "\\d+ totals");
    assert!(
        view.contains("Materialized view \"public.totals\""),
        "{view}"
    );
    assert!(view.contains("View definition:"), "{view}");
    assert!(view.contains("GROUP BY item"), "{view}");
    // \d <index>: its column and the table it is on.
    let index = psql_text(&server, "\\d orders_pkey");
    assert!(
        index.contains("primary key, btree, for table \"public.orders\""),
        "{index}"
    );
    // Freshet has no user functions or types: the lists are empty, not errors.
    assert!(psql(&server, "\\df").is_empty());
    assert!(psql(&server, "\\dT").is_empty());
}

#[tokio::test]
async fn describe_a_source_relation_shows_a_foreign_table_and_its_source() {
    let server = TestServer::start().expect("freshet starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE SOURCE nx FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '1s', UP TO 1) \
             FOR ALL TABLES",
        )
        .await
        .expect("CREATE SOURCE runs");
    // The generator's columns are never NULL; the source is the table's server.
    let bid = psql_text(&server, "\\d bid");
    assert!(bid.contains("Foreign table \"public.bid\""), "{bid}");
    assert!(bid.contains("Server: nx"), "{bid}");
    assert_eq!(
        psql(&server, "\\d bid")[..2],
        ["auction|bigint||not null||", "bidder|bigint||not null||"]
    );
    let nullable = client
        .query_one(
            "SELECT is_nullable FROM information_schema.columns \
             WHERE table_name = 'bid' AND column_name = 'price'",
            &[],
        )
        .await
        .expect("information_schema.columns");
    assert_eq!(nullable.get::<_, String>(0), "NO");
}

#[tokio::test]
async fn verbose_describe_commands_show_comments_and_view_definitions() {
    let server = TestServer::start().expect("freshet starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE parts (id integer PRIMARY KEY, name text);
             CREATE VIEW named_parts AS SELECT id, name FROM parts WHERE name IS NOT NULL;
             CREATE MATERIALIZED VIEW part_count AS SELECT count(*) AS n FROM parts;
             COMMENT ON TABLE parts IS 'Every part we stock';
             COMMENT ON COLUMN parts.name IS 'As printed on the box';
             COMMENT ON MATERIALIZED VIEW part_count IS 'How many parts';",
        )
        .await
        .expect("DDL and comments run");
    // \dt+ and \dm+: schema, name, type, owner, persistence, access method, size (unknown to
    // Freshet: empty), description.
    assert_eq!(
        psql(&server, "\\dt+"),
        vec!["public|parts|table|tester|permanent|heap||Every part we stock"]
    );
    assert_eq!(
        psql(&server, "\\dm+"),
        vec!["public|part_count|materialized view|tester|permanent|heap||How many parts"]
    );
    // \d+ <table>: the column's comment in its Description column.
    let table = psql_text(&server, "\\d+ parts");
    assert!(table.contains("As printed on the box"), "{table}");
    // \d+ <view>: columns and the definition of a plain view.
    let view = psql_text(&server, "\\d+ named_parts");
    assert!(view.contains("View \"public.named_parts\""), "{view}");
    assert!(view.contains("View definition:"), "{view}");
    // The other verbose lists run without errors and list what exists.
    assert_eq!(psql(&server, "\\dv+").len(), 1);
    assert_eq!(psql(&server, "\\di+").len(), 1);
    assert_eq!(psql(&server, "\\dn+").len(), 1);
    assert!(
        psql(&server, "\\l+")
            .iter()
            .any(|line| line.starts_with("freshet|"))
    );
}
