//! Inputs in an object store, against a real S3-compatible server the test starts (moto's
//! server mode, from pip): the same baseline and verdicts as from local files, and errors that
//! name the object.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{driftscope, json, root};

/// A server a test starts on a free local port, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program` (found when `program probe` succeeds) on a free port with the arguments
/// `args` gives for it, and waits until it listens. `None`, and the test skips, when it is not
/// installed; a failure naming `install` under DRIFTSCOPE_REQUIRE_TOOLS=1.
fn server(
    program: &str,
    probe: &str,
    install: &str,
    args: impl FnOnce(u16) -> Vec<String>,
    dir: Option<tempfile::TempDir>,
) -> Option<Server> {
    let found = Command::new(program).arg(probe).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("DRIFTSCOPE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "DRIFTSCOPE_REQUIRE_TOOLS=1 but {program} ({install}) is not installed"
        );
        crate::common::skip(&format!("{program} not installed"));
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(program).args(args(port)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let s = Server { child, port, _dir: dir };
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30), "{program} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(s)
}

/// moto's S3-compatible server.
pub(crate) fn moto() -> Option<Server> {
    server(
        "moto_server",
        "--help",
        "pip install 'moto[server]'",
        |port| vec!["-H".into(), "127.0.0.1".into(), "-p".into(), port.to_string()],
        None,
    )
}

/// One plain HTTP request to the server; returns the status code.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// One plain HTTP GET: the status code and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Objects written through the store are private: moto serves them to any request that
    // carries credentials (it does not check signatures).
    let auth =
        "AWS4-HMAC-SHA256 Credential=testing/20261129/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_string());
    (code, body)
}

/// Runs a command that must fail (exit 2) with an error naming each of `words`.
fn fails(run: &mut assert_cmd::Command, words: &[&str]) {
    let out = run.assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(words.iter().all(|w| err.contains(w)), "{err}");
}

/// The keys under a prefix of a bucket, from a ListObjectsV2 request.
fn keys(port: u16, bucket: &str, prefix: &str) -> Vec<String> {
    let (code, xml) = get(port, &format!("/{bucket}?list-type=2&prefix={prefix}"));
    assert_eq!(code, 200, "list {bucket}/{prefix}: {xml}");
    xml.split("<Key>").skip(1).filter_map(|k| k.split_once("</Key>").map(|x| x.0.to_string())).collect()
}

fn put(port: u16, key: &str, file: &Path) {
    let code = http(port, "PUT", key, &std::fs::read(file).unwrap());
    assert_eq!(code, 200, "PUT {key}");
}

/// The CLI, pointed at the server through the usual AWS environment.
fn cli(port: u16) -> assert_cmd::Command {
    let mut c = driftscope();
    c.env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false");
    c
}

#[test]
fn s3_inputs_give_the_local_results_and_name_what_is_missing() {
    let Some(m) = moto() else { return };
    let p = m.port;
    assert_eq!(http(p, "PUT", "/dw-test", b""), 200, "create the bucket");
    put(p, "/dw-test/train/baseline.parquet", &root().join("data/baseline.parquet"));
    put(p, "/dw-test/captures/dt=2026-11-01/part-0.parquet", &root().join("data/current.parquet"));
    put(p, "/dw-test/captures/_SUCCESS", &root().join("README.md"));
    let d = tempfile::tempdir().unwrap();

    // A baseline from the object equals the baseline from the local file.
    let (remote, local) = (d.path().join("remote"), d.path().join("local"));
    cli(p).args(["baseline", "-q", "-o"]).arg(&remote).arg("s3://dw-test/train/baseline.parquet").assert().success();
    crate::common::baseline_of(&root().join("data/baseline.parquet"), &local);
    assert_eq!(json(&remote.join("statistics.json")), json(&local.join("statistics.json")));
    assert_eq!(json(&remote.join("constraints.json")), json(&local.join("constraints.json")));

    // Monitoring a prefix (the hive partition folder, _SUCCESS left out) gives the local verdicts.
    let (rout, lout) = (d.path().join("rout"), d.path().join("lout"));
    cli(p)
        .args(["monitor", "-q", "-b"])
        .arg(&local)
        .arg("-o")
        .arg(&rout)
        .arg("s3://dw-test/captures/")
        .assert()
        .code(1);
    crate::common::monitor_sample(&local, &lout);
    let (r, l) = (json(&rout.join("drift.json")), json(&lout.join("drift.json")));
    assert_eq!(r["features"], l["features"]);
    assert_eq!(r["violations"], l["violations"]);
    assert_eq!(r["current"]["per_file"][0]["path"], "s3://dw-test/captures/dt=2026-11-01/part-0.parquet");
    assert_eq!(json(&rout.join("statistics.json")), json(&lout.join("statistics.json")));

    // A missing object is named, and said to be missing.
    fails(
        cli(p)
            .args(["monitor", "-q", "-b"])
            .arg(&local)
            .arg("-o")
            .arg(d.path().join("none"))
            .arg("s3://dw-test/nothing/here.parquet"),
        &["s3://dw-test/nothing/here.parquet", "not found"],
    );
    // So is a bucket that does not exist.
    fails(
        cli(p).args(["baseline", "-q", "-o"]).arg(d.path().join("nb")).arg("s3://no-such-bucket/x.parquet"),
        &["s3://no-such-bucket/x.parquet"],
    );
}

