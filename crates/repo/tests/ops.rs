//! Repository semantics on the strict in-memory backend (the sled backend passes the same
//! storage conformance suite in crates/store).

use promptctl_core::{Action, Actor, FileKind, ObjectId, PromptName, RefName, RevSpec, Timestamp, TreeEntry};
use promptctl_repo::ops::{NewVersion, Outcome};
use promptctl_repo::{RefKind, Repo, RepoError, Resolved};
use promptctl_store::MemBackend;

fn r(s: &str) -> RefName {
    s.parse().expect("ref")
}
fn n(s: &str) -> PromptName {
    s.parse().expect("name")
}

fn repo() -> Repo {
    let repo = Repo::new(
        Box::new(MemBackend::new()),
        Actor::new("tester").expect("actor"),
        Some(Timestamp::parse("2026-01-01T00:00:00Z").expect("time")),
        r("staging"),
        vec![r("production")],
    );
    repo.init_refs(&[r("staging"), r("production")]).expect("init");
    repo
}

fn v(name: &str, body: &str) -> NewVersion {
    let bytes = body.as_bytes().to_vec();
    NewVersion { name: n(name), entry: TreeEntry { id: ObjectId::of_blob(&bytes), kind: FileKind::Txt }, bytes }
}

fn commit(repo: &Repo, files: &[(&str, &str)], msg: &str) -> Outcome {
    repo.commit_snapshot(&r("staging"), files.iter().map(|(a, b)| v(a, b)).collect(), &[], true, msg).expect("commit")
}

fn head(repo: &Repo, b: &str) -> Option<ObjectId> {
    repo.get_ref(RefKind::Branch, &r(b)).expect("ref").expect("exists")
}

fn id_of(o: &Outcome) -> ObjectId {
    match o {
        Outcome::Moved { new, .. } => *new,
        Outcome::Unchanged { .. } => panic!("expected a move"),
    }
}

#[test]
fn init_leaves_branches_unborn_and_commit_is_idempotent() {
    let repo = repo();
    assert_eq!(head(&repo, "staging"), None);
    assert_eq!(head(&repo, "production"), None);
    let c1 = id_of(&commit(&repo, &[("a", "A\n")], "first"));
    assert_eq!(head(&repo, "staging"), Some(c1));
    // Same content again: no new commit, the ref does not move, no reflog entry.
    let before = repo.reflog(RefKind::Branch, &r("staging")).expect("reflog").len();
    assert_eq!(commit(&repo, &[("a", "A\n")], "again"), Outcome::Unchanged { at: Some(c1) });
    assert_eq!(repo.reflog(RefKind::Branch, &r("staging")).expect("reflog").len(), before);
}

#[test]
fn production_is_protected() {
    let repo = repo();
    let e = repo.commit_snapshot(&r("production"), vec![v("a", "x")], &[], true, "m").expect_err("protected");
    assert!(matches!(e, RepoError::Protected(_)));
    assert_eq!(head(&repo, "production"), None);
}

#[test]
fn promote_fast_forwards_and_refuses_divergence() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1")], "one"));
    repo.promote(c1, "staging", &r("production"), None, None).expect("ff from unborn");
    assert_eq!(head(&repo, "production"), Some(c1));
    let c2 = id_of(&commit(&repo, &[("a", "2")], "two"));
    repo.promote(c2, "staging", &r("production"), None, Some(Some(c1))).expect("ff with expect");
    assert_eq!(head(&repo, "production"), Some(c2));
    // --expect with a stale value: conflict, nothing moves.
    let c3 = id_of(&commit(&repo, &[("a", "3")], "three"));
    let e = repo.promote(c3, "staging", &r("production"), None, Some(Some(c1))).expect_err("stale");
    assert!(matches!(e, RepoError::Conflict(_)), "{e}");
    assert_eq!(head(&repo, "production"), Some(c2));
    // Roll production back to c1, then try to promote a side commit that is not a descendant.
    repo.rollback(&r("production"), c1, "c1", None, None).expect("rollback");
    let side = id_of(&repo.commit_snapshot(&r("staging"), vec![v("b", "side")], &[], false, "side").expect("commit"));
    // production (c1) IS an ancestor of side: fast-forward allowed.
    repo.promote(side, "staging", &r("production"), None, None).expect("ff");
    // A branch that diverged: production gets an --only commit, then staging is no longer a descendant.
    let c5 = id_of(&commit(&repo, &[("a", "5"), ("b", "side")], "five"));
    repo.promote(c5, "staging", &r("production"), Some(&[n("a")]), None).expect("only");
    let prod = head(&repo, "production").expect("prod");
    assert_ne!(prod, c5);
    assert_eq!(repo.read_commit(&prod).expect("commit").parents, vec![side]);
    let c6 = id_of(&commit(&repo, &[("a", "6"), ("b", "side")], "six"));
    let e = repo.promote(c6, "staging", &r("production"), None, None).expect_err("diverged");
    assert!(e.to_string().contains("not an ancestor"), "{e}");
}

