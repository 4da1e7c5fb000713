//! The machine interface scripts and CI depend on.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{b3, Project};

#[test]
fn cat_writes_exact_bytes_and_get_reports_base64_for_non_utf8() {
    // CRLF, a BOM, and no final newline are stored exactly as written.
    let crlf = "\u{feff}line one\r\nline two";
    let p = Project::with(&[("crlf.txt", crlf)]);
    p.write("data/blob.bin.dat", &[0xff, 0xfe, b'x', 0x80]);
    let r = p.run(&["commit", "-m", "bytes"]).ok();
    assert!(r.stderr.contains("CRLF"), "warns about CRLF: {}", r.stderr);
    assert_eq!(p.run(&["cat", "crlf"]).ok().stdout, crlf.as_bytes());
    let g = p.run(&["get", "data/blob.bin.dat", "--json"]).ok().json();
    assert_eq!(g["content_base64"], "//54gA==");
    assert!(g.get("content").is_none());
    assert_eq!(g["version"], b3(&[0xff, 0xfe, b'x', 0x80]));
}

#[test]
fn ids_match_b3sum() {
    let p = Project::with(&[("a.txt", "hello\n")]);
    p.run(&["commit", "-m", "a"]).ok();
    let v = p.run(&["get", "a", "--json"]).ok().json()["version"].as_str().expect("v").to_string();
    assert_eq!(v, b3(b"hello\n"));
    let b3sum = std::process::Command::new("b3sum").arg(p.path().join("prompts/a.txt")).output();
    match b3sum {
        Ok(o) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout);
            assert_eq!(line.split_whitespace().next(), Some(v.as_str()));
        }
        _ if std::env::var_os("PROMPTCTL_REQUIRE_B3SUM").is_some() => panic!("b3sum is required but did not run"),
        _ => eprintln!("notice: b3sum not installed; checked against the blake3 crate only"),
    }
}

#[test]
fn render_reads_vars_from_file_and_stdin_without_adding_a_newline() {
    let p = Project::with(&[("hi.jinja", "Hello {{ name }} from {{ place }}")]);
    p.run(&["commit", "-m", "hi"]).ok();
    std::fs::write(p.path().join("vars.yaml"), "name: Ada\nplace: London\n").expect("write");
    let r = p.run(&["render", "hi", "--vars", "vars.yaml"]).ok();
    assert_eq!(r.stdout, b"Hello Ada from London");
    let r = p.run(&["render", "hi", "--vars", "vars.yaml", "--var", "place=Paris"]).ok();
    assert_eq!(r.out(), "Hello Ada from Paris");
    let mut child = p
        .command(&["render", "hi", "--vars", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(br#"{"name": "Bo", "place": "Oslo"}"#).expect("write");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.stdout, b"Hello Bo from Oslo");
}

#[test]
fn log_and_reflog_json_are_newest_first_with_full_ids() {
    let p = Project::with(&[("a.txt", "1")]);
    p.run(&["commit", "-m", "one"]).ok();
    p.write("a.txt", b"2");
    p.run(&["commit", "-m", "two"]).ok();
    let log = p.run(&["log", "--json"]).ok().json();
    assert_eq!(log[0]["message"], "two");
    assert_eq!(log[1]["message"], "one");
    assert_eq!(log[0]["parents"][0], log[1]["commit"]);
    for k in ["commit", "parents", "author", "time", "message"] {
        assert!(log[0].get(k).is_some(), "log entry has {k}");
    }
    let rl = p.run(&["reflog", "staging", "--json"]).ok().json();
    assert_eq!(rl[0]["new"], log[0]["commit"]);
    assert_eq!(rl[0]["old"], log[1]["commit"]);
    for k in ["old", "new", "action", "actor", "time", "message"] {
        assert!(rl[0].get(k).is_some(), "reflog entry has {k}");
    }
    assert_eq!(rl.as_array().expect("a").last().expect("first")["action"], "create");
}

#[test]
fn every_reading_command_speaks_json() {
    let p = Project::with(&[("a.txt", "1")]);
    p.run(&["commit", "-m", "one"]).ok();
    p.run(&["tag", "v1"]).ok();
    for args in [
        vec!["status"],
        vec!["log"],
        vec!["log", "a"],
        vec!["show", "staging"],
        vec!["show", "a"],
        vec!["get", "a"],
        vec!["render", "a"],
        vec!["diff", "staging", "v1"],
        vec!["branch"],
        vec!["tag"],
        vec!["reflog"],
        vec!["audit"],
        vec!["fsck"],
    ] {
        let mut a = args.clone();
        a.push("--json");
        let r = p.run(&a).ok();
        r.json();
    }
}

#[test]
fn colour_follows_flag_and_no_color() {
    let p = Project::with(&[("a.txt", "1")]);
    p.run(&["commit", "-m", "one"]).ok();
    let plain = p.run(&["log"]).ok().out();
    assert!(!plain.contains('\x1b'), "NO_COLOR and a pipe: no escapes");
    let forced = p.run(&["log", "--color", "always"]).ok().out();
    assert!(forced.contains("\x1b["), "--color always wins over NO_COLOR");
}

#[test]
fn exit_codes_are_distinct() {
    let p = Project::with(&[("a.txt", "1")]);
    p.run(&["commit", "-m", "one"]).ok();
    p.run(&["cat", "nope"]).code(1);
    p.run(&["no-such-command"]).code(2);
    p.run(&["cat", "a@@"]).code(2);
    p.run(&["promote", "staging", "production", "--expect", "abcdabcd"]).code(3);
    p.write("bad.prompt.yaml", b"messages: [\n");
    p.run(&["commit", "-m", "bad"]).code(4);
}

#[test]
fn diff_json_has_structured_hunks() {
    let p = Project::with(&[("a.txt", "one\ntwo\nthree\n")]);
    p.run(&["commit", "-m", "one"]).ok();
    p.write("a.txt", b"one\n2\nthree\n");
    p.run(&["commit", "-m", "two"]).ok();
    let d = p.run(&["diff", "staging~1", "staging", "--json"]).ok().json();
    let f = &d["files"][0];
    assert_eq!(f["name"], "a");
    assert_eq!(f["added"], 1);
    assert_eq!(f["removed"], 1);
    let lines = f["hunks"][0]["lines"].as_array().expect("lines");
    assert!(lines.iter().any(|l| l["op"] == "-" && l["text"] == "two\n"));
    assert!(lines.iter().any(|l| l["op"] == "+" && l["text"] == "2\n"));
}

#[test]
fn audit_is_newest_first_even_within_one_second() {
    // The harness fixes the clock: every move has the same time.
    let p = Project::with(&[("a.txt", "1")]);
    p.run(&["commit", "-m", "one"]).ok();
    p.write("a.txt", b"2");
    p.run(&["commit", "-m", "two"]).ok();
    p.run(&["promote", "staging", "production"]).ok();
    let a = p.run(&["audit", "--json"]).ok().json();
    let staging: Vec<&str> = a
        .as_array()
        .expect("a")
        .iter()
        .filter(|e| e["ref"] == "staging")
        .map(|e| e["message"].as_str().expect("m"))
        .collect();
    assert_eq!(staging, vec!["commit: two", "commit: one", "init"]);
}
