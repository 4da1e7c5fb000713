//! The real corpus: about seventy prompt templates written by other people, committed as a
//! `prompts/` tree. Every file must come back byte for byte, under its BLAKE3 id.

use std::path::Path;

use crate::harness::{b3, corpus, Project};

fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read corpus dir") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("rel").to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn whole_corpus_commits_and_reads_back_exactly() {
    let Some(dir) = corpus() else { return };
    let all = files(&dir.join("public"));
    assert!(all.len() >= 60, "expected the whole corpus, found {} files", all.len());
    let p = Project::empty();
    p.run(&["init"]).ok();
    for (rel, bytes) in &all {
        p.write(&format!("public/{rel}"), bytes);
    }
    let r = p.run(&["commit", "-m", "corpus"]);
    assert_eq!(r.code, 0, "committing the corpus failed:\n{}", r.stderr);
    p.run(&["promote", "staging", "production"]).ok();
    let tree = p.run(&["show", "staging", "--json"]).ok().json();
    assert_eq!(tree["changes"].as_array().expect("changes").len(), all.len(), "every file is a prompt");
    for (rel, bytes) in &all {
        let (name, _) = promptctl_core_name(&format!("public/{rel}"));
        let rev = format!("{name}@production");
        let cat = p.run(&["cat", &rev]);
        assert_eq!(cat.code, 0, "cat {rev}: {}", cat.stderr);
        assert!(cat.stdout == *bytes, "cat {rev} returned different bytes ({} vs {})", cat.stdout.len(), bytes.len());
        let got = p.run(&["get", &rev, "--json"]).ok().json();
        assert_eq!(got["version"], b3(bytes), "{rel}");
        assert_eq!(got["name"], name.as_str());
    }
    p.run(&["fsck"]).ok();
}

/// The prompt name for a path, by the documented rule (known prompt extensions are dropped).
fn promptctl_core_name(path: &str) -> (String, &'static str) {
    for ext in [".prompt.yaml", ".jinja", ".jinja2", ".j2", ".txt", ".md", ".prompty", ".prompt"] {
        if let Some(stem) = path.strip_suffix(ext) {
            if !stem.is_empty() && !stem.ends_with('/') {
                return (stem.to_string(), ext);
            }
        }
    }
    (path.to_string(), "")
}
