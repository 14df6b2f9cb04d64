//! Inputs in object stores: `s3://bucket/key` (one object) or `s3://bucket/prefix/` (every data
//! object under it), and the same at `az://container/…` (Azure Blob Storage, credentials from the
//! `AZURE_*` environment) and `gs://bucket/…` (Google Cloud Storage, credentials and endpoint from
//! the `GOOGLE_*` environment), read through the `object_store` crate; output and baseline
//! folders at such prefixes through a local staging folder ([`Staged`]).
//!
//! Parquet is read by ranges: the footer first, then only the column chunks of the row groups
//! and columns a run needs, each a ranged GET, so no object is downloaded whole. Credentials and
//! the endpoint come from the usual chain: the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`),
//! then the shared files' profile (`AWS_PROFILE`, default `default`, in `~/.aws/credentials` and
//! `~/.aws/config` or `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`: keys, session token,
//! region, `endpoint_url`), then the web-identity and instance-metadata providers object_store
//! follows. Errors name the object and say whether it was
//! not found or not permitted. CSV and JSON Lines objects are read whole, into a local copy.

/// True for an input that names an object store location.
pub fn is_remote(input: &str) -> bool {
    ["s3://", "s3a://", "az://", "gs://"].iter().any(|s| input.starts_with(s))
}

#[cfg(feature = "object-store")]
mod imp {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use bytes::{Buf, Bytes};
    use object_store::aws::AmazonS3Builder;
    use object_store::path::Path as ObjectPath;
    use object_store::{ObjectStore, ObjectStoreExt};
    use parquet::errors::ParquetError;
    use parquet::file::reader::{ChunkReader, Length};

    use crate::error::one_line;
    use crate::error::source::SourceResult;

    /// One object: its store, key, size and URL, and what identifies this version of it.
    #[derive(Debug)]
    pub struct Remote {
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        size: u64,
        url: String,
        etag: Option<String>,
        modified_ns: u128,
    }

    impl Remote {
        /// The object's size, last-modified time (ns since the epoch) and ETag when it was
        /// opened: a checkpoint compares them to tell a rewritten object.
        pub fn version(&self) -> (u64, u128, Option<String>) {
            (self.size, self.modified_ns, self.etag.clone())
        }
    }

