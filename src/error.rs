//! Typed errors for the library. The binary maps them to exit codes:
//! configuration and usage problems exit 2, everything else 1.
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile, crosswalk or policy file is wrong: the user must fix a file.
    #[error("{file}: {key}: {message}")]
    Config { file: PathBuf, key: String, message: String },

    /// The command line asked for something that cannot be done (unknown report, missing input...).
    #[error("{0}")]
    Usage(String),

    /// An input file cannot be read as a whole (rows that fail are rejected, never an error).
    #[error("{file}: {message}")]
    Input { file: PathBuf, message: String },

    /// The warehouse directory is unusable or a commit failed.
    #[error("warehouse {dir}: {message}")]
    Warehouse { dir: PathBuf, message: String },

    /// A data file that should be built into this binary is missing (a broken build, not the user's fault).
    #[error("built-in asset missing: {0}")]
    Asset(String),

    /// A report cannot be published as asked (e.g. too much unmapped volume).
    #[error("{0}")]
    Refused(String),

    /// A result could not be written in the requested format (CSV, JSON, HTML).
    #[error("formatting output: {0}")]
    Format(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    #[error(transparent)]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
}

impl Error {
    pub fn config(file: impl Into<PathBuf>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { file: file.into(), key: key.into(), message: message.into() }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    /// Exit code convention: 2 = the user must change the command or a config file, 1 = runtime failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Attach a path to an io::Error.
pub trait IoContext<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(what(), e))
    }
}
