//! Alerts end to end through each sink: a local HTTP server the test starts (JSON and Slack
//! shapes, retries, a dead endpoint), moto's SNS (which delivers to that same server), and a
//! command; debounce and recovery over windows, and no second alert after a restart of
//! `watch`. Nothing leaves loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{Float64Array, TimestampMillisecondArray};

use crate::common::{arr, driftscope, json};

const HOUR: i64 = 3_600_000;
/// 2026-11-28T00:00:00Z.
const DAY0: i64 = 1_795_824_000_000;

/// One request the hook server received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    body: String,
}

/// A local HTTP server: answers each request with the next status of `script` (then 200),
/// and keeps what it received.
struct Hook {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Hook {
    fn start(script: Vec<u16>) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (keep, script) = (got.clone(), Arc::new(Mutex::new(script.into_iter())));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (keep, script) = (keep.clone(), script.clone());
                std::thread::spawn(move || serve(stream, &keep, &script));
            }
        });
        Hook { port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests have come (moto delivers to it from its own thread).
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let t = Instant::now();
        while self.received().len() < n && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.received()
    }
}

fn serve(stream: TcpStream, keep: &Mutex<Vec<Received>>, script: &Mutex<std::vec::IntoIter<u16>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    keep.lock().unwrap().push(Received { path, body: String::from_utf8_lossy(&body).into_owned() });
    let code = script.lock().unwrap().next().unwrap_or(200);
    let mut s = stream;
    let _ = write!(s, "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

/// Deterministic noise in [0, 1) from a position (SplitMix64).
fn noise(i: u64) -> f64 {
    let z = driftscope::codec::mix64(i.wrapping_add(1).wrapping_mul(driftscope::codec::SPLITMIX_GAMMA));
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Hours `from..to` of captures (200 rows each, `t` and `x`), `x` shifted by 5 in the hours
/// `drift` holds.
fn captures(path: &Path, from: i64, to: i64, drift: std::ops::Range<i64>) {
    let (mut t, mut x) = (Vec::new(), Vec::new());
    for h in from..to {
        for i in 0..200u64 {
            t.push(DAY0 + h * HOUR + i as i64 * 17_000);
            x.push(noise(h as u64 * 1000 + i) * 4.0 + if drift.contains(&h) { 5.0 } else { 0.0 });
        }
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    crate::common::write_parquet(
        path,
        vec![("t", arr(TimestampMillisecondArray::from(t).with_timezone("UTC"))), ("x", arr(Float64Array::from(x)))],
        1 << 16,
    );
}

/// A baseline of 48 quiet hours in `dir/base`; 48 hours of captures with x drifted in hours
/// 20 to 25, in `dir/cur.parquet`.
fn setup(dir: &Path) {
    captures(&dir.join("train.parquet"), 0, 48, 0..0);
    crate::common::baseline_of(&dir.join("train.parquet"), &dir.join("base"));
    captures(&dir.join("cur.parquet"), 0, 48, 20..26);
}

fn monitor(dir: &Path, out: &str, alert: &[&str]) -> assert_cmd::assert::Assert {
    driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "-b"])
        .arg(dir.join("base"))
        .arg("-o")
        .arg(dir.join(out))
        .args(alert)
        .arg(dir.join("cur.parquet"))
        .assert()
}

fn iso(hour: i64) -> String {
    driftscope::engine::window::iso(DAY0 + hour * HOUR)
}

#[test]
fn http_alerts_debounce_recover_and_name_the_change() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    let hook = Hook::start(vec![]);
    monitor(d.path(), "out", &["--alert", &hook.url("/hook/SECRET"), "--alert-after", "2"]).code(1);
    let got = hook.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|r| r.path == "/hook/SECRET"));
    let alert: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    // The drift starts at hour 20; two windows later it is alerted, once.
    assert_eq!(alert["kind"], "alert");
    assert_eq!(alert["feature"], "x");
    assert_eq!(alert["check"], "baseline_drift_check");
    assert!(alert["metric"].is_string());
    assert!(alert["distance"].as_f64().unwrap() > alert["threshold"].as_f64().unwrap(), "{alert}");
    assert_eq!(alert["window"], iso(21));
    assert_eq!(alert["windows"], 2);
    assert_eq!(alert["change_point"]["window_index"], 20, "{alert}");
    assert_eq!(alert["change_point"]["window_start"], iso(20));
    assert_eq!(alert["run_folder"], d.path().join("out").display().to_string());
    // It ends after hour 25: two clean windows later, the recovery.
    let recovery: serde_json::Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!((recovery["kind"].as_str(), recovery["feature"].as_str()), (Some("recovery"), Some("x")));
    assert_eq!(recovery["window"], iso(27));
    let drift = json(&d.path().join("out/drift.json"));
    assert_eq!(drift["alerts"]["events"], 2);
    assert_eq!(drift["alerts"]["sent"], 2);
    assert_eq!(drift["alerts"]["failed"], 0);

    // Slack's shape: a text, nothing else.
    let slack = Hook::start(vec![]);
    monitor(d.path(), "slack", &["--alert", &slack.url("/s"), "--alert-format", "slack", "--alert-after", "2"]).code(1);
    let got = slack.received();
    assert_eq!(got.len(), 2);
    let msg: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    let text = msg["text"].as_str().unwrap();
    assert_eq!(msg.as_object().unwrap().len(), 1, "{msg}");
    assert!(text.contains("baseline_drift_check on x") && text.contains(&iso(21)), "{text}");
}

