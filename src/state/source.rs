//! Reading state files from where they live: local files, and object stores (S3
//! today, GCS and Azure Blob through the same `object_store` interface). ConfigMap
//! and Secret keys are read by the controller, which holds the Kubernetes client.

use std::io::Read;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use super::{AttributeFilter, StateError, StateFile, parse_state_keeping};

/// Where to find state for the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateLocation {
    /// A file, or a directory searched recursively for `*.tfstate`.
    Local(PathBuf),
    /// `s3://bucket/key` (one object) or `s3://bucket/prefix/` (every `*.tfstate` under it).
    S3 { bucket: String, key: Option<String>, prefix: Option<String> },
    /// `gs://bucket/key` or `gs://bucket/prefix/`.
    Gcs { bucket: String, key: Option<String>, prefix: Option<String> },
    /// `azblob://account/container/blob` or `azblob://account/container/prefix/`.
    AzureBlob { account: String, container: String, key: Option<String>, prefix: Option<String> },
    /// `http(s)://...`: an http backend's state address.
    Http(String),
    /// `tfc://ORGANIZATION/WORKSPACE`, or `tfc://ORGANIZATION/PREFIX*` for every
    /// workspace whose name starts with PREFIX.
    TerraformCloud { organization: String, workspace: String },
}

impl StateLocation {
    /// Parses a `--state` argument. A trailing `/` on an `s3://` URL means a prefix.
    pub fn parse(text: &str) -> Result<Self, String> {
        // `bucket/path`: a key, or a prefix when empty or ending in `/`.
        let split = |rest: &str| -> Result<(String, Option<String>, Option<String>), String> {
            let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{text}: no bucket name"));
            }
            let (key, prefix) = if path.is_empty() || path.ends_with('/') {
                (None, Some(path.to_string()))
            } else {
                (Some(path.to_string()), None)
            };
            Ok((bucket.to_string(), key, prefix))
        };
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key, prefix) = split(rest)?;
            return Ok(Self::S3 { bucket, key, prefix });
        }
        if let Some(rest) = text.strip_prefix("gs://") {
            let (bucket, key, prefix) = split(rest)?;
            return Ok(Self::Gcs { bucket, key, prefix });
        }
        if let Some(rest) = text.strip_prefix("azblob://") {
            let (account, rest) = rest.split_once('/').unwrap_or((rest, ""));
            let (container, key, prefix) = split(rest)?;
            if account.is_empty() {
                return Err(format!("{text}: expected azblob://ACCOUNT/CONTAINER/BLOB or .../PREFIX/"));
            }
            return Ok(Self::AzureBlob { account: account.to_string(), container, key, prefix });
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Self::Http(text.to_string()));
        }
        if let Some(rest) = text.strip_prefix("tfc://") {
            return match rest.split_once('/') {
                Some((organization, workspace))
                    if !organization.is_empty() && !workspace.is_empty() && !workspace.contains('/') =>
                {
                    Ok(Self::TerraformCloud {
                        organization: organization.into(),
                        workspace: workspace.into(),
                    })
                }
                _ => Err(format!(
                    "{text}: expected tfc://ORGANIZATION/WORKSPACE or tfc://ORGANIZATION/PREFIX*"
                )),
            };
        }
        if text.contains("://") {
            return Err(format!(
                "{text}: unsupported scheme (use a local path, s3://, gs://, azblob://, http(s)://, or tfc://org/workspace)"
            ));
        }
        Ok(Self::Local(PathBuf::from(text)))
    }
}

/// The largest state file read (the engine holds one parsed state in memory at a
/// time per source; a bigger object is refused before it is downloaded).
pub const MAX_STATE_BYTES: u64 = 512 * 1024 * 1024;

/// Why state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateReadError {
    #[error("{origin}: not found")]
    NotFound { origin: String },
    #[error("{origin}: no *.tfstate files found")]
    NoStateFiles { origin: String },
    #[error("{origin}: {message}")]
    Io { origin: String, message: String },
    #[error("{origin}: {size} bytes is more than the {limit} bytes one state file may have")]
    TooLarge { origin: String, size: u64, limit: u64 },
    #[error(transparent)]
    Parse(#[from] StateError),
}

