//! Alerts: what a person receives when a window goes wrong, and when it is right again.
//!
//! Every window's violations are fed, in time order, to a [`Debounce`]: a violation (a feature
//! and a check) raises an alert once it has held for `after` consecutive windows, and a
//! recovery notice once it has been absent for `after` consecutive windows after an alert. Its
//! state is small and serializable: `watch` keeps it in its state file, so an alert already
//! sent is not sent again after a restart.
//!
//! The events go to every [`Sink`]: an HTTP(S) endpoint (a JSON POST, or a Slack
//! incoming-webhook message), an Amazon SNS topic (Publish, signed with the AWS credentials
//! the object-store inputs use), or a command run with the JSON on its standard input. At most
//! `limit` messages go to a sink per run (or per look of `watch`): past it, one message says
//! how many more there were. Delivery never stops monitoring: each message gets a timeout and
//! retries with a doubling backoff; a sink that fails a message after every attempt is not
//! tried again in that delivery (a dead endpoint costs one message's timeouts); what failed is
//! counted and named in one line.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::judge::drift::FeatureDrift;
use crate::judge::sagemaker::Violation;
use crate::time::changepoint::ChangePoint;

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// An `http://` or `https://` endpoint: a POST of the event.
    Http(String),
    /// An Amazon SNS topic, by its ARN.
    Sns(String),
    /// A command run through `sh -c`, the event's JSON on its standard input.
    Exec(String),
}

/// A sink that does not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSink(pub String);

impl std::str::FromStr for Sink {
    type Err = BadSink;

    fn from_str(s: &str) -> Result<Sink, BadSink> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://")) {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let name = host.rsplit_once('@').map_or(host, |h| h.1);
            if name.is_empty() || name.starts_with(':') || name.chars().any(char::is_whitespace) {
                return Err(BadSink(format!("{}: no host in the URL", Sink::Http(s.into()))));
            }
            return Ok(Sink::Http(s.to_string()));
        }
        if let Some(arn) = s.strip_prefix("sns://") {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[1].starts_with("aws")
                && parts[2] == "sns"
                && !parts[3].is_empty()
                && !parts[4].is_empty()
                && !parts[5].is_empty();
            if !ok {
                return Err(BadSink(format!(
                    "sns://{arn}: expected a topic ARN, sns://arn:aws:sns:REGION:ACCOUNT:TOPIC"
                )));
            }
            return Ok(Sink::Sns(arn.to_string()));
        }
        if let Some(cmd) = s.strip_prefix("exec:") {
            if cmd.trim().is_empty() {
                return Err(BadSink("exec: no command after exec:".into()));
            }
            return Ok(Sink::Exec(cmd.to_string()));
        }
        Err(BadSink(format!("expected https://…, http://…, sns://arn:aws:sns:… or exec:COMMAND, got {s:?}")))
    }
}

impl std::fmt::Display for Sink {
    /// The sink as messages name it: an endpoint by its scheme and host only (a webhook's path
    /// is often its secret), a topic by its ARN, a command by its first word.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Http(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.rsplit_once('@').map_or(host, |h| h.1);
                let more = if rest.len() > host.len() { "/…" } else { "" };
                write!(f, "{scheme}://{host}{more}")
            }
            Sink::Sns(arn) => write!(f, "sns://{arn}"),
            Sink::Exec(cmd) => write!(f, "exec:{}", cmd.split_whitespace().next().unwrap_or("")),
        }
    }
}

/// How an HTTP sink's message is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The event as JSON.
    #[default]
    Json,
    /// A Slack incoming-webhook message: `{"text": …}`.
    Slack,
}

impl std::str::FromStr for Format {
    type Err = BadSink;

    fn from_str(s: &str) -> Result<Format, BadSink> {
        match s.trim() {
            "json" => Ok(Format::Json),
            "slack" => Ok(Format::Slack),
            other => Err(BadSink(format!("expected json or slack, got {other:?}"))),
        }
    }
}

