//! A full disk: a write that cannot be made durable fails with SQLSTATE 53100, nothing
//! acknowledged is lost or changed, reads keep working, and writes succeed again once space
//! is freed. The data directory is a small tmpfs mounted for the test, filled by a file the
//! test writes until the device is full. Mounting needs root (as the test machines run);
//! where it is refused the test says so and checks nothing.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::server::TestServer;
use support::{connect, count};

/// A tmpfs mounted at a fresh directory, unmounted on drop.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(megabytes: usize) -> Option<Tmpfs> {
        let path = std::env::temp_dir().join(format!("freshet-disk-full-{}", std::process::id()));
        std::fs::create_dir_all(&path).ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .status()
            .ok()?;
        status.success().then_some(Tmpfs { path })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Writes `path` until the device has no space left.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("creates the filler file");
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_with_53100_and_loses_nothing() {
    let Some(disk) = Tmpfs::mount(24) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = disk.path.join("data");
    let server = TestServer::start_with(1, data.clone()).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE t (id int, pad text);
             CREATE MATERIALIZED VIEW t_count AS SELECT count(*) AS n FROM t;",
        )
        .await
        .expect("setup");
    let insert = client
        .prepare("INSERT INTO t VALUES ($1, $2)")
        .await
        .expect("prepare");
    let pad = "x".repeat(100_000);
    let mut acknowledged = 0i64;
    for id in 0..5 {
        client.execute(&insert, &[&id, &pad]).await.expect("insert");
        acknowledged += 1;
    }

    let filler = disk.path.join("filler");
    fill(&filler);
    // A statement big enough to be stored as a blob file (not inside the state store or
    // the append log) fails at once.
    let big = client
        .execute(
            "INSERT INTO t VALUES ($1, $2), ($1 + 1, $2), ($1 + 2, $2), ($1 + 3, $2)",
            &[&1000i32, &pad],
        )
        .await
        .expect_err("a blob-sized insert fails on a full disk");
    let db_error = big.as_db_error().expect("a server error");
    assert_eq!(db_error.code().code(), "53100", "{db_error:?}");

    // Appends already on their way are accepted until the append log (preallocated) is
    // full or the state store's next durable commit fails: bounded, well under 1,000.
    let mut refused = None;
    for id in 5..1000 {
        match client.execute(&insert, &[&id, &pad]).await {
            Ok(_) => acknowledged += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let error = refused.expect("some insert fails on a full disk");
    let db_error = error.as_db_error().expect("a server error");
    assert_eq!(db_error.code().code(), "53100", "{db_error:?}");
    assert!(
        db_error.message().contains("no space left on device"),
        "{db_error:?}"
    );

    // Reads keep working and show exactly the acknowledged rows.
    assert_eq!(count(&client, "SELECT count(*) FROM t").await, acknowledged);
    assert_eq!(count(&client, "SELECT n FROM t_count").await, acknowledged);

    // Space comes back: so do writes.
    std::fs::remove_file(&filler).expect("removes the filler");
    for id in 100..103 {
        client
            .execute(&insert, &[&id, &pad])
            .await
            .expect("insert after space is freed");
        acknowledged += 1;
    }
    assert_eq!(count(&client, "SELECT n FROM t_count").await, acknowledged);

    // And everything acknowledged is still there after a restart.
    drop(client);
    let data = server.kill();
    let server = TestServer::start_with(1, data).expect("server restarts");
    let client = connect(&server).await;
    assert_eq!(count(&client, "SELECT count(*) FROM t").await, acknowledged);
    assert_eq!(count(&client, "SELECT n FROM t_count").await, acknowledged);
    drop(client);
    drop(server);
}
