//! Group commit: writers that reach their durability point at about the same time share one
//! flush of the file system instead of each paying for its own `fsync`s.
//!
//! A PUT used to cost two flushes of its own (the object file, then its directory after the
//! rename). With [`GroupCommit`], a writer calls [`GroupCommit::flush`] after it has written
//! (and again after it has renamed); the first writer to arrive becomes the *leader* and runs
//! one `syncfs(2)` on the store's file system; writers that arrive while it runs wait, and the
//! next leader's single `syncfs` covers all of them. A flush returns only after a sync that
//! **started after the caller's call** has completed successfully, so the guarantee is the one
//! the per-file path gives: when a PUT is acknowledged, its object and the directory entry
//! naming it are on disk.
//!
//! `syncfs` is Linux-only; elsewhere the store keeps the per-file `fsync` path
//! ([`GroupCommit::available`] is false).

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

/// The shared flush of one data directory's file system.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    /// Any file on the file system (the data directory); `syncfs` flushes the whole file system.
    root: File,
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Tickets handed out: the n-th call to `flush` gets ticket n.
    requested: u64,
    /// Every ticket up to this one is covered by a completed sync.
    completed: u64,
    /// A leader is running a sync now.
    syncing: bool,
    /// Ranges `(after, through]` of tickets whose covering sync failed (rare; kept so each
    /// waiter of a failed sync learns of it, however late it wakes).
    failed: Vec<(u64, u64, io::ErrorKind)>,
    /// Syncs run, and tickets they covered (for the store's statistics and tests).
    syncs: u64,
}

/// How many flushes shared how many syncs (see [`GroupCommit::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Calls to flush that have returned or are waiting.
    pub flushes: u64,
    /// `syncfs` calls made for them.
    pub syncs: u64,
}

impl GroupCommit {
    /// Whether this platform can group commits (`syncfs` exists).
    pub const fn available() -> bool {
        cfg!(target_os = "linux")
    }

    /// A group commit for the file system holding `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            root: File::open(dir)?,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        })
    }

    /// Blocks until everything the caller wrote before calling is durable: until a sync that
    /// started after this call has completed. Blocking: call from a blocking thread.
    pub fn flush(&self) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.requested += 1;
        let ticket = state.requested;
        loop {
            if state.completed >= ticket {
                return match state
                    .failed
                    .iter()
                    .find(|(after, through, _)| *after < ticket && ticket <= *through)
                {
                    Some((_, _, kind)) => Err(io::Error::new(
                        *kind,
                        "syncing the store's file system failed",
                    )),
                    None => Ok(()),
                };
            }
            if state.syncing {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: every ticket handed out so far belongs to a write that finished before its
            // flush was called, so one sync starting now covers them all.
            state.syncing = true;
            let after = state.completed;
            let through = state.requested;
            drop(state);
            let result = syncfs(&self.root);
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.syncing = false;
            state.completed = through;
            state.syncs += 1;
            if let Err(e) = &result {
                state.failed.push((after, through, e.kind()));
            }
            self.done.notify_all();
        }
    }

    /// Flushes and syncs so far.
    pub fn stats(&self) -> GroupCommitStats {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        GroupCommitStats {
            flushes: state.requested,
            syncs: state.syncs,
        }
    }
}

#[cfg(target_os = "linux")]
fn syncfs(file: &File) -> io::Result<()> {
    rustix::fs::syncfs(file).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn syncfs(file: &File) -> io::Result<()> {
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_flushes_share_syncs_and_each_waits_for_one_that_started_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let group = Arc::new(GroupCommit::open(dir.path()).expect("open"));
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let group = Arc::clone(&group);
                let path = dir.path().join(format!("f{i}"));
                std::thread::spawn(move || {
                    for round in 0..20 {
                        std::fs::write(&path, format!("{round}")).expect("write");
                        group.flush().expect("flush");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let stats = group.stats();
        assert_eq!(stats.flushes, 16 * 20);
        assert!(
            stats.syncs >= 1 && stats.syncs <= stats.flushes,
            "{stats:?}"
        );
        // A flush after everything is quiet runs a sync of its own (never reuses an old one).
        group.flush().expect("flush");
        assert_eq!(group.stats().syncs, stats.syncs + 1);
    }
}
