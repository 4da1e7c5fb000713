//! Bad input: a clear error naming the file, prompt, ref or field, and a store left exactly
//! as it was.

use std::time::Duration;

use promptctl_store::{Backend, OpenOptions, SledBackend, Space};

use crate::harness::{b3, Project};

fn committed() -> Project {
    let p = Project::with(&[("good.txt", "good\n")]);
    p.run(&["commit", "-m", "good"]).ok();
    p
}

/// Runs a failing commit and checks the message and that nothing changed.
#[track_caller]
fn refused_commit(p: &Project, code: i32, needles: &[&str]) {
    let before = p.state();
    let r = p.run(&["commit", "-m", "bad"]).code(code);
    for n in needles {
        assert!(r.stderr.contains(n), "stderr should contain {n:?}:\n{}", r.stderr);
    }
    assert_eq!(p.state(), before, "a refused commit must not change the store");
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let p = committed();
    p.write("broken.prompt.yaml", b"description: x\nmessages:\n  - role: user\n    content: [unclosed\n");
    refused_commit(&p, 4, &["prompts/broken.prompt.yaml", "line 5", "column"]);
}

#[test]
fn template_syntax_error_names_prompt_and_line() {
    let p = committed();
    p.write("oops.jinja", b"Explain:\n{# .somevalue }\nQ: {{ q }}\n");
    refused_commit(&p, 4, &["prompts/oops.jinja", "line 2"]);
}

#[test]
fn invalid_file_names_are_refused() {
    let p = committed();
    p.write("bad name.txt", b"x");
    refused_commit(&p, 4, &["prompts/bad name.txt", "whitespace"]);
    let p = committed();
    p.write("x@y.txt", b"x");
    refused_commit(&p, 4, &["prompts/x@y.txt", "`@`"]);
}

#[test]
fn two_files_with_one_prompt_name_are_refused() {
    let p = committed();
    p.write("dup.txt", b"a");
    p.write("dup.md", b"b");
    refused_commit(&p, 4, &["prompt name `dup`", "prompts/dup.md", "prompts/dup.txt"]);
}

#[test]
fn non_utf8_and_binary_files_are_refused() {
    let p = committed();
    p.write("latin1.txt", b"caf\xe9\n");
    refused_commit(&p, 4, &["prompts/latin1.txt", "not valid UTF-8", "offset 3"]);
    let p = committed();
    p.write("image.md", b"PNG\x00\x01\x02");
    refused_commit(&p, 4, &["prompts/image.md", "binary", "offset 3"]);
}

#[test]
fn oversized_files_are_refused() {
    let p = committed();
    std::fs::write(p.path().join("promptctl.yaml"), "max_file_bytes: 100\n").expect("config");
    p.write("big.txt", &[b'a'; 101]);
    refused_commit(&p, 4, &["prompts/big.txt", "101 bytes", "max_file_bytes"]);
}

#[cfg(unix)]
#[test]
fn symlinks_leaving_the_prompt_folder_are_refused() {
    let p = committed();
    let outside = p.path().join("secret.txt");
    std::fs::write(&outside, "do not commit").expect("write");
    std::os::unix::fs::symlink(&outside, p.path().join("prompts/leak.txt")).expect("symlink");
    refused_commit(&p, 4, &["prompts/leak.txt", "symlink leaves the prompts folder"]);
    // A symlink that stays inside is fine.
    std::fs::remove_file(p.path().join("prompts/leak.txt")).expect("rm");
    std::os::unix::fs::symlink(p.path().join("prompts/good.txt"), p.path().join("prompts/alias.txt")).expect("symlink");
    p.run(&["commit", "-m", "alias"]).ok();
    assert_eq!(p.run(&["cat", "alias"]).ok().out(), "good\n");
}

#[test]
fn unknown_and_ambiguous_revisions() {
    let p = committed();
    let before = p.state();
    let r = p.run(&["cat", "missing@production"]).code(1);
    assert!(r.stderr.contains("production") && r.stderr.contains("no commits yet"), "{}", r.stderr);
    let r = p.run(&["cat", "good@nosuchbranch"]).code(1);
    assert!(r.stderr.contains("nosuchbranch"), "{}", r.stderr);
    let r = p.run(&["cat", "nothing"]).code(1);
    assert!(r.stderr.contains("unknown revision `nothing`"), "{}", r.stderr);
    let r = p.run(&["cat", "a/../b"]).code(2);
    assert!(r.stderr.contains("a/../b"), "{}", r.stderr);
    assert_eq!(p.state(), before, "failed lookups change nothing");
    // Many versions, until two ids share a 4-character prefix.
    let mut seen = std::collections::HashMap::new();
    let mut prefix = None;
    for i in 0..5000 {
        let body = format!("v{i}");
        let h = b3(body.as_bytes())[..4].to_string();
        p.write(&format!("many/p{i}.txt"), body.as_bytes());
        if seen.insert(h.clone(), i).is_some() {
            prefix = Some(h);
            break;
        }
    }
    p.run(&["commit", "-m", "many"]).ok();
    let prefix = prefix.expect("a shared prefix");
    let r = p.run(&["cat", &prefix]).code(1);
    assert!(r.stderr.contains("ambiguous") && r.stderr.matches("prompt version").count() >= 2, "{}", r.stderr);
}