#[test]
fn promote_only_takes_just_the_named_prompts() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1"), ("b", "1")], "one"));
    repo.promote(c1, "staging", &r("production"), None, None).expect("ff");
    let c2 = id_of(&commit(&repo, &[("a", "2"), ("b", "2")], "two"));
    repo.promote(c2, "staging", &r("production"), Some(&[n("b")]), None).expect("only b");
    let prod = head(&repo, "production").expect("prod");
    let t = repo.commit_tree(&prod).expect("tree");
    assert_eq!(t.get(&n("a")).expect("a").id, ObjectId::of_blob(b"1"));
    assert_eq!(t.get(&n("b")).expect("b").id, ObjectId::of_blob(b"2"));
    let e = repo.promote(c2, "staging", &r("production"), Some(&[n("zzz")]), None).expect_err("unknown");
    assert!(e.to_string().contains("zzz"));
}

#[test]
fn rollback_twice_rolls_forward_and_keeps_everything() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1")], "one"));
    repo.promote(c1, "staging", &r("production"), None, None).expect("p1");
    let c2 = id_of(&commit(&repo, &[("a", "2")], "two"));
    repo.promote(c2, "staging", &r("production"), None, None).expect("p2");
    let prev = repo.previous_position(&r("production")).expect("prev");
    assert_eq!(prev, c1);
    repo.rollback(&r("production"), prev, "production@{1}", None, None).expect("rb");
    assert_eq!(head(&repo, "production"), Some(c1));
    let prev = repo.previous_position(&r("production")).expect("prev");
    assert_eq!(prev, c2, "rolling back a rollback rolls forward");
    repo.rollback(&r("production"), prev, "production@{1}", None, None).expect("rb2");
    assert_eq!(head(&repo, "production"), Some(c2));
    let log = repo.reflog(RefKind::Branch, &r("production")).expect("reflog");
    let actions: Vec<Action> = log.iter().map(|e| e.action).collect();
    assert_eq!(actions, vec![Action::Rollback, Action::Rollback, Action::Promote, Action::Promote, Action::Create]);
    assert!(repo.fsck().expect("fsck").problems.is_empty());
}

#[test]
fn rollback_only_restores_named_prompts_in_a_new_commit() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1"), ("b", "1")], "one"));
    let c2 = id_of(&commit(&repo, &[("a", "2"), ("b", "2")], "two"));
    let out = repo.rollback(&r("staging"), c1, "staging~1", Some(&[n("a")]), None).expect("rb");
    let new = id_of(&out);
    assert_ne!(new, c1);
    let t = repo.commit_tree(&new).expect("tree");
    assert_eq!(t.get(&n("a")).expect("a").id, ObjectId::of_blob(b"1"));
    assert_eq!(t.get(&n("b")).expect("b").id, ObjectId::of_blob(b"2"));
    assert_eq!(repo.read_commit(&new).expect("c").parents, vec![c2]);
}

#[test]
fn tags_are_write_once() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1")], "one"));
    let c2 = id_of(&commit(&repo, &[("a", "2")], "two"));
    repo.create_tag(&r("v1"), c1, "").expect("tag");
    let e = repo.create_tag(&r("v1"), c2, "").expect_err("again");
    assert!(e.to_string().contains("write-once"), "{e}");
    assert_eq!(repo.get_ref(RefKind::Tag, &r("v1")).expect("ref"), Some(Some(c1)));
    // A tag is a valid promote source.
    repo.promote(c1, "v1", &r("production"), None, None).expect("promote tag");
    let e = repo.create_branch(&r("v1"), None).expect_err("namespace");
    assert!(e.to_string().contains("already exists"));
}

