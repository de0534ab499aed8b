//! Where a model is: the one place a model name is resolved. What the user named (a
//! `.gguf` file, an HF directory, or `org/name[@revision]` in the local HF cache), else
//! the default model in the model directory (`$LOGLENS_MODEL_DIR`, default `./models`).
//! Nothing is downloaded.

use std::path::{Path, PathBuf};

use super::{resolve_model, DeviceSpec, EngineError, ModelSpec, WeightFormat};

/// The default model's file name (fetched by `models/fetch-default.sh`).
pub const DEFAULT_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The model directory: `$LOGLENS_MODEL_DIR`, else `./models`.
pub fn model_dir() -> PathBuf {
    std::env::var_os("LOGLENS_MODEL_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("models"), PathBuf::from)
}

/// What names the model: `named`, else the default model in [`model_dir`].
pub fn model_name(named: Option<&Path>) -> PathBuf {
    named.map_or_else(|| model_dir().join(DEFAULT_MODEL), Path::to_path_buf)
}

impl ModelSpec {
    /// The model `named` (or the default one) on `device`, resolved to a file or
    /// directory that exists: a model that is not there fails here, before any work.
    pub fn locate(
        named: Option<&Path>,
        device: DeviceSpec,
        weight_format: Option<WeightFormat>,
    ) -> Result<Self, EngineError> {
        Ok(Self {
            path: resolve_model(&model_name(named))?,
            device,
            weight_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_resolves_and_a_missing_one_fails() {
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("m.gguf");
        std::fs::write(&f, b"GGUF").expect("write");
        let spec = ModelSpec::locate(Some(&f), DeviceSpec::Cpu, None).expect("found");
        assert_eq!(spec.path, f);
        let missing = dir.path().join("nope.gguf");
        assert!(matches!(
            ModelSpec::locate(Some(&missing), DeviceSpec::Cpu, None),
            Err(EngineError::ModelNotFound(_))
        ));
        assert_eq!(model_name(Some(&f)), f);
        assert!(model_name(None).ends_with(DEFAULT_MODEL));
    }
}