#[test]
fn locked_store_waits_then_names_the_lock() {
    let p = committed();
    let store = p.path().join(".promptctl");
    let holder =
        SledBackend::open(&store, OpenOptions { create: false, lock_timeout: Duration::from_secs(5) }).expect("open");
    let started = std::time::Instant::now();
    let r = p.run_with(&["log"], &[("PROMPTCTL_LOCK_TIMEOUT_MS", "300")]).code(5);
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited");
    assert!(r.stderr.contains("locked") && r.stderr.contains(".promptctl"), "{}", r.stderr);
    drop(holder);
    p.run(&["log"]).ok();
}

#[test]
fn damaged_object_is_named_by_fsck_and_refused_by_cat() {
    let p = committed();
    let id = b3(b"good\n");
    {
        let b = SledBackend::open(
            &p.path().join(".promptctl"),
            OpenOptions { create: false, lock_timeout: Duration::from_secs(5) },
        )
        .expect("open");
        let raw: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).expect("hex")).collect();
        b.raw_put(Space::Blobs, &raw, b"evil\n").expect("tamper");
        b.flush().expect("flush");
    }
    let r = p.run(&["cat", "good"]).code(6);
    assert!(r.stdout.is_empty(), "no bytes are returned");
    assert!(r.stderr.contains(&id[..12]) && r.stderr.contains("damaged"), "{}", r.stderr);
    let r = p.run(&["fsck"]).code(6);
    assert!(r.out().contains(&id), "{}", r.out());
}

#[test]
fn malformed_config_names_the_field() {
    let p = committed();
    std::fs::write(p.path().join("promptctl.yaml"), "prompts_dir: prompts\nprotectd: [production]\n").expect("config");
    let r = p.run(&["status"]).code(4);
    assert!(r.stderr.contains("promptctl.yaml:2") && r.stderr.contains("protectd"), "{}", r.stderr);
}

#[test]
fn a_lost_prompt_version_is_damage_for_fsck_cat_render_and_get() {
    let p = Project::with(&[("a.jinja", "A {% include 'partials/b.jinja' %}"), ("partials/b.jinja", "B")]);
    p.run(&["commit", "-m", "two"]).ok();
    p.run(&["tag", "v1"]).ok();
    let b = b3(b"B");
    let raw = |hex: &str| -> Vec<u8> {
        (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex")).collect()
    };
    {
        let s = SledBackend::open(
            &p.path().join(".promptctl"),
            OpenOptions { create: false, lock_timeout: Duration::from_secs(5) },
        )
        .expect("open");
        s.raw_remove(Space::Blobs, &raw(&b)).expect("remove");
        s.flush().expect("flush");
    }
    let r = p.run(&["fsck"]).code(6);
    assert!(r.out().contains(&b) && r.out().contains("missing"), "{}", r.out());
    let r = p.run(&["cat", "partials/b"]).code(6);
    assert!(r.stderr.contains(&b[..12]), "{}", r.stderr);
    p.run(&["render", "a"]).code(6);
    p.run(&["get", "a", "--json"]).code(6);
}

#[test]
fn init_never_writes_into_a_foreign_folder() {
    let p = Project::empty();
    let foreign = p.path().join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("db"), "precious").expect("write");
    let r = p.run(&["--store", foreign.to_str().expect("path"), "init"]).code(1);
    assert!(r.stderr.contains("is not a promptctl store"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(foreign.join("db")).expect("read"), "precious");
    assert!(!foreign.join("conf").exists());
}

#[test]
fn status_lists_what_commit_would_refuse() {
    let p = committed();
    p.write("bad.jinja", b"Hello {{ name \n");
    let st = p.run(&["status", "--json"]).ok().json();
    let errors = st["errors"].as_array().expect("errors");
    assert!(errors.iter().any(|e| e.as_str().is_some_and(|s| s.contains("prompts/bad.jinja"))), "{st}");
    assert_eq!(st["clean"], false);
    let text = p.run(&["status"]).ok().out();
    assert!(text.contains("invalid:") && text.contains("prompts/bad.jinja"), "{text}");
}

#[test]
fn bad_lock_timeout_is_a_usage_error() {
    let p = committed();
    let r = p.run_with(&["log"], &[("PROMPTCTL_LOCK_TIMEOUT_MS", "abc")]).code(2);
    assert!(r.stderr.contains("PROMPTCTL_LOCK_TIMEOUT_MS"), "{}", r.stderr);
}
