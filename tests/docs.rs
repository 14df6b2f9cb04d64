//! The book in `docs/` and the README tell the truth about the command line: the reference is
//! `--help` itself, every chapter is in the summary, and every flag a documented command uses
//! exists on that command.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{driftscope, root};

/// The commands, in the order the reference lists them.
const COMMANDS: [&str; 9] =
    ["baseline", "monitor", "changepoints", "calibrate", "watch", "bench", "devices", "completions", "man"];

fn help(command: Option<&str>) -> String {
    let mut c = driftscope();
    if let Some(name) = command {
        c.arg(name);
    }
    let out = c.arg("--help").output().unwrap();
    assert!(out.status.success(), "{command:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

fn reference() -> String {
    let mut text = String::from(
        "# Command-line reference\n\nEach command's `--help`, as the binary prints it. A test (`docs::the_cli_reference_is_the_help`) \
         compares this page with the binary; `DRIFTSCOPE_UPDATE_DOCS=1 cargo test the_cli_reference` writes it anew.\n",
    );
    for command in std::iter::once(None).chain(COMMANDS.iter().map(|c| Some(*c))) {
        let title = command.map_or("driftscope".to_string(), |c| format!("driftscope {c}"));
        text.push_str(&format!("\n## {title}\n\n```text\n{}```\n", help(command)));
    }
    text
}

#[test]
fn the_cli_reference_is_the_help() {
    let path = root().join("docs/src/cli-reference.md");
    let want = reference();
    if std::env::var_os("DRIFTSCOPE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    let first = have.lines().zip(want.lines()).position(|(a, b)| a != b);
    assert!(
        have == want,
        "docs/src/cli-reference.md is not the binary's --help (first difference at line {first:?}): \
         DRIFTSCOPE_UPDATE_DOCS=1 cargo test the_cli_reference writes it anew"
    );
}

fn chapters() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("docs/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.sort();
    v
}

/// The targets of Markdown links `](target)` in `text` that are local files.
fn local_links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            let end = rest.find(')')?;
            let target = rest[..end].split('#').next()?.to_string();
            (!target.is_empty() && !target.contains("://")).then_some(target)
        })
        .collect()
}

#[test]
fn every_chapter_is_in_the_summary_and_every_link_leads_somewhere() {
    let src = root().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = local_links(&summary).into_iter().collect();
    for ch in chapters() {
        let name = ch.file_name().unwrap().to_string_lossy().to_string();
        if name != "SUMMARY.md" {
            assert!(listed.contains(&name), "docs/src/{name} is not in SUMMARY.md");
        }
    }
    let mut files: Vec<(PathBuf, PathBuf)> = chapters().into_iter().map(|p| (p, src.clone())).collect();
    files.push((root().join("README.md"), root()));
    for (file, base) in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for target in local_links(&text) {
            assert!(base.join(&target).exists(), "{}: the link to {target} leads nowhere", file.display());
        }
    }
}

/// The flags of every `driftscope COMMAND …` line in the README's and the book's code blocks,
/// with the command: what a reader would type.
fn documented_commands(file: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = Vec::new();
    let mut in_code = false;
    // Prose, lines joined: an inline code span may run over a line break.
    let mut prose = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.extend(commands_in(line));
        } else {
            prose.push_str(line);
            prose.push(' ');
        }
    }
    for span in prose.split('`').skip(1).step_by(2) {
        out.extend(commands_in(span));
    }
    out
}

/// The `driftscope COMMAND …` invocations in one line of text, with their flags.
fn commands_in(line: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let Some(command) = words.get(i + 1).filter(|_| w.ends_with("driftscope") || *w == "--") else { continue };
            if !COMMANDS.contains(command) {
                continue;
            }
            let flags: Vec<String> = words[i + 2..]
                .iter()
                .take_while(|w| !matches!(**w, "&&" | "|" | ";" | "\\"))
                .map(|w| w.trim_start_matches('['))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(|w| w.split(['=', ']', ',', ')']).next().unwrap().to_string())
                .collect();
            out.push((command.to_string(), flags));
        }
    }
    out
}

