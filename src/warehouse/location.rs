//! Where a warehouse lives: a local folder or an object-store prefix (`s3://bucket/prefix`).
//!
//! Local folders use the filesystem store delta-rs ships with. For `s3://` this module registers
//! object_store's AWS backend with delta-rs, configured from the usual `AWS_*` environment
//! variables, and with conditional put (`If-None-Match: *`) so a Delta commit — "create
//! `_delta_log/N.json` only if absent" — is atomic on S3 itself: two writers racing for version N
//! cannot both win, and no DynamoDB lock table is needed.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use deltalake::logstore::{
    default_logstore, logstore_factories, object_store_factories, LogStore, LogStoreFactory, ObjectStoreFactory,
    ObjectStoreRef, StorageConfig,
};
use deltalake::{DeltaResult, DeltaTableError, Path as StorePath};
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use url::Url;

use crate::error::{Error, Result};

/// A parsed `--warehouse` value.
#[derive(Debug, Clone)]
pub struct Location {
    /// What the user typed, for messages.
    pub display: String,
    /// The warehouse root as a URL ending in `/`.
    pub url: Url,
    /// The folder, for a local warehouse.
    pub local: Option<PathBuf>,
}

impl Location {
    pub fn parse(arg: &Path) -> Result<Location> {
        let display = arg.display().to_string();
        if display.contains("://") {
            let mut url = Url::parse(&display)
                .map_err(|e| Error::Usage(format!("--warehouse {display}: not a valid URL: {e}")))?;
            if url.scheme() != "s3" {
                return Err(Error::Usage(format!(
                    "--warehouse {display}: unsupported scheme `{}` (use a local folder or s3://bucket/prefix)",
                    url.scheme()
                )));
            }
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            register_s3();
            return Ok(Location { display, url, local: None });
        }
        let abs = if arg.is_absolute() {
            arg.to_path_buf()
        } else {
            std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?.join(arg)
        };
        let url = Url::from_directory_path(&abs)
            .map_err(|_| Error::Usage(format!("--warehouse {display}: cannot be used as a folder path")))?;
        Ok(Location { display, url, local: Some(abs) })
    }

    /// The URL of one table (`calls`, `rejects`, `eligibility`) under the root.
    pub fn table_url(&self, table: &str) -> Url {
        self.url.join(&format!("{table}/")).expect("table name is a valid URL segment")
    }

    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }
}

/// Register the S3 backend with delta-rs once per process.
fn register_s3() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let s3 = Url::parse("s3://").expect("static URL");
        object_store_factories().insert(s3.clone(), Arc::new(S3Factory));
        logstore_factories().insert(s3, Arc::new(S3LogStoreFactory));
    });
}

struct S3Factory;

impl ObjectStoreFactory for S3Factory {
    fn parse_url_opts(&self, url: &Url, config: &StorageConfig) -> DeltaResult<(ObjectStoreRef, StorePath)> {
        // Credentials, region and endpoint from AWS_* variables (AWS_ENDPOINT_URL for S3-compatible
        // servers, AWS_ALLOW_HTTP=true for a plain-HTTP one), overridden by explicit options.
        let mut builder =
            AmazonS3Builder::from_env().with_url(url.as_str()).with_conditional_put(S3ConditionalPut::ETagMatch);
        for (k, v) in &config.raw {
            if let Ok(key) = k.to_ascii_lowercase().parse() {
                builder = builder.with_config(key, v);
            }
        }
        let store = builder.build().map_err(|e| DeltaTableError::Generic(format!("S3 store for {url}: {e}")))?;
        let path = StorePath::from_url_path(url.path()).map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        Ok((Arc::new(store), path))
    }
}

struct S3LogStoreFactory;

impl LogStoreFactory for S3LogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        // The default log store commits with `PutMode::Create`, which the store above turns into
        // a conditional put.
        Ok(default_logstore(prefixed_store, root_store, location, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_folders_become_file_urls() {
        let l = Location::parse(Path::new("/tmp/wh")).unwrap();
        assert_eq!(l.url.as_str(), "file:///tmp/wh/");
        assert_eq!(l.table_url("calls").as_str(), "file:///tmp/wh/calls/");
        assert!(l.is_local());
    }

    #[test]
    fn s3_prefixes_keep_their_bucket_and_get_a_trailing_slash() {
        let l = Location::parse(Path::new("s3://bucket/team/wh")).unwrap();
        assert_eq!(l.table_url("eligibility").as_str(), "s3://bucket/team/wh/eligibility/");
        assert!(!l.is_local());
    }

    #[test]
    fn other_schemes_are_usage_errors() {
        let e = Location::parse(Path::new("gs://bucket/wh")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unsupported scheme `gs`"), "{e}");
    }
}