    fn runtime() -> &'static tokio::runtime::Runtime {
        static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RT.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for object store requests")
        })
    }

    /// `not found`, `permission denied`, or the store's message, in one line.
    fn why(e: &object_store::Error) -> String {
        if e.to_string().contains("NoSuchBucket") {
            return "not found: the bucket does not exist".into();
        }
        match e {
            object_store::Error::NotFound { .. } => "not found".into(),
            object_store::Error::PermissionDenied { .. } => format!("permission denied: {}", one_line(e)),
            object_store::Error::Unauthenticated { .. } => {
                format!("permission denied (unauthenticated): {}", one_line(e))
            }
            _ => one_line(e),
        }
    }

    /// What a shared-files profile gives.
    #[derive(Debug, Default, PartialEq)]
    pub struct Profile {
        /// `aws_access_key_id`.
        pub key_id: Option<String>,
        /// `aws_secret_access_key`.
        pub secret: Option<String>,
        /// `aws_session_token`.
        pub token: Option<String>,
        /// `region`.
        pub region: Option<String>,
        /// `endpoint_url`.
        pub endpoint: Option<String>,
    }

    /// The profile `name` of the AWS shared files, as the AWS CLI reads them: keys from the
    /// credentials file's `[name]` (or the config file's), the rest from the config file's
    /// `[profile name]` (`[default]` for the default profile). Files that are missing or do
    /// not parse give nothing.
    pub fn shared_profile(name: &str, credentials: &str, config: &str) -> Profile {
        let parse = |text: &str| ini::Ini::load_from_str(text).ok();
        let (creds, conf) = (parse(credentials), parse(config));
        let conf_section = if name == "default" { "default".to_string() } else { format!("profile {name}") };
        let get = |ini: &Option<ini::Ini>, section: &str, key: &str| {
            ini.as_ref().and_then(|i| i.section(Some(section))).and_then(|s| s.get(key)).map(|v| v.trim().to_string())
        };
        let key = |k: &str| get(&creds, name, k).or_else(|| get(&conf, &conf_section, k));
        Profile {
            key_id: key("aws_access_key_id"),
            secret: key("aws_secret_access_key"),
            token: key("aws_session_token"),
            region: get(&conf, &conf_section, "region"),
            endpoint: get(&conf, &conf_section, "endpoint_url"),
        }
    }

    /// The builder for a bucket: the environment first, then the shared files' profile for
    /// what the environment leaves unset.
    fn builder(bucket: &str) -> AmazonS3Builder {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let home = env("HOME").map(std::path::PathBuf::from).unwrap_or_default();
        let read = |var: &str, default: &str| {
            let path = env(var).map(std::path::PathBuf::from).unwrap_or_else(|| home.join(".aws").join(default));
            std::fs::read_to_string(path).unwrap_or_default()
        };
        let p = shared_profile(
            &env("AWS_PROFILE").unwrap_or_else(|| "default".into()),
            &read("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            &read("AWS_CONFIG_FILE", "config"),
        );
        if env("AWS_ACCESS_KEY_ID").is_none() {
            if let (Some(id), Some(secret)) = (p.key_id, p.secret) {
                b = b.with_access_key_id(id).with_secret_access_key(secret);
                if let Some(t) = p.token {
                    b = b.with_token(t);
                }
            }
        }
        if env("AWS_REGION").is_none() && env("AWS_DEFAULT_REGION").is_none() {
            if let Some(r) = p.region {
                b = b.with_region(r);
            }
        }
        if env("AWS_ENDPOINT").is_none() && env("AWS_ENDPOINT_URL").is_none() {
            if let Some(e) = p.endpoint {
                b = b.with_endpoint(e);
            }
        }
        b
    }

    /// The AWS credentials of the chain S3 inputs use (the environment, the shared files'
    /// profile, web identity, instance metadata), for other AWS services (alerts to SNS).
    pub fn aws_credential() -> SourceResult<Arc<object_store::aws::AwsCredential>> {
        let store = builder("driftscope-credentials").build().map_err(|e| one_line(&e))?;
        runtime()
            .block_on(store.credentials().get_credential())
            .map_err(|e| format!("AWS credentials: {}", one_line(&e)).into())
    }

    /// The bucket's store (one per bucket, built once from the environment) and the key.
    fn locate(url: &str) -> SourceResult<(Arc<dyn ObjectStore>, ObjectPath, String)> {
        let (scheme, rest) = url.split_once("://").ok_or("not an s3://, az:// or gs:// URL")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("no bucket or container in the URL".into());
        }
        let root = format!("{scheme}://{bucket}");
        static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
        let mut stores = STORES.get_or_init(Default::default).lock().expect("store cache");
        let store = match stores.get(&root) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<dyn ObjectStore> = match scheme {
                    // Account, key or token, and the emulator switch from the AZURE_* environment.
                    "az" => Arc::new(
                        object_store::azure::MicrosoftAzureBuilder::from_env()
                            .with_container_name(bucket)
                            .build()
                            .map_err(|e| one_line(&e))?,
                    ),
                    // A service account (file or key), application default credentials or a
                    // bearer token, and the endpoint, from the GOOGLE_* environment.
                    "gs" => Arc::new(
                        object_store::gcp::GoogleCloudStorageBuilder::from_env()
                            .with_bucket_name(bucket)
                            .build()
                            .map_err(|e| one_line(&e))?,
                    ),
                    _ => Arc::new(builder(bucket).build().map_err(|e| one_line(&e))?),
                };
                stores.insert(root.clone(), s.clone());
                s
            }
        };
        Ok((store, ObjectPath::from(key), root))
    }

    /// The objects an input names: the object itself, or every object under the prefix (in key
    /// order, hidden and `_` names left out). Errors are one line and say what went wrong.
    pub fn list(url: &str) -> SourceResult<Vec<String>> {
        let (store, path, root) = locate(url)?;
        if !url.ends_with('/') {
            match runtime().block_on(store.head(&path)) {
                Ok(_) => return Ok(vec![url.to_string()]),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(why(&e).into()),
            }
        }
        let prefix = (!path.as_ref().is_empty()).then_some(&path);
        let found: Vec<object_store::ObjectMeta> = runtime()
            .block_on(async {
                use futures::TryStreamExt;
                store.list(prefix).try_collect().await
            })
            .map_err(|e| why(&e))?;
        let mut keys: Vec<String> = found
            .into_iter()
            .map(|m| m.location.to_string())
            .filter(|k| {
                k.split('/').all(|part| !part.starts_with('.') && !part.starts_with('_'))
                    && !k.ends_with(".crc")
                    && !k.ends_with(".tmp")
            })
            .collect();
        keys.sort();
        if keys.is_empty() {
            return Err("not found".into());
        }
        Ok(keys.into_iter().map(|k| format!("{root}/{k}")).collect())
    }

    /// Opens one object: its size, for ranged reads.
    pub fn open(url: &str) -> SourceResult<Arc<Remote>> {
        let (store, path, _) = locate(url)?;
        open_in(store, path, url)
    }

    fn open_in(store: Arc<dyn ObjectStore>, path: ObjectPath, url: &str) -> SourceResult<Arc<Remote>> {
        let meta = runtime().block_on(store.head(&path)).map_err(|e| why(&e))?;
        Ok(remote_of(store, path, url, meta))
    }

    fn remote_of(
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        url: &str,
        meta: object_store::ObjectMeta,
    ) -> Arc<Remote> {
        let modified_ns = meta.last_modified.timestamp_nanos_opt().map_or(0, |n| n.max(0) as u128);
        Arc::new(Remote { store, path, size: meta.size, url: url.to_string(), etag: meta.e_tag, modified_ns })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn shared_profiles_read_as_the_aws_cli_reads_them() {
            let credentials = "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[ci]\naws_access_key_id=C\naws_secret_access_key = CS\naws_session_token = CT\n";
            let config = "[default]\nregion = eu-west-1\n[profile ci]\nregion = us-east-2\nendpoint_url = http://127.0.0.1:9000\n[profile cfg-only]\naws_access_key_id = K\naws_secret_access_key = KS\n";
            let p = shared_profile("ci", credentials, config);
            assert_eq!(
                p,
                Profile {
                    key_id: Some("C".into()),
                    secret: Some("CS".into()),
                    token: Some("CT".into()),
                    region: Some("us-east-2".into()),
                    endpoint: Some("http://127.0.0.1:9000".into()),
                }
            );
            let d = shared_profile("default", credentials, config);
            assert_eq!((d.key_id.as_deref(), d.region.as_deref(), d.token), (Some("D"), Some("eu-west-1"), None));
            // Keys in the config file serve when the credentials file has none.
            assert_eq!(shared_profile("cfg-only", credentials, config).key_id.as_deref(), Some("K"));
            assert_eq!(shared_profile("nobody", credentials, config), Profile::default());
            assert_eq!(shared_profile("ci", "[broken", ""), Profile::default());
        }

        /// A rewritten object has another version, so a checkpoint naming the first is not
        /// taken for it; reading it again without a change gives the same version.
        #[test]
        fn a_rewritten_object_has_another_version() {
            let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
            let path = ObjectPath::from("captures/part-0.parquet");
            let put = |b: &'static [u8]| runtime().block_on(store.put(&path, Bytes::from_static(b).into())).unwrap();
            put(b"first version");
            let a = open_in(store.clone(), path.clone(), "mem://captures/part-0.parquet").unwrap().version();
            let again = open_in(store.clone(), path.clone(), "mem://captures/part-0.parquet").unwrap().version();
            assert_eq!(a, again);
            assert!(a.2.is_some(), "the store gives an ETag");
            put(b"other bytes!!");
            let b = open_in(store.clone(), path.clone(), "mem://captures/part-0.parquet").unwrap().version();
            assert_eq!(a.0, b.0, "same size");
            assert_ne!(a, b, "but another version");
        }
    }

    /// Writes one object from a local file.
    pub fn put_file(local: &std::path::Path, url: &str) -> SourceResult<()> {
        let (store, path, _) = locate(url)?;
        let bytes = std::fs::read(local).map_err(|e| format!("{}: {e}", local.display()))?;
        runtime().block_on(store.put(&path, bytes.into())).map(|_| ()).map_err(|e| match e {
            // A write is refused as missing only when its bucket is.
            object_store::Error::NotFound { .. } => "not found: the bucket does not exist".into(),
            e => why(&e).into(),
        })
    }

    /// Copies one object into the local file `local`; returns the object as it was read (its
    /// version, for checkpoints).
    pub fn get_file(url: &str, local: &std::path::Path) -> SourceResult<Arc<Remote>> {
        let (store, path, _) = locate(url)?;
        let (meta, bytes) = runtime()
            .block_on(async {
                let got = store.get(&path).await?;
                let meta = got.meta.clone();
                Ok::<_, object_store::Error>((meta, got.bytes().await?))
            })
            .map_err(|e| why(&e))?;
        std::fs::write(local, &bytes).map_err(|e| format!("{}: {e}", local.display()))?;
        Ok(remote_of(store, path, url, meta))
    }

    /// Copies every object under a prefix into `local`, keeping the keys' folders below the
    /// prefix. Returns how many objects it copied.
    pub fn get_folder(url: &str, local: &std::path::Path) -> SourceResult<usize> {
        let (store, path, _) = locate(url)?;
        let prefix = (!path.as_ref().is_empty()).then_some(&path);
        let found: Vec<object_store::ObjectMeta> = runtime()
            .block_on(async {
                use futures::TryStreamExt;
                store.list(prefix).try_collect().await
            })
            .map_err(|e| why(&e))?;
        let base = path.as_ref().trim_end_matches('/');
        for m in &found {
            let key = m.location.as_ref();
            let rel = key.strip_prefix(base).unwrap_or(key).trim_start_matches('/');
            if rel.is_empty() || rel.split('/').any(|p| p == ".." || p == ".") {
                continue;
            }
            let bytes = runtime()
                .block_on(async { store.get(&m.location).await?.bytes().await })
                .map_err(|e| format!("{key}: {}", why(&e)))?;
            let to = local.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&to, &bytes).map_err(|e| format!("{}: {e}", to.display()))?;
        }
        if found.is_empty() {
            return Err("not found".into());
        }
        Ok(found.len())
    }

    /// Ranged reads of one object, for the Parquet reader.
    #[derive(Debug, Clone)]
    pub struct RemoteReader(pub Arc<Remote>);

    impl Length for RemoteReader {
        fn len(&self) -> u64 {
            self.0.size
        }
    }

    impl ChunkReader for RemoteReader {
        type T = bytes::buf::Reader<Bytes>;

        fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
            Ok(self.get_bytes(start, (self.0.size.saturating_sub(start)) as usize)?.reader())
        }

        fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
            let r = &self.0;
            runtime()
                .block_on(r.store.get_range(&r.path, start..start + length as u64))
                .map_err(|e| ParquetError::General(format!("{}: {}", r.url, why(&e))))
        }
    }
}