#[test]
fn every_documented_flag_exists_on_its_command() {
    let mut files = vec![root().join("README.md")];
    files.extend(chapters().into_iter().filter(|p| !p.ends_with("cli-reference.md")));
    let helps: Vec<(&str, String)> = COMMANDS.iter().map(|c| (*c, help(Some(c)))).collect();
    let mut checked = 0;
    for file in &files {
        for (command, flags) in documented_commands(file) {
            let h = &helps.iter().find(|(c, _)| *c == command).unwrap().1;
            for flag in flags {
                checked += 1;
                assert!(
                    h.contains(&format!("{flag} "))
                        || h.contains(&format!("{flag}\n"))
                        || h.contains(&format!("{flag}=")),
                    "{}: `driftscope {command} {flag}` — {command} has no {flag}",
                    file.display()
                );
            }
        }
    }
    assert!(checked > 20, "only {checked} documented flags found");
    // The flags table of the usage chapter: each flag exists on some command.
    let usage = std::fs::read_to_string(root().join("docs/src/usage.md")).unwrap();
    let all: String = helps.iter().map(|(_, h)| h.as_str()).collect();
    for row in usage.lines().filter(|l| l.starts_with("| `-")) {
        for flag in row.split('`').filter(|w| w.starts_with("--")).map(|w| w.split([' ', '=']).next().unwrap()) {
            assert!(
                all.contains(&format!("{flag} ")) || all.contains(&format!("{flag}\n")),
                "docs/src/usage.md: no command has {flag}"
            );
        }
    }
}

/// The README's example per job runs, line by line and in order, on the sample data: each ends
/// clean or with violations (the sample has drifted), never an error, and writes its folder.
#[test]
fn the_readme_examples_run_on_the_sample_data() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("## One example per job").nth(1).expect("the README's examples");
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("data"), d.path().join("data")).unwrap();
    // What `watch` finds: a capture written an hour ago (settled).
    std::fs::create_dir(d.path().join("captures")).unwrap();
    let capture = d.path().join("captures/current.parquet");
    std::fs::copy(root().join("data/current.parquet"), &capture).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&capture).unwrap().set_modified(hour_ago).unwrap();
    let mut ran = BTreeSet::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], "driftscope", "{line}");
        let out = driftscope().args(&words[1..]).current_dir(d.path()).output().unwrap();
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 1)), "{line}: exit {code:?}: {}", String::from_utf8_lossy(&out.stderr));
        if let Some(at) = words.iter().position(|w| *w == "-o") {
            assert!(d.path().join(words[at + 1]).is_dir(), "{line}: wrote no {}", words[at + 1]);
        }
        ran.insert(words[1].to_string());
    }
    let jobs: BTreeSet<String> =
        ["baseline", "monitor", "changepoints", "calibrate", "watch", "bench"].iter().map(|s| s.to_string()).collect();
    assert_eq!(ran, jobs, "an example per job");
}

/// The fixed parts of the string literals that follow `marker` in Rust source: the messages of
/// `invalid(Opt::…, "…")` and `bail!("…")`, cut at their `{…}` placeholders.
fn message_parts(source: &str, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices(marker) {
        let rest = &source[at + marker.len()..];
        // The message: the first string literal within the call's next few hundred characters.
        let Some(open) = rest[..rest.len().min(300)].find('"') else { continue };
        let body = &rest[open + 1..];
        let Some(close) = body.find('"') else { continue };
        let message = &body[..close];
        let mut part = String::new();
        let mut depth = 0;
        for c in message.chars() {
            match c {
                '{' => {
                    depth += 1;
                    out.push(std::mem::take(&mut part));
                }
                '}' => depth -= 1,
                _ if depth == 0 => part.push(c),
                _ => {}
            }
        }
        out.push(part);
    }
    out.into_iter()
        .map(|p| p.trim().trim_matches(&[':', ';', ','][..]).trim().to_string())
        .filter(|p| p.len() >= 12)
        .collect()
}

/// Every message the library gives about an option (`invalid(Opt::…)`) and every check of the
/// command line (`bail!`) stands, its fixed words verbatim, in the troubleshooting chapter.
#[test]
fn every_error_of_an_option_is_in_the_troubleshooting_chapter() {
    let chapter = std::fs::read_to_string(root().join("docs/src/troubleshooting.md")).unwrap();
    let mut sources = vec![root().join("src/main.rs")];
    let mut dirs = vec![root().join("core/src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                sources.push(p);
            }
        }
    }
    let mut checked = 0;
    for file in sources {
        let text = std::fs::read_to_string(&file).unwrap();
        // Whitespace folded, and none after an opening parenthesis: a call spread over lines
        // reads as one.
        let code = text.split("#[cfg(test)]").next().unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
        let code = code.replace("( ", "(");
        for marker in ["invalid(Opt::", "invalid(crate::Opt::", "bail!("] {
            for part in message_parts(&code, marker) {
                checked += 1;
                assert!(
                    chapter.contains(&part),
                    "{}: \"{part}\" is not in docs/src/troubleshooting.md",
                    file.display()
                );
            }
        }
    }
    assert!(checked > 30, "only {checked} messages found");
}
