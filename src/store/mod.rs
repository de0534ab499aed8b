//! The local store: an embedded SQLite database under `--state-dir` holding LLM verdicts
//! keyed by what they were asked about, so re-running `analyze` on the same logs does not
//! ask the model again. It is triage's [`VerdictCache`].

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::triage::{GroupVerdict, VerdictCache};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state directory cannot be created.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened, read or written.
    #[error("{path}: {source}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
}

/// How long a write waits for another run's write to the same database.
pub const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The store of one state directory.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `dir/loglens.db`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("loglens.db");
        let bad = |source: rusqlite::Error| StoreError::Db {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(bad)?;
        // Runs sharing a state directory take turns writing: a writer that finds the
        // database locked waits (up to BUSY_WAIT) instead of losing its verdict.
        conn.busy_timeout(BUSY_WAIT).map_err(bad)?;
        // Switching a new database to WAL answers "busy" at once, without the busy
        // handler, while another run does the same: retry it within the same wait.
        let started = std::time::Instant::now();
        loop {
            match conn.execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE IF NOT EXISTS verdicts (
                     key TEXT PRIMARY KEY,
                     verdict TEXT NOT NULL,
                     created INTEGER NOT NULL
                 );",
            ) {
                Ok(()) => break,
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < BUSY_WAIT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(bad(e)),
            }
        }
        Ok(Self { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// The verdict stored under `key`, if any (an unreadable one counts as absent).
    pub fn verdict(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT verdict FROM verdicts WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Stores a verdict under `key`, replacing any before it.
    pub fn put_verdict(&self, key: &str, verdict: &Value) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp();
        self.conn
            .execute(
                "INSERT OR REPLACE INTO verdicts (key, verdict, created) VALUES (?1, ?2, ?3)",
                params![key, verdict.to_string(), now],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl VerdictCache for Store {
    fn get(&self, key: &str) -> Option<GroupVerdict> {
        // An entry that cannot be read (or was written by another version) is a miss.
        let v = self.verdict(key).ok().flatten()?;
        serde_json::from_value(v).ok()
    }

    fn put(
        &self,
        key: &str,
        verdict: &GroupVerdict,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let v = serde_json::to_value(verdict)?;
        Ok(self.put_verdict(key, &v)?)
    }
}

/// The default state directory: `$LOGLENS_STATE_DIR`, else `$XDG_DATA_HOME/loglens`, else
/// `~/.local/share/loglens`, else `./.loglens`.
pub fn default_state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LOGLENS_STATE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("loglens");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/loglens"),
        None => PathBuf::from(".loglens"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_sharing_a_state_dir_keep_each_others_verdicts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let d = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let s = Store::open(&d).expect("opens");
                    for i in 0..200 {
                        s.put_verdict(&format!("{w}-{i}"), &serde_json::json!({"i": i}))
                            .expect("a concurrent write waits its turn");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        let s = Store::open(dir.path()).expect("reopens");
        for w in 0..2 {
            for i in 0..200 {
                assert!(s.verdict(&format!("{w}-{i}")).expect("reads").is_some());
            }
        }
    }

    #[test]
    fn verdicts_round_trip_and_replace() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).expect("opens");
        assert_eq!(s.verdict("k").expect("reads"), None);
        s.put_verdict("k", &serde_json::json!({"severity": "high"}))
            .expect("writes");
        s.put_verdict("k", &serde_json::json!({"severity": "low"}))
            .expect("replaces");
        drop(s);
        let s = Store::open(dir.path()).expect("reopens");
        assert_eq!(
            s.verdict("k").expect("reads"),
            Some(serde_json::json!({"severity": "low"}))
        );
    }
}