#[cfg(not(feature = "object-store"))]
mod imp {
    use std::sync::Arc;

    use crate::error::source::SourceResult;

    const OFF: &str = "driftscope was built without its object-store feature";

    /// Stands in for an object when the feature is off: never made.
    #[derive(Debug)]
    pub struct Remote;

    impl Remote {
        /// Never called: no object is opened without the feature.
        pub fn version(&self) -> (u64, u128, Option<String>) {
            (0, 0, None)
        }
    }

    /// Never made when the feature is off.
    #[derive(Debug, Clone)]
    pub struct RemoteReader(pub Arc<Remote>);

    #[cfg(feature = "parquet")]
    impl parquet::file::reader::Length for RemoteReader {
        fn len(&self) -> u64 {
            0
        }
    }

    #[cfg(feature = "parquet")]
    impl parquet::file::reader::ChunkReader for RemoteReader {
        type T = std::io::Empty;

        fn get_read(&self, _start: u64) -> parquet::errors::Result<Self::T> {
            Err(parquet::errors::ParquetError::General(OFF.into()))
        }

        fn get_bytes(&self, _start: u64, _length: usize) -> parquet::errors::Result<bytes::Bytes> {
            Err(parquet::errors::ParquetError::General(OFF.into()))
        }
    }

    /// Always an error without the feature.
    pub fn list(_url: &str) -> SourceResult<Vec<String>> {
        Err(OFF.into())
    }