#[test]
fn revisions_resolve() {
    let repo = repo();
    let c1 = id_of(&commit(&repo, &[("a", "1")], "one"));
    let c2 = id_of(&commit(&repo, &[("a", "2")], "two"));
    repo.promote(c1, "staging", &r("production"), None, None).expect("p");
    let res = |s: &str| repo.resolve(&RevSpec::parse(s).expect("parse"));
    assert!(matches!(res("staging"), Ok(Resolved::Commit { id, .. }) if id == c2));
    assert!(matches!(res("staging~1"), Ok(Resolved::Commit { id, .. }) if id == c1));
    assert!(matches!(res("staging@{1}"), Ok(Resolved::Commit { id, .. }) if id == c1));
    assert!(matches!(res("a"), Ok(Resolved::Prompt { version, .. }) if version == ObjectId::of_blob(b"2")));
    assert!(matches!(res("a@production"), Ok(Resolved::Prompt { version, .. }) if version == ObjectId::of_blob(b"1")));
    let short = &c1.to_hex()[..8];
    assert!(
        matches!(res(&format!("a@{short}")), Ok(Resolved::Prompt { version, .. }) if version == ObjectId::of_blob(b"1"))
    );
    let vshort = &ObjectId::of_blob(b"1").to_hex()[..8];
    assert!(matches!(res(&format!("a@{vshort}")), Ok(Resolved::Prompt { kind: FileKind::Txt, .. })));
    assert!(res("staging~5").expect_err("too far").to_string().contains("ancestor"));
    assert!(res("nope").expect_err("unknown").to_string().contains("unknown revision"));
    assert!(res("b@staging").expect_err("missing").to_string().contains("does not exist"));
}

#[test]
fn ambiguous_prefixes_list_matches() {
    let repo = repo();
    // Make many prompt versions until two share a 4-hex prefix.
    let mut files = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut clash = None;
    for i in 0..5000 {
        let body = format!("v{i}");
        let p = ObjectId::of_blob(body.as_bytes()).to_hex()[..4].to_string();
        files.push((format!("p{i}"), body));
        if let Some(prev) = seen.insert(p.clone(), i) {
            clash = Some((p, prev, i));
            break;
        }
    }
    let (prefix, _, _) = clash.expect("a 4-hex clash within 5000 ids");
    let fs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    commit(&repo, &fs, "many");
    let e = repo.resolve(&RevSpec::parse(&prefix).expect("parse")).expect_err("ambiguous");
    assert!(matches!(e, RepoError::Ambiguous { ref matches, .. } if matches.len() >= 2), "{e}");
}

#[test]
fn per_prompt_log_follows_the_branch_only() {
    let repo = repo();
    let mut changes_a = Vec::new();
    for i in 0..40 {
        let a = if i % 7 == 0 { format!("a{i}") } else { "a-same".to_string() };
        let out = commit(&repo, &[("a", &a), ("b", &format!("b{i}"))], &format!("c{i}"));
        if let Outcome::Moved { new, .. } = out {
            if i == 0 || i % 7 == 0 || i == 1 {
                changes_a.push(new);
            }
        }
    }
    let h = head(&repo, "staging").expect("head");
    let log = repo.log_prompt(h, &n("a"), usize::MAX).expect("log");
    let got: Vec<ObjectId> = log.iter().map(|e| e.id).collect();
    // Naive answer: walk every commit and compare with its parent.
    let mut naive = Vec::new();
    for e in repo.log(h, usize::MAX).expect("log") {
        let t = repo.read_tree(&e.commit.tree).expect("tree");
        let pt = match e.commit.first_parent() {
            Some(p) => repo.commit_tree(&p).expect("tree"),
            None => promptctl_core::Tree::new(),
        };
        if t.get(&n("a")) != pt.get(&n("a")) {
            naive.push(e.id);
        }
    }
    assert_eq!(got, naive);
    assert!(got.len() >= 6);
    // A change on another branch does not show in staging's log.
    repo.create_branch(&r("feature"), Some(h)).expect("branch");
    repo.commit_snapshot(&r("feature"), vec![v("a", "feature-only")], &[], false, "f").expect("commit");
    assert_eq!(repo.log_prompt(h, &n("a"), usize::MAX).expect("log").len(), got.len());
    let fh = head(&repo, "feature").expect("feature");
    assert_eq!(repo.log_prompt(fh, &n("a"), usize::MAX).expect("log").len(), got.len() + 1);
}

#[test]
fn ancestor_at_matches_a_walk() {
    let repo = repo();
    let mut ids = Vec::new();
    for i in 0..70 {
        ids.push(id_of(&commit(&repo, &[("a", &format!("{i}"))], "c")));
    }
    let h = *ids.last().expect("last");
    for (g, id) in ids.iter().enumerate() {
        assert_eq!(repo.ancestor_at(&h, g as u64).expect("anc"), Some(*id), "gen {g}");
    }
    assert_eq!(repo.ancestor_at(&ids[3], 10).expect("anc"), None);
}

