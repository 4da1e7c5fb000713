//! One suite, two backends: every case below runs against `MemBackend` and `SledBackend`
//! (see `conformance!` at the bottom), so the in-memory store used by other crates' tests cannot
//! drift from the real one. Cases take a `Harness` so they can reopen a sled store mid-test and
//! check that what they wrote persisted; reopening a `MemBackend` is a no-op.
//!
//! After the shared cases come sled-only ones: opening, the process lock, and a SIGKILL test.
//! Those that need a second process re-run this test binary with `CHILD_ENV` set (see
//! `child_process_entry`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use promptctl_core::{Action, Actor, ObjectId, RefName, ReflogEntry, Timestamp};
use promptctl_store::{
    Backend, BackendError, MemBackend, OpenOptions, RefUpdate, RefValue, SledBackend, Space, Transaction,
};

// ---------------------------------------------------------------------------------------------
// Harness and helpers

trait Harness {
    fn b(&self) -> &dyn Backend;
    /// Closes and reopens the store (sled); keeps the same instance (mem).
    fn reopen(&mut self);
}

struct Mem(MemBackend);

impl Harness for Mem {
    fn b(&self) -> &dyn Backend {
        &self.0
    }
    fn reopen(&mut self) {}
}

struct Sled {
    // Declared before `dir` so the store closes before its directory is removed.
    store: Option<SledBackend>,
    dir: tempfile::TempDir,
}

fn opts(create: bool, lock_timeout_ms: u64) -> OpenOptions {
    OpenOptions { create, lock_timeout: Duration::from_millis(lock_timeout_ms) }
}

impl Sled {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledBackend::open(&dir.path().join("store"), opts(true, 2000)).expect("create store");
        Sled { store: Some(store), dir }
    }
}

impl Harness for Sled {
    fn b(&self) -> &dyn Backend {
        self.store.as_ref().expect("store is open")
    }
    fn reopen(&mut self) {
        // Drop first: sled holds an exclusive lock until the old handle is gone.
        self.store = None;
        let path = self.dir.path().join("store");
        self.store = Some(SledBackend::open(&path, opts(false, 2000)).expect("reopen store"));
    }
}

fn name(s: &str) -> RefName {
    s.parse().expect("ref name")
}

fn id(tag: &str) -> ObjectId {
    ObjectId::of_blob(tag.as_bytes())
}

/// A reflog entry with a deliberately wrong `prev`: backends must ignore it and set their own.
fn entry(refname: &RefName, old: RefValue, new: RefValue, action: Action, message: &str) -> ReflogEntry {
    ReflogEntry {
        refname: refname.clone(),
        old,
        new,
        action,
        actor: Actor::new("conformance").expect("actor"),
        time: Timestamp::parse("2026-01-02T03:04:05Z").expect("time"),
        message: message.into(),
        prev: Some(id("bogus prev")),
    }
}

fn update(refname: &str, expected: Option<RefValue>, new: Option<RefValue>, message: &str) -> RefUpdate {
    let n = name(refname);
    let old = expected.flatten();
    let action = if new.is_none() { Action::Delete } else { Action::Commit };
    RefUpdate { entry: entry(&n, old, new.flatten(), action, message), name: n, expected, new }
}

fn put(space: Space, key: &[u8], value: &[u8]) -> (Space, Vec<u8>, Vec<u8>) {
    (space, key.to_vec(), value.to_vec())
}

fn tx(puts: Vec<(Space, Vec<u8>, Vec<u8>)>, refs: Vec<RefUpdate>) -> Transaction {
    Transaction { puts, refs }
}

fn keys(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    pairs.iter().map(|(k, _)| k.clone()).collect()
}

fn messages(log: &[ReflogEntry]) -> Vec<&str> {
    log.iter().map(|e| e.message.as_str()).collect()
}

/// Every entry's `prev` is the hash of the one before it, recomputed here; the first has none.
fn assert_chained(log: &[ReflogEntry]) {
    assert!(!log.is_empty(), "reflog is empty");
    assert_eq!(log[0].prev, None, "first entry must not link anywhere");
    for pair in log.windows(2) {
        assert_eq!(pair[1].prev, Some(pair[0].hash()), "broken link after {:?}", pair[0].message);
    }
}