    /// Always an error without the feature.
    pub fn open(_url: &str) -> SourceResult<Arc<Remote>> {
        Err(OFF.into())
    }

    /// Always an error without the feature.
    pub fn put_file(_local: &std::path::Path, _url: &str) -> SourceResult<()> {
        Err(OFF.into())
    }

    /// Always an error without the feature.
    pub fn get_file(_url: &str, _local: &std::path::Path) -> SourceResult<Arc<Remote>> {
        Err(OFF.into())
    }

    /// Always an error without the feature.
    pub fn get_folder(_url: &str, _local: &std::path::Path) -> SourceResult<usize> {
        Err(OFF.into())
    }
}

#[cfg(feature = "object-store")]
pub use imp::aws_credential;
pub use imp::{get_file, get_folder, list, open, put_file, Remote, RemoteReader};

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The object written last into an output prefix: when it is there, every other output of the
/// run is (the convention Hadoop and Spark jobs follow, and which driftscope's own listing of
/// input prefixes skips).
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// An output that could not be written, with the store's or the system's words.
fn failed(path: impl AsRef<Path>, message: impl ToString) -> Error {
    Error::Output { path: path.as_ref().to_path_buf(), source: std::io::Error::other(message.to_string()) }
}

/// A job's folder, local as given or staged for an object store: an output prefix is written
/// to a local staging folder and uploaded by [`Staged::publish`] once the job has succeeded, so
/// a failed run leaves nothing half-written in the store; a baseline prefix is copied into a
/// local folder before the job reads it. The staging folder is removed when this is dropped.
#[derive(Debug)]
pub struct Staged {
    local: PathBuf,
    url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Staged {
    /// True when a folder argument names an object store prefix.
    pub fn names_remote(path: &Path) -> bool {
        Self::remote_url(path).is_some()
    }

    fn remote_url(path: &Path) -> Option<String> {
        path.to_str().filter(|s| is_remote(s)).map(|s| format!("{}/", s.trim_end_matches('/')))
    }

    fn staging(url: &str) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix("driftscope-staged-")
            .tempdir()
            .map_err(|e| failed(url, format!("a local staging folder: {e}")))
    }

