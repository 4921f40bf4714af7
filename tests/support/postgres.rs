//! A private PostgreSQL 15 cluster for differential tests: `initdb` into a temp directory
//! and `postgres` on a free loopback port, killed and removed on drop.
//!
//! The binaries come from `FRESHET_PG_BIN`, else `pg_config --bindir`, else
//! `/usr/lib/postgresql/15/bin`. PostgreSQL refuses to run as root: as root the cluster runs
//! as `FRESHET_PG_USER` (default `pgtest`), created with `useradd` if missing.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Postgres {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Postgres {
    pub fn start() -> Result<Postgres, String> {
        let bin = bin_dir()?;
        // The system temp dir, not the target dir: when the cluster runs as another user, that
        // user must be able to reach it (a checkout under /root is not reachable).
        let dir = std::env::temp_dir().join(format!("freshet-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let ids = run_as_ids()?;
        if let Some((uid, gid)) = ids {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {}: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "--locale=C",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        as_user(&mut initdb, ids);
        let out = initdb
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        let log = std::fs::File::create(dir.join("postgres.log"))
            .map_err(|e| format!("cannot create the log: {e}"))?;
        let mut postgres = Command::new(bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        as_user(&mut postgres, ids);
        let child = postgres
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let mut pg = Postgres { child, dir, port };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = pg.child.try_wait() {
                return Err(format!("postgres exited with {status}: {}", pg.log()));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("postgres did not start: {}", pg.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(pg)
    }

    /// A tokio-postgres connection string for the `postgres` database.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it ends the backends too.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("FRESHET_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    let debian = Path::new("/usr/lib/postgresql/15/bin");
    if debian.join("initdb").is_file() {
        return Ok(debian.to_path_buf());
    }
    Err("PostgreSQL 15 binaries not found (set FRESHET_PG_BIN)".into())
}

/// The (uid, gid) to run PostgreSQL as when this process is root; `None` otherwise.
fn run_as_ids() -> Result<Option<(u32, u32)>, String> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    if id(&["-u"]) != Some(0) {
        return Ok(None);
    }
    let user = std::env::var("FRESHET_PG_USER").unwrap_or_else(|_| "pgtest".into());
    if id(&["-u", &user]).is_none() {
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", &user])
            .status();
    }
    match (id(&["-u", &user]), id(&["-g", &user])) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => Err(format!(
            "running as root and cannot use or create the user {user}"
        )),
    }
}

fn as_user(command: &mut Command, ids: Option<(u32, u32)>) {
    if let Some((uid, gid)) = ids {
        command.uid(uid).gid(gid);
    }
}