/// Output and baseline folders in the store: a baseline written to a prefix, read back by
/// `monitor -b`, whose outputs go to another prefix with `_SUCCESS` last; the same verdicts as
/// local folders. A failed run writes nothing there, and checkpoints are refused.
#[test]
fn s3_output_and_baseline_folders() {
    let Some(m) = moto() else { return };
    let p = m.port;
    assert_eq!(http(p, "PUT", "/dw-out", b""), 200, "create the bucket");
    cli(p)
        .args(["baseline", "-q", "-o", "s3://dw-out/base/"])
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .success();
    let mut base_keys = keys(p, "dw-out", "base/");
    base_keys.sort();
    for k in ["base/_SUCCESS", "base/constraints.json", "base/profile.json", "base/statistics.json"] {
        assert!(base_keys.contains(&k.to_string()), "{k} in {base_keys:?}");
    }
    let run = cli(p)
        .args(["monitor", "-q", "-b", "s3://dw-out/base/", "-o", "s3://dw-out/runs/1"])
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("wrote s3://dw-out/runs/1/"), "{err}");
    let run_keys = keys(p, "dw-out", "runs/1/");
    for f in ["drift.json", "constraint_violations.json", "statistics.json", "report.html", "_SUCCESS"] {
        assert!(run_keys.contains(&format!("runs/1/{f}")), "{f} in {run_keys:?}");
    }
    let (code, body) = get(p, "/dw-out/runs/1/drift.json");
    assert_eq!(code, 200);
    let remote: serde_json::Value = serde_json::from_str(&body).unwrap();
    let d = tempfile::tempdir().unwrap();
    let (base, out) = (d.path().join("base"), d.path().join("out"));
    crate::common::baseline_of(&root().join("data/baseline.parquet"), &base);
    crate::common::monitor_sample(&base, &out);
    let local = json(&out.join("drift.json"));
    assert_eq!(remote["features"], local["features"]);
    assert_eq!(remote["violations"], local["violations"]);
    assert_eq!(remote["baseline"], "s3://dw-out/base/");

    // A run that fails writes nothing to its prefix.
    cli(p)
        .args(["monitor", "-q", "-b", "s3://dw-out/base/", "-o", "s3://dw-out/runs/2/"])
        .arg(d.path().join("missing.parquet"))
        .assert()
        .code(2);
    assert!(keys(p, "dw-out", "runs/2/").is_empty());
    // Checkpoints need a local folder; a baseline prefix that holds nothing is named.
    let run = cli(p)
        .args(["monitor", "-q", "--resume", "-b", "s3://dw-out/base/", "-o", "s3://dw-out/runs/3/"])
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("--resume"));
    fails(
        cli(p)
            .args(["monitor", "-q", "-b", "s3://dw-out/nothing/", "-o"])
            .arg(d.path().join("o2"))
            .arg(root().join("data/current.parquet")),
        &["s3://dw-out/nothing/", "not found"],
    );
    // An output bucket that does not exist is named.
    fails(
        cli(p).args(["baseline", "-q", "-o", "s3://no-such-bucket/base/"]).arg(root().join("data/baseline.parquet")),
        &["s3://no-such-bucket/base/"],
    );

    // Credentials, region and endpoint from a named profile of the shared files, with nothing
    // in the environment: the baseline read back through them equals the local one.
    let (creds, config) = (d.path().join("credentials"), d.path().join("config"));
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = wrong\n[dw]\naws_access_key_id = fromfile\naws_secret_access_key = fromfile\n",
    )
    .unwrap();
    std::fs::write(&config, format!("[profile dw]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:{p}\n"))
        .unwrap();
    let from_profile = d.path().join("from-profile");
    let run = c_profile(&creds, &config)
        .args(["monitor", "-q", "-b", "s3://dw-out/base/", "-o"])
        .arg(&from_profile)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("monitored 20000 rows"), "{err}");
    assert_eq!(json(&from_profile.join("drift.json"))["features"], local["features"]);
}