    /// An output folder: itself when local, else a fresh local staging folder for the prefix.
    pub fn output(path: &Path) -> Result<Staged> {
        let Some(url) = Self::remote_url(path) else {
            return Ok(Staged { local: path.to_path_buf(), url: None, _dir: None });
        };
        let dir = Self::staging(&url)?;
        Ok(Staged { local: dir.path().join("out"), url: Some(url), _dir: Some(dir) })
    }

    /// A folder to read (a baseline): itself when local, else a local copy of every object
    /// under the prefix.
    pub fn input(path: &Path) -> Result<Staged> {
        let Some(url) = Self::remote_url(path) else {
            return Ok(Staged { local: path.to_path_buf(), url: None, _dir: None });
        };
        let dir = Self::staging(&url)?;
        let local = dir.path().join("in");
        get_folder(&url, &local)
            .map_err(|e| Error::Baseline { path: PathBuf::from(&url), message: crate::error::one_line(e) })?;
        Ok(Staged { local, url: Some(url), _dir: Some(dir) })
    }

    /// Where the job reads or writes on this machine.
    pub fn local(&self) -> &Path {
        &self.local
    }

    /// True when the folder is in an object store.
    pub fn is_remote(&self) -> bool {
        self.url.is_some()
    }

    /// The folder as the user named it, for messages.
    pub fn shown(&self) -> String {
        self.url.clone().unwrap_or_else(|| self.local.display().to_string())
    }

    /// Uploads a staged output folder: every file under it, in path order, to the same relative
    /// key under the prefix, then the [`SUCCESS_MARKER`]. Nothing to do for a local folder.
    /// Returns the number of objects written.
    pub fn publish(&self) -> Result<usize> {
        let Some(url) = &self.url else {
            return Ok(0);
        };
        let mut files = Vec::new();
        let mut stack = vec![self.local.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| failed(&dir, e))?;
            for e in entries {
                let p = e.map_err(|e| failed(&dir, e))?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.sort();
        let marker = self.local.join(SUCCESS_MARKER);
        std::fs::write(&marker, b"").map_err(|e| failed(&marker, e))?;
        files.retain(|f| f != &marker);
        files.push(marker);
        for f in &files {
            let rel = f.strip_prefix(&self.local).unwrap_or(f);
            let key: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let to = format!("{url}{}", key.join("/"));
            put_file(f, &to).map_err(|e| failed(&to, e))?;
        }
        Ok(files.len())
    }
}