#[test]
fn delivery_retries_and_never_breaks_monitoring() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    // Two failures, then success: the first message goes on its third attempt.
    let flaky = Hook::start(vec![503, 503]);
    monitor(d.path(), "flaky", &["--alert", &flaky.url("/h"), "--alert-after", "2"]).code(1);
    assert_eq!(flaky.received().len(), 4);
    assert_eq!(json(&d.path().join("flaky/drift.json"))["alerts"]["sent"], 2);
    // A client error is not retried.
    let refused = Hook::start(vec![404, 404, 404]);
    let out = monitor(d.path(), "refused", &["--alert", &refused.url("/h"), "--alert-after", "2"]).code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(refused.received().len(), 1, "{err}");
    assert!(err.contains(&format!("alert to http://127.0.0.1:{}/… failed: HTTP 404", refused.port)), "{err}");
    // Nobody listening: monitoring goes on, exits 1 for its violations, and counts the failures
    // in drift.json and the metrics.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("http://127.0.0.1:{port}/hook");
    let prom = d.path().join("metrics.prom");
    let out =
        monitor(d.path(), "dead", &["--alert", &dead, "--alert-after", "2", "--prometheus", prom.to_str().unwrap()])
            .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    // The first message is tried three times; the second is not tried after that.
    let line = format!("driftscope: alert to http://127.0.0.1:{port}/… failed: could not connect (after 3 attempts)");
    assert_eq!(err.lines().filter(|l| *l == line).count(), 1, "{err}");
    let rest = format!("driftscope: alert to http://127.0.0.1:{port}/…: 1 more message not tried after that failure");
    assert_eq!(err.lines().filter(|l| *l == rest).count(), 1, "{err}");
    let drift = json(&d.path().join("dead/drift.json"));
    assert_eq!((drift["alerts"]["sent"].as_u64(), drift["alerts"]["failed"].as_u64()), (Some(0), Some(2)));
    assert!(d.path().join("dead/windows.csv").is_file());
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("driftscope_alert_failures_total{"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("driftscope_alert_failures_total{") && l.ends_with(" 2")), "{text}");
}

#[test]
fn bad_sinks_are_named_in_one_line() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    for (args, says) in [
        (
            vec!["--alert", "ftp://example.com/x"],
            "--alert: expected https://…, http://…, sns://arn:aws:sns:… or exec:COMMAND, got \"ftp://example.com/x\"",
        ),
        (vec!["--alert", "sns://my-topic"], "--alert: sns://my-topic: expected a topic ARN"),
        (vec!["--alert", "http:///x"], "--alert: http:///…: no host in the URL"),
        (vec!["--alert", "exec:"], "--alert: exec: no command after exec:"),
        (vec!["--alert", "exec:true", "--alert-after", "0"], "--alert-after: must be at least 1 window"),
        (
            vec!["--alert", "exec:true", "--alert-format", "teams"],
            "--alert-format: expected json or slack, got \"teams\"",
        ),
        (vec!["--alert-after", "3"], "--alert-format, --alert-after and --alert-limit need --alert"),
    ] {
        let out = monitor(d.path(), "bad", &args).code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!d.path().join("bad").exists());
    }
}