#[test]
fn fsck_finds_damage() {
    let repo = repo();
    commit(&repo, &[("a", "1")], "one");
    let bad = ObjectId::of_blob(b"1");
    repo.backend().raw_put(promptctl_store::Space::Blobs, bad.as_bytes(), b"tampered").expect("raw");
    let rep = repo.fsck().expect("fsck");
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert!(rep.problems[0].contains(&bad.to_hex()));
    let e = repo.read_blob(&bad).expect_err("damaged");
    assert!(matches!(e, RepoError::Damaged { .. }));
}

#[test]
fn trees_are_stored_as_bounded_delta_chains_and_read_back_exactly() {
    use promptctl_repo::treestore::{depth, MAX_CHAIN};
    let repo = repo();
    let mut expected = Vec::new();
    let files: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    let mut bodies: Vec<String> = files.iter().map(|f| format!("{f} base")).collect();
    for round in 0..100 {
        // One or two prompts change per commit, as in real histories.
        bodies[round % 50] = format!("changed in {round}");
        bodies[(round * 7) % 50] = format!("also changed in {round}");
        let mut set: Vec<(String, String)> = files.iter().cloned().zip(bodies.iter().cloned()).collect();
        if round % 10 == 3 {
            set.remove(7); // a deletion now and then
        }
        let refs: Vec<(&str, &str)> = set.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        if let Outcome::Moved { new, .. } = commit(&repo, &refs, &format!("r{round}")) {
            expected.push((new, refs.len()));
        }
    }
    let mut max_depth = 0;
    let mut total = 0usize;
    for (c, n) in &expected {
        let commit = repo.read_commit(c).expect("commit");
        let tree = repo.read_tree(&commit.tree).expect("tree");
        assert_eq!(tree.len(), *n);
        let raw =
            repo.backend().get(promptctl_store::Space::Trees, commit.tree.as_bytes()).expect("get").expect("stored");
        max_depth = max_depth.max(depth(&raw).expect("depth"));
        total += raw.len();
    }
    assert!(max_depth > 0 && max_depth < MAX_CHAIN, "deltas are used and bounded: {max_depth}");
    let full: usize = expected.iter().map(|(c, _)| repo.commit_tree(c).expect("t").encode().len()).sum();
    assert!(total * 4 < full, "delta storage is much smaller: {total} vs {full} bytes");
    assert!(repo.fsck().expect("fsck").problems.is_empty());
    // Damage one delta in the middle of a chain: fsck names it and the trees built on it.
    let (mid, _) = expected[40];
    let tid = repo.read_commit(&mid).expect("c").tree;
    let mut raw = repo.backend().get(promptctl_store::Space::Trees, tid.as_bytes()).expect("get").expect("stored");
    assert_eq!(raw[0], b'D');
    let last = raw.len() - 2;
    raw[last] ^= 1;
    repo.backend().raw_put(promptctl_store::Space::Trees, tid.as_bytes(), &raw).expect("raw");
    let problems = repo.fsck().expect("fsck").problems;
    assert!(problems.iter().any(|p| p.contains(&tid.to_hex())), "{problems:?}");
    assert!(repo.read_tree(&tid).is_err());
}

#[test]
fn version_ids_resolve_to_their_prompt_and_hex_names_are_ambiguous() {
    let repo = repo();
    commit(&repo, &[("a", "body of a"), ("b", "body of b")], "one");
    let va = ObjectId::of_blob(b"body of a");
    let res = |s: &str| repo.resolve(&RevSpec::parse(s).expect("parse"));
    // A bare version id finds the prompt it was committed as, with its kind.
    match res(&va.to_hex()[..10]).expect("bare version") {
        Resolved::Prompt { name, kind, .. } => {
            assert_eq!(name.expect("name").as_str(), "a");
            assert_eq!(kind, FileKind::Txt);
        }
        other => panic!("{other:?}"),
    }
    // `b@<a's version>` is not a version of b.
    let e = res(&format!("b@{}", &va.to_hex()[..10])).expect_err("not b's");
    assert!(e.to_string().contains("never committed as prompt `b`"), "{e}");
    // A prompt whose name is also an id prefix: the bare word is ambiguous.
    let hexname = va.to_hex()[..6].to_string();
    repo.commit_snapshot(&r("staging"), vec![v(&hexname, "hex-named")], &[], false, "hex").expect("commit");
    let e = res(&hexname).expect_err("two things");
    assert!(matches!(e, RepoError::Ambiguous { .. }) && e.to_string().contains("on `staging`"), "{e}");
    assert!(matches!(res(&format!("{hexname}@staging")), Ok(Resolved::Prompt { .. })));
}