fn expect_conflict(result: Result<(), BackendError>, refname: &str) {
    match result {
        Err(BackendError::Conflict { name, .. }) => assert_eq!(name.as_str(), refname),
        other => panic!("expected a conflict on `{refname}`, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared cases

fn get_and_put(h: &mut dyn Harness) {
    let b = h.b();
    assert_eq!(b.get(Space::Blobs, b"k").expect("get"), None);
    b.commit_tx(tx(
        vec![put(Space::Blobs, b"k", b"blob"), put(Space::Trees, b"k", b"tree"), put(Space::Commits, b"c", b"")],
        vec![],
    ))
    .expect("commit");
    // Spaces are separate key spaces: the same key holds different values.
    assert_eq!(b.get(Space::Blobs, b"k").expect("get").as_deref(), Some(&b"blob"[..]));
    assert_eq!(b.get(Space::Trees, b"k").expect("get").as_deref(), Some(&b"tree"[..]));
    assert_eq!(b.get(Space::Commits, b"k").expect("get"), None);
    // An empty value is a value, not an absence.
    assert_eq!(b.get(Space::Commits, b"c").expect("get"), Some(vec![]));

    b.commit_tx(tx(vec![put(Space::Blobs, b"k", b"blob2")], vec![])).expect("overwrite");
    assert_eq!(b.get(Space::Blobs, b"k").expect("get").as_deref(), Some(&b"blob2"[..]));

    h.reopen();
    let b = h.b();
    assert_eq!(b.get(Space::Blobs, b"k").expect("get").as_deref(), Some(&b"blob2"[..]));
    assert_eq!(b.get(Space::Trees, b"k").expect("get").as_deref(), Some(&b"tree"[..]));
    assert_eq!(b.get(Space::Commits, b"c").expect("get"), Some(vec![]));
}

fn scan_order_and_limits(h: &mut dyn Harness) {
    let b = h.b();
    let inserted: [&[u8]; 9] = [b"b", b"ab\xff\xff", b"abc", b"a", b"ab", b"ab\xff", b"aa", b"\xff", b"\xff\x00"];
    let mut puts: Vec<_> = inserted.iter().map(|k| put(Space::PromptIndex, k, &[k.len() as u8])).collect();
    // A key in another space must never show up in these scans.
    puts.push(put(Space::Blobs, b"abz", b"other space"));
    b.commit_tx(tx(puts, vec![])).expect("commit");

    let ab: Vec<Vec<u8>> = [&b"ab"[..], b"abc", b"ab\xff", b"ab\xff\xff"].iter().map(|k| k.to_vec()).collect();
    let got = b.scan_prefix(Space::PromptIndex, b"ab", usize::MAX).expect("scan");
    assert_eq!(keys(&got), ab);
    assert_eq!(got[1].1, vec![3], "values come with their keys");
    assert_eq!(keys(&b.scan_prefix(Space::PromptIndex, b"ab", 2).expect("scan")), ab[..2].to_vec());
    let rev: Vec<Vec<u8>> = ab.iter().rev().cloned().collect();
    assert_eq!(keys(&b.scan_prefix_rev(Space::PromptIndex, b"ab", usize::MAX).expect("scan")), rev);
    assert_eq!(keys(&b.scan_prefix_rev(Space::PromptIndex, b"ab", 2).expect("scan")), rev[..2].to_vec());
    assert!(b.scan_prefix(Space::PromptIndex, b"ab", 0).expect("scan").is_empty());
    assert!(b.scan_prefix_rev(Space::PromptIndex, b"ab", 0).expect("scan").is_empty());

    // A prefix of all 0xff has no upper bound key; the reverse scan must still start at the end.
    let ff = vec![b"\xff".to_vec(), b"\xff\x00".to_vec()];
    assert_eq!(keys(&b.scan_prefix(Space::PromptIndex, b"\xff", 10).expect("scan")), ff);
    let ff_rev: Vec<Vec<u8>> = ff.iter().rev().cloned().collect();
    assert_eq!(keys(&b.scan_prefix_rev(Space::PromptIndex, b"\xff", 10).expect("scan")), ff_rev);

    // The empty prefix is the whole space, in byte order.
    let mut all: Vec<Vec<u8>> = inserted.iter().map(|k| k.to_vec()).collect();
    all.sort();
    assert_eq!(keys(&b.scan_prefix(Space::PromptIndex, b"", usize::MAX).expect("scan")), all);
    all.reverse();
    assert_eq!(keys(&b.scan_prefix_rev(Space::PromptIndex, b"", 3).expect("scan")), all[..3].to_vec());

    assert!(b.scan_prefix(Space::PromptIndex, b"zz", 10).expect("scan").is_empty());
    assert!(b.scan_prefix_rev(Space::CommitMeta, b"", 10).expect("scan").is_empty());
}

fn scan_big_endian_keys_sort_numerically(h: &mut dyn Harness) {
    // The prompt index relies on this: name ‖ 0 ‖ generation (BE) scans newest-first with rev.
    let b = h.b();
    let key = |g: u64| [&b"p\0"[..], &g.to_be_bytes()].concat();
    let gens = [256u64, 1, 70_000, 2, 255];
    b.commit_tx(tx(gens.iter().map(|g| put(Space::PromptIndex, &key(*g), b"")).collect(), vec![])).expect("commit");
    let newest = b.scan_prefix_rev(Space::PromptIndex, b"p\0", 2).expect("scan");
    assert_eq!(keys(&newest), vec![key(70_000), key(256)]);
    let oldest = b.scan_prefix(Space::PromptIndex, b"p\0", usize::MAX).expect("scan");
    assert_eq!(keys(&oldest), [1, 2, 255, 256, 70_000].map(key).to_vec());
}

fn cas_success_and_conflict(h: &mut dyn Harness) {
    let b = h.b();
    let (c1, c2, c3) = (id("c1"), id("c2"), id("c3"));
    b.commit_tx(tx(vec![put(Space::Commits, c1.as_bytes(), b"one")], vec![update("main", None, Some(Some(c1)), "m1")]))
        .expect("create");
    assert_eq!(b.get_ref(&name("main")).expect("get_ref"), Some(Some(c1)));

    // Wrong expectation: nothing of the transaction lands, not even its puts.
    let stale = tx(
        vec![put(Space::Commits, c3.as_bytes(), b"three"), put(Space::Blobs, b"b", b"blob")],
        vec![update("main", Some(Some(c2)), Some(Some(c3)), "stale")],
    );
    match b.commit_tx(stale) {
        Err(BackendError::Conflict { name, expected, actual }) => {
            assert_eq!(name.as_str(), "main");
            assert_eq!(expected, c2.to_hex());
            assert_eq!(actual, c1.to_hex());
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(b.get(Space::Commits, c3.as_bytes()).expect("get"), None);
    assert_eq!(b.get(Space::Blobs, b"b").expect("get"), None);
    assert_eq!(b.get_ref(&name("main")).expect("get_ref"), Some(Some(c1)));
    assert_eq!(messages(&b.reflog(&name("main")).expect("reflog")), ["m1"]);

    // Creating a ref that exists, or expecting an unborn ref that holds a value, also conflicts.
    expect_conflict(b.commit_tx(tx(vec![], vec![update("main", None, Some(Some(c2)), "dup")])), "main");
    expect_conflict(b.commit_tx(tx(vec![], vec![update("main", Some(None), Some(Some(c2)), "x")])), "main");
    // Expecting a ref that does not exist conflicts too.
    expect_conflict(b.commit_tx(tx(vec![], vec![update("ghost", Some(Some(c1)), Some(Some(c2)), "x")])), "ghost");
    assert_eq!(b.get_ref(&name("ghost")).expect("get_ref"), None);

    // One conflicting update sinks the whole transaction, including an earlier valid update.
    let mixed = tx(
        vec![put(Space::Commits, c2.as_bytes(), b"two")],
        vec![update("other", None, Some(Some(c2)), "o1"), update("main", Some(Some(c3)), Some(Some(c2)), "bad")],
    );
    expect_conflict(b.commit_tx(mixed), "main");
    assert_eq!(b.get_ref(&name("other")).expect("get_ref"), None);
    assert!(b.reflog(&name("other")).expect("reflog").is_empty());
    assert!(!b.reflog_names().expect("names").contains(&name("other")));
    assert_eq!(b.get(Space::Commits, c2.as_bytes()).expect("get"), None);

    // The right expectation moves it.
    b.commit_tx(tx(
        vec![put(Space::Commits, c2.as_bytes(), b"two")],
        vec![update("main", Some(Some(c1)), Some(Some(c2)), "m2")],
    ))
    .expect("move");
    assert_eq!(b.get_ref(&name("main")).expect("get_ref"), Some(Some(c2)));

    h.reopen();
    let b = h.b();
    assert_eq!(b.get_ref(&name("main")).expect("get_ref"), Some(Some(c2)));
    assert_eq!(b.get(Space::Commits, c2.as_bytes()).expect("get").as_deref(), Some(&b"two"[..]));
    assert_eq!(b.get(Space::Commits, c3.as_bytes()).expect("get"), None);
    assert_eq!(messages(&b.reflog(&name("main")).expect("reflog")), ["m1", "m2"]);
}

fn unborn_and_deleted_refs(h: &mut dyn Harness) {
    let b = h.b();
    let c1 = id("c1");
    b.commit_tx(tx(vec![], vec![update("heads/feature", None, Some(None), "create")])).expect("create unborn");
    assert_eq!(b.get_ref(&name("heads/feature")).expect("get_ref"), Some(None));
    assert_eq!(b.list_refs().expect("list"), vec![(name("heads/feature"), None)]);

    b.commit_tx(tx(vec![], vec![update("heads/feature", Some(None), Some(Some(c1)), "first commit")])).expect("born");
    assert_eq!(b.get_ref(&name("heads/feature")).expect("get_ref"), Some(Some(c1)));

    b.commit_tx(tx(vec![], vec![update("heads/feature", Some(Some(c1)), None, "delete")])).expect("delete");
    assert_eq!(b.get_ref(&name("heads/feature")).expect("get_ref"), None);
    assert!(b.list_refs().expect("list").is_empty());

    // The deleted ref keeps its reflog, and is still listed among reflogs.
    let log = b.reflog(&name("heads/feature")).expect("reflog");
    assert_eq!(messages(&log), ["create", "first commit", "delete"]);
    assert_eq!(log[2].action, Action::Delete);
    assert_chained(&log);
    assert_eq!(b.reflog_names().expect("names"), vec![name("heads/feature")]);

    // Re-creating it continues the same chain rather than starting a new one.
    b.commit_tx(tx(vec![], vec![update("heads/feature", None, Some(Some(c1)), "recreate")])).expect("recreate");
    h.reopen();
    let b = h.b();
    let log = b.reflog(&name("heads/feature")).expect("reflog");
    assert_eq!(messages(&log), ["create", "first commit", "delete", "recreate"]);
    assert_chained(&log);
    assert_eq!(b.get_ref(&name("heads/feature")).expect("get_ref"), Some(Some(c1)));
}

fn reflog_order_and_chain(h: &mut dyn Harness) {
    let b = h.b();
    let mut prod: RefValue = None;
    let mut staging: RefValue = None;
    // Interleave two refs so that a chain that leaked across refs would be caught.
    for i in 0..12 {
        let next = Some(id(&format!("c{i}")));
        let (refname, cur) = if i % 3 == 0 { ("heads/production", &mut prod) } else { ("heads/staging", &mut staging) };
        let expected = if i < 2 { None } else { Some(*cur) };
        b.commit_tx(tx(vec![], vec![update(refname, expected, Some(next), &format!("move {i}"))])).expect("move");
        *cur = next;
    }
    h.reopen();
    let b = h.b();
    let prod_log = b.reflog(&name("heads/production")).expect("reflog");
    assert_eq!(messages(&prod_log), ["move 0", "move 3", "move 6", "move 9"]);
    assert_chained(&prod_log);
    let staging_log = b.reflog(&name("heads/staging")).expect("reflog");
    assert_eq!(
        messages(&staging_log),
        ["move 1", "move 2", "move 4", "move 5", "move 7", "move 8", "move 10", "move 11"]
    );
    assert_chained(&staging_log);
    // The entries are stored as given, apart from `prev`.
    assert_eq!(staging_log[1].old, Some(id("c1")));
    assert_eq!(staging_log[1].new, Some(id("c2")));
    assert_eq!(staging_log[1].actor.as_str(), "conformance");
    assert_eq!(staging_log[1].refname, name("heads/staging"));

    assert!(b.reflog(&name("heads/none")).expect("reflog").is_empty());
    // `heads/production` must not pick up entries of a ref whose name it prefixes.
    b.commit_tx(tx(vec![], vec![update("heads/production-2", None, Some(None), "p2")])).expect("create");
    assert_eq!(b.reflog(&name("heads/production")).expect("reflog").len(), 4);
    assert_eq!(b.reflog(&name("heads/production-2")).expect("reflog").len(), 1);
}

fn same_ref_twice_in_one_tx(h: &mut dyn Harness) {
    let b = h.b();
    let (c1, c2) = (id("c1"), id("c2"));
    // The second update sees the first one's result.
    b.commit_tx(tx(
        vec![],
        vec![update("t", None, Some(None), "create"), update("t", Some(None), Some(Some(c1)), "set")],
    ))
    .expect("commit");
    assert_eq!(b.get_ref(&name("t")).expect("get_ref"), Some(Some(c1)));
    let log = b.reflog(&name("t")).expect("reflog");
    assert_eq!(messages(&log), ["create", "set"]);
    assert_chained(&log);

    // And is checked against it: expecting the pre-transaction value a second time conflicts.
    let twice = tx(
        vec![],
        vec![update("t", Some(Some(c1)), Some(Some(c2)), "a"), update("t", Some(Some(c1)), Some(None), "b")],
    );
    expect_conflict(b.commit_tx(twice), "t");
    assert_eq!(b.get_ref(&name("t")).expect("get_ref"), Some(Some(c1)));
    assert_eq!(b.reflog(&name("t")).expect("reflog").len(), 2);
}

fn list_refs_and_reflog_names_sorted(h: &mut dyn Harness) {
    let b = h.b();
    let names = ["tags/v1.0.0", "heads/staging", "heads/production", "heads/a/b", "heads/a"];
    let refs = names.iter().enumerate().map(|(i, n)| update(n, None, Some(Some(id(&i.to_string()))), "create"));
    b.commit_tx(tx(vec![], refs.collect())).expect("create all");
    b.commit_tx(tx(
        vec![],
        vec![update("heads/gone", None, Some(None), "c"), update("heads/gone", Some(None), None, "d")],
    ))
    .expect("create and delete");
    h.reopen();
    let b = h.b();
    let listed: Vec<String> = b.list_refs().expect("list").into_iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed, ["heads/a", "heads/a/b", "heads/production", "heads/staging", "tags/v1.0.0"]);
    assert_eq!(b.list_refs().expect("list")[4].1, Some(id("0")));
    let logs: Vec<String> = b.reflog_names().expect("names").into_iter().map(|n| n.to_string()).collect();
    assert_eq!(logs, ["heads/a", "heads/a/b", "heads/gone", "heads/production", "heads/staging", "tags/v1.0.0"]);
}

fn raw_put_bypasses_everything(h: &mut dyn Harness) {
    let b = h.b();
    let c = id("commit");
    b.commit_tx(tx(vec![put(Space::Commits, c.as_bytes(), b"good")], vec![])).expect("commit");
    b.raw_put(Space::Commits, c.as_bytes(), b"damaged").expect("raw_put");
    b.raw_put(Space::CommitMeta, b"new", b"x").expect("raw_put");
    assert_eq!(b.get(Space::Commits, c.as_bytes()).expect("get").as_deref(), Some(&b"damaged"[..]));
    h.reopen();
    let b = h.b();
    assert_eq!(b.get(Space::Commits, c.as_bytes()).expect("get").as_deref(), Some(&b"damaged"[..]));
    assert_eq!(keys(&b.scan_prefix(Space::CommitMeta, b"", 10).expect("scan")), vec![b"new".to_vec()]);
    assert!(b.list_refs().expect("list").is_empty(), "raw_put must not touch refs");
}

fn concurrent_cas_has_one_winner(h: &mut dyn Harness) {
    let b = h.b();
    let base = id("base");
    b.commit_tx(tx(vec![], vec![update("race", None, Some(Some(base)), "base")])).expect("create");
    let results: Vec<Result<(), BackendError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    let mine = id(&format!("racer {i}"));
                    b.commit_tx(tx(
                        vec![put(Space::Commits, mine.as_bytes(), b"c")],
                        vec![update("race", Some(Some(base)), Some(Some(mine)), &format!("racer {i}"))],
                    ))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "exactly one racer wins: {results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, BackendError::Conflict { .. }), "losers get a conflict, got {e:?}");
        }
    }
    let winner = id(&format!("racer {}", winners[0]));
    assert_eq!(b.get_ref(&name("race")).expect("get_ref"), Some(Some(winner)));
    let log = b.reflog(&name("race")).expect("reflog");
    assert_eq!(log.len(), 2);
    assert_chained(&log);
    // Losers' objects were not written either.
    let written =
        (0..8).filter(|i| b.get(Space::Commits, id(&format!("racer {i}")).as_bytes()).ok().flatten().is_some());
    assert_eq!(written.count(), 1);
}

fn empty_transaction_is_a_no_op(h: &mut dyn Harness) {
    let b = h.b();
    b.commit_tx(Transaction::default()).expect("empty tx");
    b.flush().expect("flush");
    assert!(b.list_refs().expect("list").is_empty());
    assert!(b.reflog_names().expect("names").is_empty());
    assert!(b.scan_prefix(Space::Blobs, b"", 10).expect("scan").is_empty());
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod mem {
            $( #[test] fn $case() { super::$case(&mut super::Mem(promptctl_store::MemBackend::new())) } )*
        }
        mod sled {
            $( #[test] fn $case() { super::$case(&mut super::Sled::new()) } )*
        }
    };
}

conformance!(
    get_and_put,
    scan_order_and_limits,
    scan_big_endian_keys_sort_numerically,
    cas_success_and_conflict,
    unborn_and_deleted_refs,
    reflog_order_and_chain,
    same_ref_twice_in_one_tx,
    list_refs_and_reflog_names_sorted,
    raw_put_bypasses_everything,
    concurrent_cas_has_one_winner,
    empty_transaction_is_a_no_op,
);

// ---------------------------------------------------------------------------------------------
// sled only: opening, locking, crashes

#[test]
fn open_without_create_refuses_a_missing_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in [dir.path().to_path_buf(), dir.path().join("nope")] {
        match SledBackend::open(&path, opts(false, 100)) {
            Err(BackendError::Io { path: p, message }) => {
                assert_eq!(p, path.display().to_string());
                assert!(message.contains("promptctl init"), "{message}");
            }
            other => panic!("expected an Io error for {}, got {other:?}", path.display()),
        }
    }
    // Refusing must not leave a half-made store behind.
    assert!(!dir.path().join("nope").exists());
    assert!(!dir.path().join("db").exists());
}

#[test]
fn a_second_open_in_the_same_process_is_locked() {
    // sled's lock is a `flock` on its `db` file, which conflicts between two open file
    // descriptions even in one process.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let _held = SledBackend::open(&path, opts(true, 100)).expect("create");
    let started = Instant::now();
    match SledBackend::open(&path, opts(false, 200)) {
        Err(BackendError::Locked { path: p, waited_ms }) => {
            assert_eq!(p, path.display().to_string());
            assert!(waited_ms >= 200, "gave up early: {waited_ms} ms");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2), "waited far past the timeout");
}

#[test]
fn open_waits_for_the_lock_to_be_released() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let held = SledBackend::open(&path, opts(true, 100)).expect("create");
    held.commit_tx(tx(vec![put(Space::Blobs, b"k", b"v")], vec![])).expect("commit");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        drop(held);
    });
    let started = Instant::now();
    let store = SledBackend::open(&path, opts(false, 5000)).expect("open once released");
    assert!(started.elapsed() >= Duration::from_millis(100), "it cannot have opened while the lock was held");
    assert_eq!(store.get(Space::Blobs, b"k").expect("get").as_deref(), Some(&b"v"[..]));
    releaser.join().expect("releaser");
}