/// How alerts are sent.
#[derive(Debug, Clone)]
pub struct AlertOptions {
    /// Where.
    pub sinks: Vec<Sink>,
    /// The shape of HTTP messages.
    pub format: Format,
    /// Consecutive windows a violation must hold before an alert, and be absent before a
    /// recovery notice.
    pub after: usize,
    /// Most messages per sink per run (or per look of `watch`).
    pub limit: usize,
    /// Time allowed to one attempt.
    pub timeout: Duration,
    /// Attempts per message.
    pub attempts: u32,
    /// Wait before the second attempt (doubling after).
    pub backoff: Duration,
    /// The run's output folder, as messages name it.
    pub run_folder: String,
}

impl AlertOptions {
    /// Alerts to `sinks` with the defaults: JSON, after 1 window, 20 messages per sink, 10 s per
    /// attempt, 3 attempts from 0.5 s apart.
    pub fn new(sinks: Vec<Sink>) -> AlertOptions {
        AlertOptions {
            sinks,
            format: Format::Json,
            after: 1,
            limit: DEFAULT_LIMIT,
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(500),
            run_folder: String::new(),
        }
    }
}

/// Messages per sink per run, by default.
pub const DEFAULT_LIMIT: usize = 20;

/// One violation's run of windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Track {
    /// Consecutive windows with it, up to the last one seen.
    bad: usize,
    /// Consecutive windows without it since it was last seen.
    good: usize,
    /// An alert was sent and no recovery yet.
    alerted: bool,
}

/// The debounce state: per violation (feature and check), its current run of windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Debounce {
    tracks: BTreeMap<String, Track>,
}

/// What an event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A violation has held for the windows asked.
    Alert,
    /// It has been absent for as many windows since.
    Recovery,
    /// More events than the rate limit let through.
    Suppressed,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Alert, recovery, or a note of suppressed messages.
    pub kind: Kind,
    /// The feature.
    pub feature: String,
    /// SageMaker's check type (`baseline_drift_check`, `completeness_check`…).
    pub check: String,
    /// The drift metric, for drift.
    pub metric: Option<String>,
    /// The value found in the window: the drift distance, or the share of rows for a
    /// constraint.
    pub distance: Option<f64>,
    /// The limit it was held to.
    pub threshold: Option<f64>,
    /// The window (ISO 8601, UTC), or its index for windows of rows.
    pub window: String,
    /// Consecutive windows with the violation (alert) or without it (recovery).
    pub windows: usize,
    /// The feature's change nearest before the window, when the run found one.
    pub change_point: Option<ChangePoint>,
    /// The run's output folder.
    pub run_folder: String,
    /// The event in one sentence.
    pub text: String,
}

/// One window as the debounce sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// The window, as events name it.
    pub label: &'a str,
    /// Its window index (for matching change points), from 0 in time order.
    pub index: usize,
    /// Its drift per feature.
    pub features: &'a [FeatureDrift],
    /// Its violations.
    pub violations: &'a [Violation],
}

