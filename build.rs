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
    let stamped = match (git(&["rev-parse", "--short=9", "HEAD"]), git(&["log", "-1", "--format=%cs"])) {
        (Some(commit), Some(date)) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).map_or("", |_| ", modified");
            format!("{version} ({commit} {date}{dirty})")
        }
        _ => version.to_string(),
    };
    println!("cargo:rustc-env=DRIFTSCOPE_VERSION={stamped}");
    // Stamp again when the checkout moves to another commit (only paths that exist: a missing
    // one would rebuild every time).
    let git_dir = git(&["rev-parse", "--git-dir"]).map(std::path::PathBuf::from);
    if let Some(dir) = git_dir {
        let head = dir.join("HEAD");
        if head.exists() {
            println!("cargo:rerun-if-changed={}", head.display());
        }
        if let Some(r) =
            std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        {
            let reference = dir.join(r);
            if reference.exists() {
                println!("cargo:rerun-if-changed={}", reference.display());
            }
        }
        let index = dir.join("index");
        if index.exists() {
            println!("cargo:rerun-if-changed={}", index.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
