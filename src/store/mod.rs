//! The local store: an embedded SQLite database under `--state-dir` holding LLM verdicts
//! keyed by what they were asked about, so re-running `analyze` on the same logs does not
//! ask the model again.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::logs::LogsError;

/// The store of one state directory.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `dir/loglens.db`.
    pub fn open(dir: &Path) -> Result<Self, LogsError> {
        std::fs::create_dir_all(dir).map_err(|e| LogsError::io(dir, e))?;
        let path = dir.join("loglens.db");
        let bad = |e: rusqlite::Error| LogsError::Data {
            path: path.clone(),
            reason: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(bad)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS verdicts (
                 key TEXT PRIMARY KEY,
                 verdict TEXT NOT NULL,
                 created INTEGER NOT NULL
             );",
        )
        .map_err(bad)?;
        Ok(Self { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> LogsError {
        LogsError::Data {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// The verdict stored under `key`, if any (an unreadable one counts as absent).
    pub fn verdict(&self, key: &str) -> Result<Option<Value>, LogsError> {
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
    pub fn put_verdict(&self, key: &str, verdict: &Value) -> Result<(), LogsError> {
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