/// Set in a child process to the task it should run (see `child_process_entry`).
const CHILD_ENV: &str = "PROMPTCTL_STORE_CONFORMANCE_CHILD";

/// Runs this test binary again, running only `child_process_entry`, with `task` in `CHILD_ENV`.
fn child(task: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    cmd.args(["child_process_entry", "--exact", "--nocapture", "--test-threads=1"]).env(CHILD_ENV, task);
    cmd
}

/// The body of a child process; a no-op (passing) test when run normally.
#[test]
fn child_process_entry() {
    let Ok(task) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (kind, dir) = task.split_once(':').expect("task is kind:dir");
    let dir = Path::new(dir);
    match kind {
        "open" => {
            let result = SledBackend::open(dir, opts(false, 200)).map(drop);
            println!("CHILD-RESULT {result:?}");
        }
        "churn" => churn(dir),
        _ => panic!("unknown child task {kind}"),
    }
}

#[test]
fn another_process_gets_locked_naming_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let held = SledBackend::open(&path, opts(true, 100)).expect("create");
    let out = child(&format!("open:{}", path.display())).output().expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // libtest prints `test child_process_entry ... ` before the child's own output.
    let line = stdout.lines().find_map(|l| l.split_once("CHILD-RESULT ")).map(|(_, r)| r);
    let line = line.expect("child printed its result");
    let want = format!("Err(Locked {{ path: {:?}, waited_ms: ", path.display().to_string());
    assert!(line.starts_with(&want), "got {line}");
    let waited: u64 = line[want.len()..].trim_end_matches(" })").parse().expect("waited_ms");
    assert!(waited >= 200, "gave up early: {waited} ms");

    // Once released, the other process opens it.
    drop(held);
    let out = child(&format!("open:{}", path.display())).output().expect("run child");
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-RESULT Ok(())"));
}