/// The alert of violation `v`, held for `windows` windows up to window `w`.
fn alert_event(
    w: Observed<'_>,
    v: &Violation,
    check: String,
    windows: usize,
    changes: &[ChangePoint],
    run_folder: &str,
) -> Event {
    let drift = w.features.iter().find(|f| f.name == v.feature_name);
    let is_drift = v.constraint_check_type == crate::judge::sagemaker::CheckType::BaselineDriftCheck;
    let metric = is_drift.then(|| drift.and_then(|f| f.method.clone())).flatten();
    let (distance, threshold) = match v.figures {
        Some(f) => (Some(f.observed), Some(f.limit)),
        None => (drift.and_then(|f| f.distance), drift.and_then(|f| f.threshold)),
    };
    let change = changes
        .iter()
        .filter(|c| c.feature == v.feature_name && c.window_index <= w.index)
        .max_by_key(|c| c.window_index)
        .cloned();
    let changed = change.as_ref().map_or(String::new(), |c| {
        let at = c.window_start.as_ref().map(|s| format!(", {s}")).unwrap_or_default();
        format!("; changed at window {}{at} ({})", c.window_index, c.series.join(", "))
    });
    let text = format!(
        "{check} on {}: {} for {windows} window{} up to {}{changed}",
        v.feature_name,
        v.plain(),
        if windows == 1 { "" } else { "s" },
        w.label,
    );
    Event {
        kind: Kind::Alert,
        feature: v.feature_name.clone(),
        check,
        metric,
        distance,
        threshold,
        window: w.label.to_string(),
        windows,
        change_point: change,
        run_folder: run_folder.to_string(),
        text,
    }
}

impl Debounce {
    /// Feeds one window; returns the alerts and recoveries it causes, with `after` the windows
    /// a violation must hold (or be absent) first.
    pub fn observe(&mut self, w: Observed<'_>, after: usize, changes: &[ChangePoint], run_folder: &str) -> Vec<Event> {
        let after = after.max(1);
        let mut events = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for v in w.violations {
            let check = v.constraint_check_type.to_string();
            let key = format!("{}\u{1f}{check}", v.feature_name);
            if !seen.insert(key.clone()) {
                continue;
            }
            let t = self.tracks.entry(key).or_default();
            t.bad += 1;
            t.good = 0;
            if t.bad >= after && !t.alerted {
                t.alerted = true;
                events.push(alert_event(w, v, check, t.bad, changes, run_folder));
            }
        }
        let mut done = Vec::new();
        for (key, t) in self.tracks.iter_mut().filter(|(k, _)| !seen.contains(*k)) {
            t.good += 1;
            t.bad = 0;
            if t.alerted && t.good >= after {
                let (feature, check) = key.split_once('\u{1f}').unwrap_or((key, ""));
                events.push(Event {
                    kind: Kind::Recovery,
                    feature: feature.to_string(),
                    check: check.to_string(),
                    metric: None,
                    distance: None,
                    threshold: None,
                    window: w.label.to_string(),
                    windows: t.good,
                    change_point: None,
                    run_folder: run_folder.to_string(),
                    text: format!(
                        "recovered: {check} on {feature} clean for {} window{} up to {}",
                        t.good,
                        if t.good == 1 { "" } else { "s" },
                        w.label
                    ),
                });
                done.push(key.clone());
            } else if !t.alerted {
                done.push(key.clone());
            }
        }
        for k in done {
            self.tracks.remove(&k);
        }
        events
    }
}

/// Feeds `windows` (in time order, the first with window index `first`) to the debounce `d`:
/// the alerts and recoveries they cause. A window is named by its start (ISO 8601), or by its
/// index for windows of rows.
pub fn observe_windows(
    d: &mut Debounce,
    windows: &[crate::time::timeline::WindowResult],
    first: usize,
    after: usize,
    changes: &[ChangePoint],
    run_folder: &str,
) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, r) in windows.iter().enumerate() {
        let label = if r.of_rows { format!("window {}", r.start) } else { crate::engine::window::iso(r.start) };
        let obs = Observed { label: &label, index: first + i, features: &r.features, violations: &r.violations };
        events.extend(d.observe(obs, after, changes, run_folder));
    }
    events
}

/// What delivery did: messages sent, failed and held back by the rate limit, and a line per
/// failure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Events raised.
    pub events: usize,
    /// Messages delivered.
    pub sent: usize,
    /// Messages that failed after every attempt.
    pub failed: usize,
    /// Events not sent because of the rate limit (summed over sinks).
    pub rate_limited: usize,
    /// One line per failure: the sink and why.
    pub errors: Vec<String>,
}