/// The CLI with its S3 settings only in the shared files' profile `dw`.
fn c_profile(creds: &Path, config: &Path) -> assert_cmd::Command {
    let mut c = driftscope();
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"] {
        c.env_remove(var);
    }
    c.env_remove("AWS_ENDPOINT")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_PROFILE", "dw")
        .env("AWS_SHARED_CREDENTIALS_FILE", creds)
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false");
    c
}

/// CSV and SageMaker capture JSON Lines in the store are read whole into a local copy and give
/// the statistics of the same local files.
#[test]
fn s3_text_inputs_give_the_local_statistics() {
    let Some(m) = moto() else { return };
    let p = m.port;
    assert_eq!(http(p, "PUT", "/dw-text", b""), 200, "create the bucket");
    let data = root().join("tests/data/quality");
    put(p, "/dw-text/tables/diabetes.csv", &data.join("diabetes.csv"));
    put(p, "/dw-text/capture/2026/11/29/03/bc.jsonl", &data.join("bc_capture.jsonl"));
    let d = tempfile::tempdir().unwrap();
    for (url, local) in [
        ("s3://dw-text/tables/diabetes.csv", data.join("diabetes.csv")),
        ("s3://dw-text/capture/", data.join("bc_capture.jsonl")),
    ] {
        let (r, l) = (d.path().join("r"), d.path().join("l"));
        cli(p).args(["baseline", "-q", "-o"]).arg(&r).arg(url).assert().success();
        crate::common::baseline_of(&local, &l);
        assert_eq!(json(&r.join("statistics.json")), json(&l.join("statistics.json")), "{url}");
        assert_eq!(json(&r.join("constraints.json")), json(&l.join("constraints.json")), "{url}");
        std::fs::remove_dir_all(&r).unwrap();
        std::fs::remove_dir_all(&l).unwrap();
    }
}

/// Creates a container or puts a block blob through Azure's REST API, signed with the
/// emulator's well-known account key (object_store does not create containers).
const AZURE_REQUEST: &str = r#"
import base64, datetime, hashlib, hmac, sys, urllib.request
port, path = int(sys.argv[1]), sys.argv[2]
acct = "devstoreaccount1"
key = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
body = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
query = {} if body else {"restype": "container"}
h = {"x-ms-date": datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
     "x-ms-version": "2021-08-06", "Content-Type": "application/octet-stream"}
if body:
    h["x-ms-blob-type"] = "BlockBlob"
canon = "".join(f"{k}:{v}\n" for k, v in sorted(h.items()) if k.startswith("x-ms-"))
resource = f"/{acct}/{acct}/{path}" + "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
signed = "\n".join(["PUT", "", "", str(len(body)) if body else "", "", h["Content-Type"]] + [""] * 6) + "\n" + canon + resource
h["Authorization"] = f"SharedKey {acct}:" + base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
url = f"http://127.0.0.1:{port}/{acct}/{path}" + ("?restype=container" if query else "")
urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers=h)).read()
"#;

/// Azurite (Azure's storage emulator, from npm) with an empty container `container`.
fn azurite(container: &str) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().display().to_string();
    let s = server(
        "azurite-blob",
        "--version",
        "npm install -g azurite",
        |port| {
            ["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--silent", "--skipApiVersionCheck"]
                .into_iter()
                .map(String::from)
                .chain(["--location".to_string(), location])
                .collect()
        },
        Some(dir),
    )?;
    azure_put(s.port, container, None);
    Some(s)
}

fn azure_put(port: u16, path: &str, file: Option<&Path>) {
    let mut c = Command::new("python3");
    c.args(["-c", AZURE_REQUEST, &port.to_string(), path]);
    if let Some(f) = file {
        c.arg(f);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "PUT {path}: {}", String::from_utf8_lossy(&o.stderr));
}

