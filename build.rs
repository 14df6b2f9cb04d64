//! Stamps the CLI's `--version` with the commit it was built from, when built from a git
//! checkout: `driftscope 0.1.0 (3f2c1a9e0 2026-12-06)`. A build from the published crate has no
//! checkout and says the version alone.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let stamped = match git(&["log", "-1", "--abbrev=9", "--format=%h %cs"]) {
        Some(commit_and_date) => format!("{version} ({commit_and_date})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=DRIFTSCOPE_VERSION={stamped}");
    // Stamp again when the checkout moves to another commit: HEAD, the branch it names, and the
    // packed refs (only paths that exist: a missing one would rebuild every time).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(std::path::PathBuf::from) {
        let head = dir.join("HEAD");
        let branch =
            std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| dir.join(r.trim())));
        for path in [Some(head), branch, Some(dir.join("packed-refs"))].into_iter().flatten() {
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
