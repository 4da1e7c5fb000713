//! Crash safety and races, with real processes: SIGKILL at random moments during commits and
//! promotes, and two promotes racing for one ref.

use std::time::{Duration, Instant};

use crate::harness::Project;

/// A small deterministic generator, so a failing run can be repeated from its printed seed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn head(p: &Project, branch: &str) -> Option<String> {
    let v = p.run(&["branch", "--json"]).ok().json();
    v.as_array()
        .expect("branches")
        .iter()
        .find(|b| b["name"] == branch)
        .and_then(|b| b["commit"].as_str().map(str::to_string))
}

fn parent(p: &Project, commit: &str) -> Option<String> {
    let v = p.run(&["show", commit, "--json"]).ok().json();
    v["parents"][0].as_str().map(str::to_string)
}

#[cfg(unix)]
#[test]
fn sigkill_during_commit_or_promote_leaves_refs_old_or_new() {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7);
    eprintln!("kill test seed: {seed}");
    let mut rng = Lcg(seed);
    let files: Vec<(String, String)> = (0..120).map(|i| (format!("p/{i:03}.txt"), format!("v0 {i}\n"))).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let p = Project::with(&refs);
    p.run(&["commit", "-m", "base"]).ok();
    // Calibrate: kill moments are spread over the length of a real commit, so that some land
    // before the store is open, most while it is being written, and a few after it finished.
    p.write("p/000.txt", b"calibrate\n");
    let t = Instant::now();
    p.run(&["commit", "-m", "calibrate"]).ok();
    let mut span_commit = (t.elapsed().as_micros() as u64).max(2_000) * 9 / 10;
    let t = Instant::now();
    p.run(&["promote", "staging", "production"]).ok();
    let mut span_promote = (t.elapsed().as_micros() as u64).max(2_000) * 9 / 10;
    let (mut killed, mut finished) = (0, 0);
    // Until 50 processes have been killed mid-run (the machine's load changes how long a run
    // takes, so a run that finished first shrinks the window for its kind).
    let mut round = 0;
    while killed < 50 {
        assert!(round < 300, "could not kill 50 processes mid-run in 300 rounds ({killed} killed)");
        let promote = round % 3 == 2;
        let old_staging = head(&p, "staging");
        let old_prod = head(&p, "production");
        let mut cmd = if promote {
            p.command(&["promote", "staging", "production"])
        } else {
            for k in 0..10 {
                let i = (rng.next() % 120) as usize;
                p.write(&format!("p/{i:03}.txt"), format!("round {round} {k} {}\n", rng.next()).as_bytes());
            }
            p.command(&["commit", "-m", &format!("round {round}")])
        };
        let mut child =
            cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().expect("spawn");
        let span = if promote { span_promote } else { span_commit };
        let delay = Duration::from_micros(rng.next() % span);
        let start = Instant::now();
        while start.elapsed() < delay {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let ran = start.elapsed().as_micros() as u64;
        if child.try_wait().expect("wait").is_none() && child.kill().is_ok() {
            // Child::kill sends SIGKILL on unix: no chance to clean up.
            killed += 1;
        } else {
            finished += 1;
            let shrunk = (ran * 9 / 10).max(1_000);
            if promote {
                span_promote = span_promote.min(shrunk);
            } else {
                span_commit = span_commit.min(shrunk);
            }
        }
        let _ = child.wait();
        // Reopen: every ref is at its old or its new value, and fsck is clean.
        let fsck = p.run(&["fsck", "--json"]);
        assert_eq!(fsck.code, 0, "round {round} (seed {seed}): fsck after kill:\n{}{}", fsck.out(), fsck.stderr);
        let new_staging = head(&p, "staging");
        let new_prod = head(&p, "production");
        if promote {
            assert_eq!(new_staging, old_staging, "round {round}: staging untouched by promote");
            assert!(
                new_prod == old_prod || new_prod == old_staging,
                "round {round} (seed {seed}): production in between"
            );
        } else {
            assert_eq!(new_prod, old_prod, "round {round}: production untouched by commit");
            if new_staging != old_staging {
                let s = new_staging.clone().expect("moved");
                assert_eq!(
                    parent(&p, &s),
                    old_staging,
                    "round {round} (seed {seed}): new staging is a child of the old"
                );
                let st = p.run(&["status", "--json"]).ok().json();
                assert_eq!(st["clean"], true, "round {round}: the new commit holds exactly the worktree");
            }
        }
        round += 1;
    }
    eprintln!("kill test: {killed} killed mid-run, {finished} finished before the kill (spans {span_commit}/{span_promote} µs)");
}

#[test]
fn two_promotes_race_exactly_one_wins() {
    let p = Project::with(&[("a.txt", "0\n")]);
    p.run(&["commit", "-m", "base"]).ok();
    p.run(&["promote", "staging", "production"]).ok();
    for round in 0..8 {
        let prod = head(&p, "production").expect("prod");
        // Two candidate commits, both descendants of production.
        p.run(&["branch", &format!("left{round}"), "staging"]).ok();
        p.write("a.txt", format!("right {round}\n").as_bytes());
        p.run(&["commit", "-m", &format!("right {round}")]).ok();
        p.write("a.txt", format!("left {round}\n").as_bytes());
        p.run(&["commit", "-m", &format!("left {round}"), "--branch", &format!("left{round}")]).ok();
        let before = p.run(&["reflog", "production", "--json"]).ok().json().as_array().expect("a").len();
        let spawn = |src: String| {
            p.command(&["promote", &src, "production", "--expect", &prod])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let a = spawn(format!("left{round}"));
        let b = spawn("staging".into());
        let (ra, rb) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
        let mut codes = [ra.status.code(), rb.status.code()];
        codes.sort();
        assert_eq!(
            codes,
            [Some(0), Some(3)],
            "round {round}: one wins, one conflicts\n{}\n{}",
            String::from_utf8_lossy(&ra.stderr),
            String::from_utf8_lossy(&rb.stderr)
        );
        let after = p.run(&["reflog", "production", "--json"]).ok().json();
        assert_eq!(after.as_array().expect("a").len(), before + 1, "exactly one reflog entry per round");
        assert_eq!(after[0]["old"], prod.as_str());
        p.run(&["fsck"]).ok();
        // Reset staging to include production for the next round.
        let new_prod = head(&p, "production").expect("p");
        p.run(&["rollback", "staging", "--to", &new_prod]).ok();
    }
}
