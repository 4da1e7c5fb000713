//! Finds the minijinja version this crate is built against (from the nearest `Cargo.lock`), so
//! that `promptctl_render::ENGINE` names the real engine version and `--json` output changes
//! when the engine is upgraded.

use std::path::{Path, PathBuf};

fn find_lock(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join("Cargo.lock");
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

/// The version of the `minijinja` 2.x package recorded in a Cargo.lock.
fn minijinja_version(lock: &str) -> Option<String> {
    let mut found = None;
    for block in lock.split("[[package]]") {
        let mut name = None;
        let mut version = None;
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim().trim_matches('"').to_string());
            } else if let Some(v) = line.strip_prefix("version = ") {
                version = Some(v.trim().trim_matches('"').to_string());
            }
        }
        if let (Some(n), Some(v)) = (name, version) {
            if n == "minijinja" && v.starts_with("2.") {
                found = Some(v);
            }
        }
    }
    found
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let mut version = None;
    if let Some(lock) = find_lock(Path::new(&manifest)) {
        println!("cargo:rerun-if-changed={}", lock.display());
        if let Ok(text) = std::fs::read_to_string(&lock) {
            version = minijinja_version(&text);
        }
    }
    let version = version.unwrap_or_else(|| "2".to_string());
    println!("cargo:rustc-env=PROMPTCTL_MINIJINJA_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