/// Commits until killed: each transaction writes a new commit object and moves `heads/main` onto
/// it, so a store where the ref names a missing object (or disagrees with its reflog) shows a
/// torn write. It gives up by itself after a while so that a broken parent leaves no runaway.
fn churn(dir: &Path) {
    let store = SledBackend::open(dir, opts(true, 5000)).expect("open");
    let main = name("heads/main");
    let mut cur = store.get_ref(&main).expect("get_ref");
    let deadline = Instant::now() + Duration::from_secs(20);
    for i in 0u64.. {
        if Instant::now() > deadline {
            return;
        }
        let next = id(&format!("{}-{i}", std::process::id()));
        // Values big enough that one transaction spans several sled log records.
        let body = vec![i as u8; 1024];
        store
            .commit_tx(tx(
                vec![put(Space::Commits, next.as_bytes(), &body), put(Space::Blobs, next.as_bytes(), &body)],
                vec![update("heads/main", cur, Some(Some(next)), &format!("churn {i}"))],
            ))
            .expect("commit");
        cur = Some(Some(next));
        if i == 0 {
            println!("READY");
        }
    }
}

#[test]
fn sigkill_leaves_refs_consistent_with_objects_and_reflog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    for (round, kill_after_ms) in [5u64, 40, 13, 90, 27, 150].into_iter().enumerate() {
        let mut proc = child(&format!("churn:{}", path.display())).stdout(Stdio::piped()).spawn().expect("spawn churn");
        let stdout = proc.stdout.take().expect("stdout");
        let ready = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.ends_with("READY"));
        assert!(ready, "round {round}: churn never got going");
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        proc.kill().expect("SIGKILL"); // `Child::kill` sends SIGKILL on Unix.
        proc.wait().expect("reap");

        let store = SledBackend::open(&path, opts(false, 5000)).expect("reopen after kill");
        let main = name("heads/main");
        let head = store.get_ref(&main).expect("get_ref").expect("main exists").expect("main is born");
        assert!(
            store.get(Space::Commits, head.as_bytes()).expect("get").is_some(),
            "round {round}: ref names a missing commit"
        );
        assert!(store.get(Space::Blobs, head.as_bytes()).expect("get").is_some(), "round {round}: missing blob");
        let log = store.reflog(&main).expect("reflog");
        assert_chained(&log);
        assert_eq!(log.last().and_then(|e| e.new), Some(head), "round {round}: reflog and ref disagree");
        for pair in log.windows(2) {
            assert_eq!(pair[1].old, pair[0].new, "round {round}: reflog skips a move");
        }
    }
}