impl Delivery {
    /// Adds another delivery's counts.
    pub fn add(&mut self, other: Delivery) {
        self.events += other.events;
        self.sent += other.sent;
        self.failed += other.failed;
        self.rate_limited += other.rate_limited;
        self.errors.extend(other.errors);
    }
}

/// Sends `events` to every sink of `opts`; never fails: what did not go is counted.
pub fn deliver(opts: &AlertOptions, events: &[Event]) -> Delivery {
    let mut out = Delivery { events: events.len(), ..Delivery::default() };
    if events.is_empty() {
        return out;
    }
    for sink in &opts.sinks {
        let limit = opts.limit.max(1);
        let (now, held): (&[Event], usize) =
            if events.len() > limit { (&events[..limit - 1], events.len() - (limit - 1)) } else { (events, 0) };
        let mut batch: Vec<Event> = now.to_vec();
        if held > 0 {
            let first = &events[limit - 1];
            batch.push(Event {
                kind: Kind::Suppressed,
                feature: String::new(),
                check: String::new(),
                metric: None,
                distance: None,
                threshold: None,
                window: first.window.clone(),
                windows: held,
                change_point: None,
                run_folder: first.run_folder.clone(),
                text: format!(
                    "{held} more alert{} not sent (at most {limit} messages per run): see {}",
                    if held == 1 { "" } else { "s" },
                    first.run_folder
                ),
            });
            out.rate_limited += held;
        }
        // A sink that fails a message after every attempt is not tried again in this
        // delivery: a dead endpoint costs one message's timeouts, not one per message.
        let mut untried = 0;
        for (i, e) in batch.iter().enumerate() {
            match send_with_retries(opts, sink, e) {
                Ok(()) => out.sent += 1,
                Err(why) => {
                    out.failed += 1;
                    out.errors.push(format!("alert to {sink} failed: {why}"));
                    untried = batch.len() - i - 1;
                    break;
                }
            }
        }
        if untried > 0 {
            out.failed += untried;
            out.errors.push(format!(
                "alert to {sink}: {untried} more message{} not tried after that failure",
                if untried == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

/// Whether a failed attempt is worth another.
enum Failure {
    /// Try again (timeouts, refused connections, 5xx, 429).
    Transient(String),
    /// Give up (4xx, a bad command).
    Permanent(String),
}

fn send_with_retries(opts: &AlertOptions, sink: &Sink, e: &Event) -> Result<(), String> {
    let mut wait = opts.backoff;
    let attempts = opts.attempts.max(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        match send(opts, sink, e) {
            Ok(()) => return Ok(()),
            Err(Failure::Permanent(why)) => return Err(why),
            Err(Failure::Transient(why)) => last = why,
        }
        if attempt < attempts {
            std::thread::sleep(wait);
            wait *= 2;
        }
    }
    Err(format!("{last} (after {attempts} attempts)"))
}

fn send(opts: &AlertOptions, sink: &Sink, e: &Event) -> Result<(), Failure> {
    let json = serde_json::to_string(e).map_err(|x| Failure::Permanent(x.to_string()))?;
    match sink {
        Sink::Http(url) => {
            let body = match opts.format {
                Format::Json => json,
                Format::Slack => serde_json::json!({ "text": format!("driftscope: {}", e.text) }).to_string(),
            };
            http_post(url, body, opts.timeout)
        }
        Sink::Sns(arn) => sns_publish(arn, &json, &e.text, opts.timeout),
        Sink::Exec(cmd) => exec(cmd, &json, opts.timeout),
    }
}

#[cfg(feature = "alerts")]
fn client(timeout: Duration) -> Result<reqwest::blocking::Client, Failure> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("driftscope/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|x| Failure::Permanent(crate::error::one_line(&x)))
}

/// What a failed HTTP exchange was.
#[cfg(feature = "alerts")]
fn http_failure(x: &reqwest::Error) -> Failure {
    let why = if x.is_timeout() {
        "timed out".to_string()
    } else if x.is_connect() {
        "could not connect".to_string()
    } else {
        crate::error::one_line(x)
    };
    Failure::Transient(why)
}

/// A status: fine, worth a retry, or not.
#[cfg(feature = "alerts")]
fn status(code: reqwest::StatusCode, body: &str) -> Result<(), Failure> {
    if code.is_success() {
        return Ok(());
    }
    let why = format!("HTTP {}{}", code.as_u16(), first_line(body));
    if code.is_server_error() || code.as_u16() == 429 || code.as_u16() == 408 {
        Err(Failure::Transient(why))
    } else {
        Err(Failure::Permanent(why))
    }
}

fn first_line(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.is_empty() {
        String::new()
    } else {
        format!(": {}", line.chars().take(200).collect::<String>())
    }
}

#[cfg(feature = "alerts")]
fn http_post(url: &str, body: String, timeout: Duration) -> Result<(), Failure> {
    let r = client(timeout)?
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .map_err(|x| http_failure(&x))?;
    let code = r.status();
    status(code, &r.text().unwrap_or_default())
}

#[cfg(not(feature = "alerts"))]
fn http_post(_: &str, _: String, _: Duration) -> Result<(), Failure> {
    Err(Failure::Permanent("this build of driftscope has no HTTP alerts (feature alerts)".into()))
}

/// Publishes to an SNS topic: the region from the ARN, the endpoint from `AWS_ENDPOINT_URL_SNS`,
/// `AWS_ENDPOINT_URL` or `AWS_ENDPOINT` when set, the credentials from the chain the object-store
/// inputs use.
#[cfg(all(feature = "alerts", feature = "object-store"))]
fn sns_publish(arn: &str, message: &str, subject: &str, timeout: Duration) -> Result<(), Failure> {
    use object_store::aws::AwsAuthorizer;
    let region = arn.split(':').nth(3).unwrap_or("us-east-1");
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let endpoint = env("AWS_ENDPOINT_URL_SNS")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| env("AWS_ENDPOINT"))
        .unwrap_or_else(|| format!("https://sns.{region}.amazonaws.com"));
    let credential = crate::source::remote::aws_credential().map_err(|x| Failure::Permanent(x.to_string()))?;
    // SNS subjects: printable ASCII, under 100 characters.
    let subject: String =
        format!("driftscope: {subject}").chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).take(99).collect();
    let form = [
        ("Action", "Publish"),
        ("Version", "2010-03-31"),
        ("TopicArn", arn),
        ("Message", message),
        ("Subject", subject.as_str()),
    ];
    let body = form.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>().join("&");
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    let mut request = object_store::client::HttpRequest::new(body.clone().into());
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = url.parse().map_err(|_| Failure::Permanent(format!("bad SNS endpoint {url}")))?;
    let host = request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
    request.headers_mut().insert(http::header::HOST, host.parse().map_err(|_| Failure::Permanent(host.clone()))?);
    request
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-www-form-urlencoded"));
    AwsAuthorizer::new(&credential, "sns", region)
        .try_authorize(&mut request, None)
        .map_err(|x| Failure::Permanent(crate::error::one_line(&x)))?;
    let mut send = client(timeout)?.post(&url).body(body);
    for (k, v) in request.headers() {
        send = send.header(k.as_str(), v.as_bytes());
    }
    let r = send.send().map_err(|x| http_failure(&x))?;
    let code = r.status();
    let text = r.text().unwrap_or_default();
    // An SNS error is XML: its <Message> says what went wrong.
    let said = text.split_once("<Message>").and_then(|(_, m)| m.split_once("</Message>")).map(|m| m.0.to_string());
    status(code, &said.unwrap_or(text))
}

#[cfg(not(all(feature = "alerts", feature = "object-store")))]
fn sns_publish(_: &str, _: &str, _: &str, _: Duration) -> Result<(), Failure> {
    Err(Failure::Permanent("this build of driftscope has no SNS alerts (features alerts and object-store)".into()))
}

/// `application/x-www-form-urlencoded` text.
#[cfg_attr(
    not(all(feature = "alerts", feature = "object-store")),
    allow(dead_code, reason = "used by the SNS sink only")
)]
fn form_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => o.push(b as char),
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

/// Runs `sh -c cmd` with `json` on its standard input; a non-zero exit or running past
/// `timeout` is a failure.
fn exec(cmd: &str, json: &str, timeout: Duration) -> Result<(), Failure> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|x| Failure::Permanent(format!("could not start sh: {x}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business.
        let _ = stdin.write_all(json.as_bytes());
    }
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Ok(()),
            Ok(Some(st)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return Err(Failure::Transient(format!("the command exited with {st}{}", first_line(&err))));
            }
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::Transient(format!("the command ran past {} s", timeout.as_secs_f64())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(x) => return Err(Failure::Permanent(x.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::sagemaker::{CheckType, Figures};

    fn violation(feature: &str) -> Violation {
        Violation {
            feature_name: feature.into(),
            constraint_check_type: CheckType::BaselineDriftCheck,
            description: "drift".into(),
            figures: Some(Figures { observed: 0.4, limit: 0.1, baseline: None }),
        }
    }

    fn run(windows: &[&[&str]], after: usize) -> Vec<(usize, Kind, String, usize)> {
        let mut d = Debounce::default();
        let mut out = Vec::new();
        for (i, w) in windows.iter().enumerate() {
            let v: Vec<Violation> = w.iter().map(|f| violation(f)).collect();
            let label = format!("w{i}");
            let obs = Observed { label: &label, index: i, features: &[], violations: &v };
            for e in d.observe(obs, after, &[], "run") {
                out.push((i, e.kind, e.feature, e.windows));
            }
        }
        out
    }

    #[test]
    fn alerts_after_k_windows_and_recovers_after_k_clean_ones() {
        let w: Vec<&[&str]> = vec![&[], &["x"], &["x"], &["x", "y"], &[], &["x"], &[], &[], &["y"]];
        let got = run(&w, 2);
        assert_eq!(
            got,
            vec![
                (2, Kind::Alert, "x".into(), 2),
                // x comes back in window 5 before two clean windows: no recovery until 6 and 7.
                (7, Kind::Recovery, "x".into(), 2),
            ]
        );
        // After 1: every onset alerts, every clean window after it recovers.
        let got = run(&w, 1);
        let kinds: Vec<(usize, Kind, String)> = got.into_iter().map(|g| (g.0, g.1, g.2)).collect();
        assert_eq!(
            kinds,
            vec![
                (1, Kind::Alert, "x".into()),
                (3, Kind::Alert, "y".into()),
                (4, Kind::Recovery, "x".into()),
                (4, Kind::Recovery, "y".into()),
                (5, Kind::Alert, "x".into()),
                (6, Kind::Recovery, "x".into()),
                (8, Kind::Alert, "y".into()),
            ]
        );
    }

    #[test]
    fn the_state_survives_a_round_trip() {
        let mut d = Debounce::default();
        let v = vec![violation("x")];
        let obs = Observed { label: "w0", index: 0, features: &[], violations: &v };
        assert_eq!(d.observe(obs, 1, &[], "run").len(), 1);
        let saved = serde_json::to_string(&d).unwrap();
        let mut back: Debounce = serde_json::from_str(&saved).unwrap();
        // Still violated after the restart: no second alert.
        let obs = Observed { label: "w1", index: 1, features: &[], violations: &v };
        assert!(back.observe(obs, 1, &[], "run").is_empty());
        let obs = Observed { label: "w2", index: 2, features: &[], violations: &[] };
        assert_eq!(back.observe(obs, 1, &[], "run")[0].kind, Kind::Recovery);
    }

    #[test]
    fn sinks_parse_and_hide_their_secrets() {
        let s: Sink = "https://hooks.slack.com/services/T0/B0/SECRET".parse().unwrap();
        assert_eq!(s.to_string(), "https://hooks.slack.com/…");
        assert_eq!("http://127.0.0.1:8080/hook".parse::<Sink>().unwrap().to_string(), "http://127.0.0.1:8080/…");
        assert_eq!(
            "sns://arn:aws:sns:eu-west-1:123456789012:drift".parse::<Sink>().unwrap(),
            Sink::Sns("arn:aws:sns:eu-west-1:123456789012:drift".into())
        );
        assert_eq!("exec:cat > /tmp/x".parse::<Sink>().unwrap().to_string(), "exec:cat");
        for bad in ["ftp://x", "http://", "https:///path", "sns://topic", "sns://arn:aws:s3:::b", "exec:", "slack"] {
            assert!(bad.parse::<Sink>().is_err(), "{bad}");
        }
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn exec_gets_the_json_and_failures_are_counted() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("got.json");
        let mut opts =
            AlertOptions::new(vec![Sink::Exec(format!("cat > '{}'", file.display())), Sink::Exec("exit 3".into())]);
        opts.backoff = Duration::from_millis(1);
        let v = vec![violation("x")];
        let events = Debounce::default().observe(
            Observed { label: "2026-01-01T00:00:00Z", index: 0, features: &[], violations: &v },
            1,
            &[],
            "out/run",
        );
        let got = deliver(&opts, &events);
        assert_eq!((got.events, got.sent, got.failed), (1, 1, 1), "{got:?}");
        assert_eq!(
            got.errors,
            vec!["alert to exec:exit failed: the command exited with exit status: 3 (after 3 attempts)"]
        );
        let sent: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(sent["feature"], "x");
        assert_eq!(sent["check"], "baseline_drift_check");
        assert_eq!(sent["distance"], 0.4);
        assert_eq!(sent["threshold"], 0.1);
        assert_eq!(sent["run_folder"], "out/run");
    }

    #[test]
    fn a_dead_sink_costs_one_message_of_attempts() {
        let d = tempfile::tempdir().unwrap();
        let tries = d.path().join("tries");
        let mut opts = AlertOptions::new(vec![Sink::Exec(format!("echo x >> '{}'; exit 1", tries.display()))]);
        opts.backoff = Duration::from_millis(1);
        let v: Vec<Violation> = (0..4).map(|i| violation(&format!("f{i}"))).collect();
        let events =
            Debounce::default().observe(Observed { label: "w", index: 0, features: &[], violations: &v }, 1, &[], "r");
        let got = deliver(&opts, &events);
        assert_eq!((got.events, got.sent, got.failed), (4, 0, 4), "{got:?}");
        assert_eq!(std::fs::read_to_string(&tries).unwrap().lines().count(), 3, "one message, three attempts");
        assert_eq!(got.errors.len(), 2, "{got:?}");
        assert_eq!(got.errors[1], "alert to exec:echo: 3 more messages not tried after that failure");
    }

    #[test]
    fn the_rate_limit_sends_one_note_for_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("got.jsonl");
        let mut opts =
            AlertOptions::new(vec![Sink::Exec(format!("cat >> '{}'; echo >> '{}'", file.display(), file.display()))]);
        opts.limit = 3;
        let v: Vec<Violation> = (0..5).map(|i| violation(&format!("f{i}"))).collect();
        let events =
            Debounce::default().observe(Observed { label: "w", index: 0, features: &[], violations: &v }, 1, &[], "r");
        let got = deliver(&opts, &events);
        assert_eq!((got.events, got.sent, got.rate_limited), (5, 3, 3));
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["kind"], "suppressed");
        assert_eq!(lines[2]["windows"], 3);
    }
}
