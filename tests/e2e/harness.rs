//! A temporary project and a way to run the binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const NOW: &str = "2026-12-03T10:00:00Z";

pub struct Project {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.out(), self.stderr))
    }
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.out(), self.stderr);
        self
    }
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}\nstdout:\n{}\nstderr:\n{}", self.out(), self.stderr);
        self
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_promptctl"))
}

impl Project {
    /// An empty directory (not initialised).
    pub fn empty() -> Project {
        Project { dir: tempfile::tempdir().expect("tempdir") }
    }

    /// An initialised project with the given prompt files.
    pub fn with(files: &[(&str, &str)]) -> Project {
        let p = Project::empty();
        p.run(&["init"]).ok();
        for (path, body) in files {
            p.write(path, body.as_bytes());
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let full = self.path().join("prompts").join(rel);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join("prompts").join(rel)).expect("remove");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PROMPTCTL_ACTOR", "tester")
            .env("PROMPTCTL_NOW", NOW)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let o: Output = c.output().expect("spawn promptctl");
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// A fingerprint of every ref and reflog, to prove a failed command changed nothing.
    pub fn state(&self) -> String {
        let branches = self.run(&["branch", "--json"]).ok().out();
        let tags = self.run(&["tag", "--json"]).ok().out();
        let audit = self.run(&["audit", "--json"]).ok().out();
        let fsck = self.run(&["fsck", "--json"]).ok().out();
        format!("{branches}{tags}{audit}{fsck}")
    }
}

/// `$PROMPTCTL_CORPUS`, else `../shared/corpus`; `None` (with a notice) when absent, unless
/// `PROMPTCTL_REQUIRE_CORPUS` is set, in which case absence fails the test.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var("PROMPTCTL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("public").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("PROMPTCTL_REQUIRE_CORPUS").is_some() {
        panic!("the shared corpus is required but missing at {}", dir.display());
    }
    eprintln!("notice: shared corpus not found at {}; skipping corpus test", dir.display());
    None
}

pub fn b3(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}