impl StateReadError {
    /// A CamelCase reason for conditions and a low-cardinality metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "StateNotFound",
            Self::NoStateFiles { .. } => "NoStateFiles",
            Self::Io { .. } => "StateUnreadable",
            Self::TooLarge { .. } => "StateTooLarge",
            Self::Parse(_) => "StateInvalid",
        }
    }
}

/// Reads and parses a local file, or every `*.tfstate` below a directory (sorted),
/// keeping the attributes `keep` accepts.
pub fn read_local_states(path: &Path, keep: AttributeFilter) -> Result<Vec<StateFile>, StateReadError> {
    let origin = path.display().to_string();
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => StateReadError::NotFound { origin: origin.clone() },
        _ => StateReadError::Io { origin: origin.clone(), message: e.to_string() },
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mut files = Vec::new();
    if meta.is_dir() {
        collect_tfstate(path, &mut files).map_err(io)?;
        files.sort();
        if files.is_empty() {
            return Err(StateReadError::NoStateFiles { origin });
        }
    } else {
        files.push(path.to_path_buf());
    }
    // One buffer for every file: a large state is read into memory the previous one
    // already had, rather than into fresh pages the kernel must fault in again.
    let mut bytes = Vec::new();
    files
        .into_iter()
        .map(|file| {
            let origin = file.display().to_string();
            check_size(&origin, std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0))?;
            let read_error =
                |e: std::io::Error| StateReadError::Io { origin: origin.clone(), message: e.to_string() };
            bytes.clear();
            std::fs::File::open(&file).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(read_error)?;
            Ok(parse_state_keeping(&bytes, &origin, keep)?)
        })
        .collect()
}

/// Refuses a state file larger than `MAX_STATE_BYTES` before it is read.
fn check_size(origin: &str, size: u64) -> Result<(), StateReadError> {
    if size > MAX_STATE_BYTES {
        return Err(StateReadError::TooLarge { origin: origin.into(), size, limit: MAX_STATE_BYTES });
    }
    Ok(())
}