/// What every object store is put through, by `cli` (the CLI with the store's settings) under
/// `root` (`az://container`, `gs://bucket`) whose `captures/part-0.parquet` holds the sample
/// capture, with local files in `dir`: a baseline written to `root/base/`; the capture read by
/// ranges and judged against it as the same files are locally (`dir/base`, `dir/local`); a run
/// folder written to `root/run/` that serves as a baseline of its rows, against which they do
/// not drift; a missing object named and said to be missing.
fn round_trip(cli: &dyn Fn() -> assert_cmd::Command, root_url: &str, dir: &Path) {
    let url = |key: &str| format!("{root_url}/{key}");
    cli().args(["baseline", "-q", "-o", &url("base/")]).arg(root().join("data/baseline.parquet")).assert().success();
    let out = dir.join("out");
    cli().args(["monitor", "-q", "-b", &url("base/"), "-o"]).arg(&out).arg(url("captures/")).assert().code(1);
    let (base, local) = (dir.join("base"), dir.join("local"));
    crate::common::baseline_of(&root().join("data/baseline.parquet"), &base);
    crate::common::monitor_sample(&base, &local);
    let (r, l) = (json(&out.join("drift.json")), json(&local.join("drift.json")));
    assert_eq!(r["features"], l["features"]);
    assert_eq!(r["violations"], l["violations"]);
    assert_eq!(r["baseline"], url("base/").as_str());
    assert_eq!(r["current"]["per_file"][0]["path"], url("captures/part-0.parquet").as_str());
    assert_eq!(json(&out.join("statistics.json")), json(&local.join("statistics.json")));
    cli()
        .args(["monitor", "-q", "-b", &url("base/"), "-o", &url("run/")])
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1);
    let again = dir.join("again");
    cli()
        .args(["monitor", "-q", "-b", &url("run/"), "-o"])
        .arg(&again)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(0);
    assert_eq!(json(&again.join("drift.json"))["baseline_rows"], 20000);
    let missing = url("nothing/here.parquet");
    fails(
        cli().args(["monitor", "-q", "-b", &url("base/"), "-o"]).arg(dir.join("none")).arg(&missing),
        &[&missing, "not found"],
    );
}

/// The same through Azure Blob Storage (`az://container/…`, object_store's azure client,
/// credentials from the AZURE_* environment; here the emulator's): a Parquet input read by
/// ranges, a baseline and monitor outputs written to and read from the container, the local
/// verdicts.
#[test]
fn azure_inputs_and_folders_give_the_local_results() {
    let Some(a) = azurite("dwaz") else { return };
    azure_put(a.port, "dwaz/captures/part-0.parquet", Some(&root().join("data/current.parquet")));
    let az = || {
        let mut c = driftscope();
        c.env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", format!("http://127.0.0.1:{}", a.port))
            .env("AZURE_ALLOW_HTTP", "true");
        c
    };
    let d = tempfile::tempdir().unwrap();
    round_trip(&az, "az://dwaz", d.path());
}

/// Google Cloud Storage (`gs://bucket/…`) through object_store's GCS client, which speaks GCS's
/// XML API: bucket listing (`list-type=2`), HEAD and ranged GETs, PUTs. No GCS emulator that
/// serves that API installs from the registries this project uses, so the test points the
/// client (`GOOGLE_BASE_URL`, a bearer token) at moto's server, which answers those same
/// requests: a Parquet input read by ranges, baseline and run folders written and read back,
/// the local verdicts; a missing object is "not found", a request without credentials
/// "permission denied", each naming the object.
#[test]
fn gcs_inputs_and_folders_through_the_xml_api() {
    let Some(m) = moto() else { return };
    let p = m.port;
    assert_eq!(http(p, "PUT", "/dwgs", b""), 200, "create the bucket");
    put(p, "/dwgs/captures/part-0.parquet", &root().join("data/current.parquet"));
    let gs = |token: &str| {
        let mut c = driftscope();
        c.env("GOOGLE_BASE_URL", format!("http://127.0.0.1:{p}")).env("GOOGLE_BEARER_TOKEN", token);
        c
    };
    let d = tempfile::tempdir().unwrap();
    round_trip(&|| gs("t"), "gs://dwgs", d.path());
    assert_eq!(
        keys(p, "dwgs", "base/"),
        ["base/_SUCCESS", "base/constraints.json", "base/profile.json", "base/statistics.json"]
    );
    let base = d.path().join("base");
    fails(
        gs("")
            .args(["monitor", "-q", "-b"])
            .arg(&base)
            .arg("-o")
            .arg(d.path().join("refused"))
            .arg("gs://dwgs/captures/part-0.parquet"),
        &["gs://dwgs/captures/part-0.parquet", "permission denied"],
    );
    assert!(!d.path().join("refused").exists());
}
