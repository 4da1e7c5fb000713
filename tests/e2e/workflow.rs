//! The everyday workflow, as the README runs it.

use crate::harness::{b3, Project};

const SUMMARIZE: &str = r#"description: Summarise a ticket
model: {route: default, temperature: 0.2, max_tokens: 400}
variables:
  ticket: {type: string, required: true}
  tone: {type: string, default: neutral, enum: [neutral, friendly]}
messages:
  - role: system
    content: "You are a support analyst. {% include 'partials/tone.jinja' %}"
  - role: user
    content: "Summarise:\n{{ ticket }}"
"#;
const TONE: &str = "{% if tone == 'friendly' %}Be warm.{% else %}Be plain.{% endif %}\n";

fn project() -> Project {
    Project::with(&[("summarize.prompt.yaml", SUMMARIZE), ("partials/tone.jinja", TONE)])
}

#[test]
fn init_creates_unborn_branches_and_no_commit() {
    let p = Project::empty();
    p.run(&["init"]).ok();
    assert!(p.path().join(".promptctl").is_dir());
    assert!(p.path().join("promptctl.yaml").is_file());
    assert!(p.path().join("prompts").is_dir());
    let branches = p.run(&["branch", "--json"]).ok().json();
    let names: Vec<&str> =
        branches.as_array().expect("array").iter().map(|b| b["name"].as_str().expect("name")).collect();
    assert_eq!(names, vec!["production", "staging"]);
    assert!(branches.as_array().expect("array").iter().all(|b| b["commit"].is_null()));
    assert_eq!(p.run(&["log", "--json"]).ok().json(), serde_json::json!([]));
    // Re-running init changes nothing.
    let before = p.state();
    p.run(&["init"]).ok();
    assert_eq!(p.state(), before);
}

#[test]
fn commit_promote_change_diff_render_rollback_reflog() {
    let p = project();
    let st = p.run(&["status", "--json"]).ok().json();
    assert_eq!(st["changes"].as_array().expect("changes").len(), 2);
    p.run(&["commit", "-m", "first prompts"]).ok();
    let c1 = p.run(&["log", "--json"]).ok().json()[0]["commit"].as_str().expect("commit").to_string();
    assert_eq!(c1.len(), 64);

    // No-op: same content is not a new version.
    let r = p.run(&["commit", "-m", "again"]).ok();
    assert!(r.stderr.contains("nothing to commit"), "{}", r.stderr);
    assert_eq!(p.run(&["log", "--json"]).ok().json().as_array().expect("log").len(), 1);

    p.run(&["promote", "staging", "production"]).ok();
    let got = p.run(&["get", "summarize@production", "--json"]).ok().json();
    assert_eq!(got["version"], b3(SUMMARIZE.as_bytes()));
    assert_eq!(got["commit"], c1.as_str());
    assert_eq!(got["ref"], "production");
    assert_eq!(got["content"], SUMMARIZE);
    assert_eq!(got["model"]["max_tokens"], 400);

    // Change a prompt, commit, and compare.
    p.write("summarize.prompt.yaml", SUMMARIZE.replace("Summarise:", "Summarise briefly:").as_bytes());
    let st = p.run(&["status", "--json"]).ok().json();
    assert_eq!(st["changes"][0]["status"], "modified");
    p.run(&["commit", "-m", "shorter summaries"]).ok();
    let d = p.run(&["diff", "summarize@production", "summarize@staging"]).ok().out();
    assert!(d.contains("-    content: \"Summarise:\\n{{ ticket }}\""), "{d}");
    assert!(d.contains("+    content: \"Summarise briefly:\\n{{ ticket }}\""), "{d}");
    p.run(&["diff", "--exit-code", "production", "staging"]).code(1);
    p.run(&["diff", "--exit-code", "production", "production"]).ok();

    let out = p.run(&["render", "summarize@staging", "--var", "ticket=Refund missing", "--var", "tone=friendly"]).ok();
    assert_eq!(out.out(), "system:\nYou are a support analyst. Be warm.\n\nuser:\nSummarise briefly:\nRefund missing");

    p.run(&["promote", "staging", "production"]).ok();
    let c2 = p.run(&["log", "--json"]).ok().json()[0]["commit"].as_str().expect("c").to_string();
    p.run(&["rollback", "production"]).ok();
    assert_eq!(p.run(&["get", "summarize@production", "--json"]).ok().json()["commit"], c1.as_str());
    // Rolling back a rollback rolls forward.
    p.run(&["rollback", "production"]).ok();
    assert_eq!(p.run(&["get", "summarize@production", "--json"]).ok().json()["commit"], c2.as_str());

    let log = p.run(&["reflog", "production", "--json"]).ok().json();
    let actions: Vec<&str> = log.as_array().expect("reflog").iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions, vec!["rollback", "rollback", "promote", "promote", "create"]);
    let first = &log[0];
    assert_eq!(first["actor"], "tester");
    assert_eq!(first["time"], crate::harness::NOW);
    assert_eq!(first["old"], c1.as_str());
    assert_eq!(first["new"], c2.as_str());
    p.run(&["fsck"]).ok();
}

