//! Advisory locks on state files that runs share (`--miner-state`, `--session-state`):
//! a run holds the lock of each state file it reads from loading it until it has saved
//! it, so a second run that names the same file waits for the first and then starts
//! from the first run's templates, instead of both starting from the old file and the
//! last one to save dropping what the other learned.
//!
//! The lock is an OS advisory lock (`flock`) on a sibling file `<state>.lock`; the state
//! file itself is replaced whole on save, so it cannot carry the lock. The OS releases
//! the lock when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::LogsError;

/// A held lock on one state file; released when dropped.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

/// The lock file of a state file: `<state>.lock` beside it.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut p = state.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl StateLock {
    /// Takes the lock of `state`, waiting for the run that holds it (if any) to finish.
    pub fn acquire(state: &Path) -> Result<Self, LogsError> {
        let path = lock_path(state);
        let file = open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                tracing::warn!(
                    lock = %path.display(),
                    "another loglens run is using this state file; waiting for it to finish"
                );
                file.lock().map_err(|e| LogsError::io(&path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(LogsError::io(&path, e)),
        }
        Ok(Self { _file: file, path })
    }

    /// Takes the lock of `state` only if no other run holds it.
    pub fn try_acquire(state: &Path) -> Result<Option<Self>, LogsError> {
        let path = lock_path(state);
        let file = open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file, path })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(LogsError::io(&path, e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> Result<File, LogsError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| LogsError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("miner.json");
        let first = StateLock::acquire(&state).expect("first lock");
        assert_eq!(first.path(), dir.path().join("miner.json.lock"));
        // flock locks belong to the open file, so a second open in this process
        // conflicts as another process would.
        assert!(StateLock::try_acquire(&state)
            .expect("lock file opens")
            .is_none());
        drop(first);
        assert!(StateLock::try_acquire(&state)
            .expect("lock file opens")
            .is_some());
    }
}