fn collect_tfstate(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            // `.terraform/` holds Terraform's backend cache and providers, never state.
            if path.file_name().is_some_and(|n| n == ".terraform") {
                continue;
            }
            collect_tfstate(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "tfstate") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one object, or every `*.tfstate` object under `prefix`, from a bucket.
/// `scheme` (such as `s3`) only names the objects in errors.
pub async fn read_object_states(
    store: &dyn ObjectStore,
    scheme: &str,
    bucket: &str,
    key: Option<&str>,
    prefix: Option<&str>,
    keep: AttributeFilter,
) -> Result<Vec<StateFile>, StateReadError> {
    let name = |path: &str| format!("{scheme}://{bucket}/{path}");
    let keys: Vec<String> = match (key, prefix) {
        (Some(key), _) => vec![key.to_string()],
        (None, prefix) => {
            let prefix = prefix.unwrap_or_default();
            let listing_origin = name(prefix);
            let list_prefix =
                (!prefix.trim_matches('/').is_empty()).then(|| ObjectPath::from(prefix.trim_matches('/')));
            let objects: Vec<_> = store
                .list(list_prefix.as_ref())
                .try_collect()
                .await
                .map_err(|e| store_error(e, &listing_origin))?;
            let mut keys: Vec<String> = objects
                .into_iter()
                .map(|o| o.location.to_string())
                .filter(|k| k.ends_with(".tfstate") && !k.split('/').any(|segment| segment == ".terraform"))
                .collect();
            keys.sort();
            if keys.is_empty() {
                return Err(StateReadError::NoStateFiles { origin: listing_origin });
            }
            keys
        }
    };
    let mut states = Vec::with_capacity(keys.len());
    for key in keys {
        let origin = name(&key);
        let result = store.get(&ObjectPath::from(key.as_str())).await.map_err(|e| store_error(e, &origin))?;
        check_size(&origin, result.meta.size)?;
        let bytes = result.bytes().await.map_err(|e| store_error(e, &origin))?;
        states.push(parse_state_keeping(&bytes, &origin, keep)?);
    }
    Ok(states)
}

fn store_error(error: object_store::Error, origin: &str) -> StateReadError {
    match error {
        object_store::Error::NotFound { .. } => StateReadError::NotFound { origin: origin.into() },
        other => StateReadError::Io { origin: origin.into(), message: concise(&other) },
    }
}

/// The first line of a store error: the rest repeats request details (URLs with
/// query strings) that do not belong in a status message.
fn concise(error: &object_store::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::KEEP_ALL;

    #[test]
    fn an_oversized_state_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("huge.tfstate");
        // Sparse: the size is there, the bytes are not.
        std::fs::File::create(&path).and_then(|f| f.set_len(MAX_STATE_BYTES + 1)).expect("sparse file");
        let error = read_local_states(&path, KEEP_ALL).expect_err("too large");
        assert!(matches!(error, StateReadError::TooLarge { .. }), "{error}");
        assert!(
            error.to_string().ends_with(
                "huge.tfstate: 536870913 bytes is more than the 536870912 bytes one state file may have"
            ),
            "{error}"
        );
        assert_eq!(error.reason(), "StateTooLarge");
    }

    #[test]
    fn parses_state_arguments() {
        assert_eq!(
            StateLocation::parse("s3://tf/prod/net.tfstate"),
            Ok(StateLocation::S3 { bucket: "tf".into(), key: Some("prod/net.tfstate".into()), prefix: None })
        );
        assert_eq!(
            StateLocation::parse("s3://tf/prod/"),
            Ok(StateLocation::S3 { bucket: "tf".into(), key: None, prefix: Some("prod/".into()) })
        );
        assert_eq!(StateLocation::parse("./a.tfstate"), Ok(StateLocation::Local("./a.tfstate".into())));
        assert_eq!(
            StateLocation::parse("gs://tf/prod/"),
            Ok(StateLocation::Gcs { bucket: "tf".into(), key: None, prefix: Some("prod/".into()) })
        );
        assert_eq!(
            StateLocation::parse("azblob://acct/states/net.tfstate"),
            Ok(StateLocation::AzureBlob {
                account: "acct".into(),
                container: "states".into(),
                key: Some("net.tfstate".into()),
                prefix: None
            })
        );
        assert_eq!(
            StateLocation::parse("tfc://acme/net-*"),
            Ok(StateLocation::TerraformCloud { organization: "acme".into(), workspace: "net-*".into() })
        );
        assert_eq!(StateLocation::parse("https://h/s"), Ok(StateLocation::Http("https://h/s".into())));
        assert!(StateLocation::parse("ftp://x/y").is_err());
        assert!(StateLocation::parse("tfc://acme").is_err());
        assert!(StateLocation::parse("azblob:///c/k").is_err());
        assert!(StateLocation::parse("s3:///key").is_err());
    }

    #[tokio::test]
    async fn reads_a_prefix_from_an_object_store() {
        use object_store::memory::InMemory;
        let store = InMemory::new();
        let state = br#"{"version":4,"terraform_version":"1.5.0","serial":1,"lineage":"l","resources":[]}"#;
        for key in ["prod/a.tfstate", "prod/sub/b.tfstate", "prod/readme.txt", "dev/c.tfstate"] {
            store.put(&ObjectPath::from(key), state.to_vec().into()).await.expect("put");
        }
        let states =
            read_object_states(&store, "s3", "tf", None, Some("prod/"), KEEP_ALL).await.expect("read");
        let origins: Vec<_> = states.iter().map(|s| s.origin.as_str()).collect();
        assert_eq!(origins, ["s3://tf/prod/a.tfstate", "s3://tf/prod/sub/b.tfstate"]);
        let missing = read_object_states(&store, "s3", "tf", Some("nope.tfstate"), None, KEEP_ALL)
            .await
            .expect_err("missing");
        assert_eq!(missing.to_string(), "s3://tf/nope.tfstate: not found");
        let empty =
            read_object_states(&store, "s3", "tf", None, Some("staging/"), KEEP_ALL).await.expect_err("none");
        assert_eq!(empty.reason(), "NoStateFiles");
    }
}