/// `watch` with an exec sink: the alert once the drift has held two windows, not again after a
/// restart that closes nothing new nor after more drifted windows, then the recovery.
#[test]
fn watch_alerts_once_across_restarts_then_recovers() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    let (input, out, log) = (d.path().join("in"), d.path().join("out"), d.path().join("alerts.jsonl"));
    let sink = format!("exec:cat >> '{}'; echo >> '{}'", log.display(), log.display());
    // The exit code of each look: 1 when a window it closed has violations.
    let watch = |code: i32| {
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftscope"))
            .args([
                "watch",
                "-q",
                "--once",
                "--time-column",
                "t",
                "--window",
                "1h",
                "--grace",
                "0s",
                "--alert-after",
                "2",
            ])
            .args(["--alert", &sink, "-b"])
            .arg(d.path().join("base"))
            .arg("-o")
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        // Quiet: no backend line, no line per closed window; the look's summary stays.
        assert!(!err.contains("backend") && !err.contains("closed 2026"), "{err}");
    };
    let add = |name: &str, from: i64, to: i64, drift: std::ops::Range<i64>| {
        let p = input.join(name);
        captures(&p, from, to, drift);
        std::fs::write(format!("{}.done", p.display()), b"").unwrap();
    };
    let sent = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    add("a.parquet", 0, 10, 8..24);
    watch(1);
    assert_eq!(sent().len(), 1);
    assert_eq!((sent()[0]["kind"].as_str(), sent()[0]["window"].as_str()), (Some("alert"), Some(iso(9).as_str())));
    // A restart with nothing new, then more drifted hours: no second alert.
    watch(0);
    add("b.parquet", 10, 12, 8..24);
    watch(1);
    assert_eq!(sent().len(), 1, "{:?}", sent());
    // Two clean hours: the recovery, once.
    add("c.parquet", 12, 14, 0..0);
    watch(0);
    let all = sent();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!((all[1]["kind"].as_str(), all[1]["window"].as_str()), (Some("recovery"), Some(iso(13).as_str())));
}

/// moto's SNS, started by the test: the alert is published to a topic whose HTTP subscriber is
/// the test's own server.
#[test]
fn sns_alerts_reach_the_topic_subscribers() {
    let Some(moto) = crate::remote::moto() else { return };
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    let hook = Hook::start(vec![]);
    let sns = |form: &str| -> String {
        let mut s = TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
        let auth =
            "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0";
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            moto.port,
            form.len()
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let created = sns("Action=CreateTopic&Name=drift&Version=2010-03-31");
    let arn = created.split("<TopicArn>").nth(1).and_then(|t| t.split_once("</TopicArn>")).map(|t| t.0.to_string());
    let arn = arn.unwrap_or_else(|| panic!("no topic: {created}"));
    let endpoint = hook.url("/sns").replace(':', "%3A").replace('/', "%2F");
    let topic = arn.replace(':', "%3A");
    let subscribed =
        sns(&format!("Action=Subscribe&TopicArn={topic}&Protocol=http&Endpoint={endpoint}&Version=2010-03-31"));
    assert!(subscribed.contains("SubscriptionArn"), "{subscribed}");
    let before = hook.received().len();
    // monitor, the AWS environment pointing at moto, alerting the topic `arn`.
    let alert_to = |out: &str, arn: &str| {
        driftscope()
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", moto.port))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "--alert-after", "2", "-b"])
            .arg(d.path().join("base"))
            .arg("-o")
            .arg(d.path().join(out))
            .arg("--alert")
            .arg(format!("sns://{arn}"))
            .arg(d.path().join("cur.parquet"))
            .assert()
            .code(1)
    };
    let out = alert_to("out", &arn);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(json(&d.path().join("out/drift.json"))["alerts"]["sent"], 2, "{err}");
    let got = hook.wait_for(before + 2);
    let notes: Vec<serde_json::Value> = got[before..]
        .iter()
        .filter(|r| r.path == "/sns")
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap())
        .filter(|n| n["Type"] == "Notification")
        .collect();
    assert_eq!(notes.len(), 2, "{got:?}");
    let event: serde_json::Value = serde_json::from_str(notes[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!((event["kind"].as_str(), event["feature"].as_str()), (Some("alert"), Some("x")));
    assert!(notes[0]["Subject"].as_str().unwrap().starts_with("driftscope: baseline_drift_check on x"));
    // A topic that is not there: named, counted, and monitoring goes on.
    let out = alert_to("none", "arn:aws:sns:us-east-1:123456789012:missing");
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("alert to sns://arn:aws:sns:us-east-1:123456789012:missing failed: HTTP 404"), "{err}");
    assert_eq!(json(&d.path().join("none/drift.json"))["alerts"]["failed"], 2);
}