#[test]
fn production_refuses_commits_with_a_hint() {
    let p = project();
    let r = p.run(&["commit", "-m", "x", "--branch", "production"]).code(1);
    assert!(r.stderr.contains("protected"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: commit to `staging` and run `promptctl promote staging production`"),
        "{}",
        r.stderr
    );
}

#[test]
fn per_prompt_log_lists_only_commits_that_changed_it() {
    let p = project();
    p.run(&["commit", "-m", "one"]).ok();
    p.write("other.txt", b"other 1\n");
    p.run(&["commit", "-m", "two"]).ok();
    p.write("summarize.prompt.yaml", format!("{SUMMARIZE}# v2\n").as_bytes());
    p.run(&["commit", "-m", "three"]).ok();
    let log = p.run(&["log", "summarize", "--json"]).ok().json();
    let msgs: Vec<&str> = log.as_array().expect("log").iter().map(|e| e["message"].as_str().expect("m")).collect();
    assert_eq!(msgs, vec!["three", "one"]);
    assert_eq!(log[0]["version"], b3(format!("{SUMMARIZE}# v2\n").as_bytes()));
}

#[test]
fn tags_are_write_once_and_promotable() {
    let p = project();
    p.run(&["commit", "-m", "one"]).ok();
    p.run(&["tag", "v1.4.0"]).ok();
    p.write("partials/tone.jinja", b"changed\n");
    p.run(&["commit", "-m", "two"]).ok();
    let before = p.state();
    let r = p.run(&["tag", "v1.4.0", "staging"]).code(1);
    assert!(r.stderr.contains("write-once"), "{}", r.stderr);
    assert_eq!(p.state(), before);
    p.run(&["promote", "v1.4.0", "production"]).ok();
    let v = p.run(&["get", "partials/tone@production", "--json"]).ok().json();
    assert_eq!(v["version"], b3(TONE.as_bytes()));
}

#[test]
fn promote_only_and_expect() {
    let p = project();
    p.run(&["commit", "-m", "one"]).ok();
    p.run(&["promote", "staging", "production"]).ok();
    let prod = p.run(&["branch", "--json"]).ok().json()[0]["commit"].as_str().expect("c").to_string();
    p.write("summarize.prompt.yaml", format!("{SUMMARIZE}# v2\n").as_bytes());
    p.write("partials/tone.jinja", b"v2\n");
    p.run(&["commit", "-m", "two"]).ok();
    // A stale --expect is a conflict (exit 3) and changes nothing.
    let before = p.state();
    p.run(&["promote", "staging", "production", "--expect", "0000000000000000"]).code(3);
    assert_eq!(p.state(), before);
    p.run(&["promote", "staging", "production", "--only", "partials/tone", "--expect", &prod[..12]]).ok();
    assert_eq!(p.run(&["cat", "partials/tone@production"]).ok().out(), "v2\n");
    assert_eq!(p.run(&["cat", "summarize@production"]).ok().out(), SUMMARIZE);
}

#[test]
fn revisions_tilde_and_reflog_positions() {
    let p = project();
    p.run(&["commit", "-m", "one"]).ok();
    p.write("partials/tone.jinja", b"two\n");
    p.run(&["commit", "-m", "two"]).ok();
    assert_eq!(p.run(&["cat", "partials/tone@staging~1"]).ok().out(), TONE);
    assert_eq!(p.run(&["cat", "partials/tone@staging@{1}"]).ok().out(), TONE);
    assert_eq!(p.run(&["cat", "partials/tone"]).ok().out(), "two\n");
    let c = p.run(&["show", "staging~1", "--json"]).ok().json();
    assert_eq!(c["message"], "one");
}

#[test]
fn commit_paths_takes_only_those_and_deletes_named_missing_files() {
    let p = project();
    p.write("other.txt", b"1\n");
    p.run(&["commit", "-m", "one"]).ok();
    p.write("other.txt", b"2\n");
    p.write("partials/tone.jinja", b"changed\n");
    // Only other.txt: the tone change stays uncommitted.
    p.run(&["commit", "-m", "two", "prompts/other.txt"]).ok();
    assert_eq!(p.run(&["cat", "other"]).ok().out(), "2\n");
    assert_eq!(p.run(&["cat", "partials/tone"]).ok().out(), TONE);
    let st = p.run(&["status", "--json"]).ok().json();
    assert_eq!(st["changes"][0]["name"], "partials/tone");
    // A named prompt whose file is gone is deleted; others stay.
    p.remove("other.txt");
    p.run(&["commit", "-m", "three", "other"]).ok();
    p.run(&["cat", "other"]).code(1);
    assert_eq!(p.run(&["cat", "summarize"]).ok().out(), SUMMARIZE);
    let show = p.run(&["show", "staging", "--json"]).ok().json();
    assert_eq!(show["changes"][0]["status"], "deleted");
    // A name that exists nowhere is an error.
    p.run(&["commit", "-m", "four", "nosuch"]).code(1);
}

#[test]
fn commit_a_folder_takes_everything_under_it() {
    let p = project();
    p.write("support/a.txt", b"a1");
    p.write("support/b.txt", b"b1");
    p.run(&["commit", "-m", "one"]).ok();
    p.write("support/a.txt", b"a2");
    p.remove("support/b.txt");
    p.write("partials/tone.jinja", b"not this\n");
    p.run(&["commit", "-m", "support only", "prompts/support"]).ok();
    assert_eq!(p.run(&["cat", "support/a"]).ok().out(), "a2");
    p.run(&["cat", "support/b"]).code(1);
    assert_eq!(p.run(&["cat", "partials/tone"]).ok().out(), TONE);
}
