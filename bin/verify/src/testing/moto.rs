//! Finding and starting `moto_server` (from `pip install "moto[server]"`).
//!
//! Found through `CALLFLOW_MOTO_SERVER` (path to the executable), else `moto_server` on `PATH`.
//! When it is absent, [`moto_or_skip`] skips loudly outside CI and panics when `CI` is set.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The environment variable naming the `moto_server` executable.
pub const MOTO_ENV: &str = "CALLFLOW_MOTO_SERVER";

/// The `moto_server` executable: `$CALLFLOW_MOTO_SERVER`, else `moto_server` on `PATH`.
/// `Err` when the variable names a file that does not exist.
pub fn find_moto_server() -> Result<Option<PathBuf>, String> {
    if let Some(path) = std::env::var_os(MOTO_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(format!("{MOTO_ENV}={} does not exist", path.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    Ok(std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.is_file()))
}

/// The executable, or `None` after a loud skip message; panics in CI (`CI` set) when absent.
pub fn moto_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_moto_server();
    let reason = match found {
        Ok(Some(path)) => return Some(path),
        Ok(None) => format!("moto_server is not on PATH and {MOTO_ENV} is not set"),
        Err(e) => e,
    };
    let hint = "install it with `python3 -m venv .venv && .venv/bin/pip install \"moto[server]\"` \
                and set CALLFLOW_MOTO_SERVER=$PWD/.venv/bin/moto_server";
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {reason}; CI requires moto: {hint}");
    }
    // Written to the stderr handle, not through `eprintln!`, so the test harness does not
    // capture it: the skip is visible in every `cargo test` run.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED {test}: {reason}.\n!!!!!!!! {hint}\n"
    );
    None
}

/// A running `moto_server` on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    endpoint: String,
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p 0` (the OS picks a free port), reads the URL it
    /// prints and waits until the port accepts connections.
    pub fn start(executable: &Path) -> Result<Self, String> {
        let mut child = Command::new(executable)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", executable.display()))?;
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = lines_tx.clone();
            // Keeps draining the pipe for the server's lifetime so it never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let endpoint = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.split("Running on ").nth(1) {
                        break url.trim().to_owned();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    return Err(format!(
                        "moto_server printed no URL within 30 s; output:\n{}",
                        seen.join("\n")
                    ));
                }
            }
        };
        let address = endpoint.trim_start_matches("http://").to_owned();
        while TcpStream::connect(&address).is_err() {
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!(
                    "moto_server at {endpoint} does not accept connections"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, endpoint })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
