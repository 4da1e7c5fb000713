//! The on-disk [`Backend`]: one sled database per store.
//!
//! Layout (one sled tree each):
//! - one tree per [`Space`], named by [`Space::as_str`], keys and values as given;
//! - `refs`: ref name → `[0]` (unborn) or `[1] ‖ 32-byte id`;
//! - `reflog`: ref name ‖ `0x00` ‖ seq (u64 big-endian) → [`ReflogEntry::encode`] bytes. Ref names
//!   never contain NUL, so `name ‖ 0x00` prefixes exactly one ref's entries, in seq order;
//! - `reflog-heads`: ref name → number of entries (u64 big-endian). sled transactions cannot
//!   scan, so this is how a transaction finds the ref's last entry (to chain `prev`) and the next
//!   seq; reading it inside the transaction also makes two writers of one reflog conflict.
//!
//! Every [`Backend::commit_tx`] is one sled transaction over all these trees, then a flush, so a
//! killed process leaves each ref at its old or its new value, and never pointing at an object
//! whose put was lost (the put is in the same transaction).

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use promptctl_core::reflog::REFLOG_HEADER;
use promptctl_core::{ObjectId, RefName, ReflogEntry};
use sled::transaction::{ConflictableTransactionError as TxError, TransactionError};
use sled::Transactional;

use crate::backend::{Backend, BackendError, RefValue, Result, Space, Transaction};

/// How to open a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Create the store if the directory holds none (`promptctl init`); otherwise a missing
    /// store is an error.
    pub create: bool,
    /// How long to wait for another process to release the store before giving up.
    pub lock_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { create: false, lock_timeout: Duration::from_secs(5) }
    }
}

/// How often to retry while another process holds the lock: sled fails at once instead of
/// blocking, and promptctl commands are short, so a small poll interval keeps the wait short.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// sled's page cache. A CLI command reads a few objects and exits, so the 1 GiB default only
/// invites memory growth on big scans; 64 MiB still caches a whole typical store.
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

/// Tree indexes after the spaces (which take `0..Space::ALL.len()`, by `space as usize`).
const REFS: usize = Space::ALL.len();
const REFLOG: usize = REFS + 1;
const HEADS: usize = REFS + 2;
const EXTRA_TREES: [&str; 3] = ["refs", "reflog", "reflog-heads"];

pub struct SledBackend {
    db: sled::Db,
    /// Indexed by `space as usize`, then [`REFS`], [`REFLOG`], [`HEADS`].
    trees: Vec<sled::Tree>,
    path: PathBuf,
}

impl std::fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledBackend").field("path", &self.path).finish_non_exhaustive()
    }
}

fn is_lock_error(e: &sled::Error) -> bool {
    // sled 0.34 wraps the failed `try_lock_exclusive` in an `Other` io error with this message.
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock
        || io.to_string().contains("could not acquire lock"))
}

impl SledBackend {
    /// Opens (or with `opts.create`, creates) the store in `dir`, waiting up to
    /// `opts.lock_timeout` for another holder to let go. sled's lock is an exclusive `flock` on
    /// `dir/db`, so a second open of one store conflicts even within one process.
    pub fn open(dir: &Path, opts: OpenOptions) -> Result<Self> {
        let path = dir.to_path_buf();
        // sled creates whatever is missing, so "does a store exist" is ours to check. `db` is
        // the file sled writes first and locks.
        if !opts.create && !dir.join("db").is_file() {
            let message = if dir.is_dir() {
                "no promptctl store in this directory; run `promptctl init` to create one"
            } else {
                "no such directory; run `promptctl init` to create a store"
            };
            return Err(BackendError::Io { path: path.display().to_string(), message: message.into() });
        }

        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            // No background flusher thread: `commit_tx` flushes explicitly, and a short-lived
            // process should not spawn a thread that only races its exit.
            .flush_every_ms(None)
            .mode(sled::Mode::LowSpace);

        let started = Instant::now();
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_error(&e) => {
                    let waited = started.elapsed();
                    if waited >= opts.lock_timeout {
                        return Err(BackendError::Locked {
                            path: path.display().to_string(),
                            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    thread::sleep(LOCK_POLL.min(opts.lock_timeout - waited));
                }
                Err(e) => return Err(sled_error(&path, e)),
            }
        };

        let names = Space::ALL.iter().map(Space::as_str).chain(EXTRA_TREES);
        let trees = names.map(|n| db.open_tree(n)).collect::<sled::Result<Vec<_>>>();
        let trees = trees.map_err(|e| sled_error(&path, e))?;
        Ok(SledBackend { db, trees, path })
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn space(&self, space: Space) -> &sled::Tree {
        &self.trees[space as usize]
    }

    fn err(&self, e: sled::Error) -> BackendError {
        sled_error(&self.path, e)
    }

    fn corrupt(&self, what: String) -> BackendError {
        BackendError::Corrupt(format!("{what} (store at {})", self.path.display()))
    }

    fn ref_name(&self, key: &[u8]) -> Result<RefName> {
        let name = std::str::from_utf8(key).ok().and_then(|s| s.parse().ok());
        name.ok_or_else(|| self.corrupt(format!("invalid ref name {:?}", String::from_utf8_lossy(key))))
    }

    fn decode_ref(&self, name: &RefName, bytes: &[u8]) -> Result<RefValue> {
        decode_ref(bytes).ok_or_else(|| self.corrupt(format!("ref `{name}` has a malformed value")))
    }

    fn scan(&self, space: Space, prefix: &[u8], limit: usize, rev: bool) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let iter = self.space(space).scan_prefix(prefix);
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if rev { Box::new(iter.rev()) } else { Box::new(iter) };
        iter.take(limit).map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(|e| self.err(e))).collect()
    }
}

fn sled_error(path: &Path, e: sled::Error) -> BackendError {
    let path_str = path.display().to_string();
    match e {
        sled::Error::Corruption { at, .. } => match at {
            Some(at) => BackendError::Corrupt(format!("sled reports corruption at {at} in {path_str}")),
            None => BackendError::Corrupt(format!("sled reports corruption in {path_str}")),
        },
        sled::Error::Io(io) => BackendError::Io { path: path_str, message: io.to_string() },
        other => BackendError::Io { path: path_str, message: other.to_string() },
    }
}

fn encode_ref(value: RefValue) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(id) => [&[1u8][..], &id.as_bytes()[..]].concat(),
    }
}

fn decode_ref(bytes: &[u8]) -> Option<RefValue> {
    match bytes {
        [0] => Some(None),
        [1, id @ ..] => ObjectId::from_slice(id).map(Some),
        _ => None,
    }
}

fn reflog_prefix(name: &RefName) -> Vec<u8> {
    [name.as_str().as_bytes(), &[0]].concat()
}

fn reflog_key(name: &RefName, seq: u64) -> Vec<u8> {
    [reflog_prefix(name).as_slice(), &seq.to_be_bytes()].concat()
}

fn decode_count(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

impl Backend for SledBackend {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.space(space).get(key).map_err(|e| self.err(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan(space, prefix, limit, false)
    }

    fn scan_prefix_rev(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan(space, prefix, limit, true)
    }

    fn get_ref(&self, name: &RefName) -> Result<Option<RefValue>> {
        let bytes = self.trees[REFS].get(name.as_str()).map_err(|e| self.err(e))?;
        bytes.map(|b| self.decode_ref(name, &b)).transpose()
    }

    fn list_refs(&self) -> Result<Vec<(RefName, RefValue)>> {
        let mut out = Vec::new();
        for kv in self.trees[REFS].iter() {
            let (key, bytes) = kv.map_err(|e| self.err(e))?;
            let name = self.ref_name(&key)?;
            let value = self.decode_ref(&name, &bytes)?;
            out.push((name, value));
        }
        Ok(out)
    }

    fn reflog(&self, name: &RefName) -> Result<Vec<ReflogEntry>> {
        let prefix = reflog_prefix(name);
        let mut out = Vec::new();
        for kv in self.trees[REFLOG].scan_prefix(&prefix) {
            let (key, bytes) = kv.map_err(|e| self.err(e))?;
            let seq = decode_count(&key[prefix.len()..]);
            let entry = ReflogEntry::decode(&bytes).map_err(|e| {
                let at = seq.map_or_else(|| "with a malformed key".to_string(), |s| s.to_string());
                self.corrupt(format!("reflog of `{name}`, entry {at}: {e}"))
            })?;
            out.push(entry);
        }
        Ok(out)
    }

    fn reflog_names(&self) -> Result<Vec<RefName>> {
        let keys = self.trees[HEADS].iter().keys();
        keys.map(|key| self.ref_name(&key.map_err(|e| self.err(e))?)).collect()
    }

    fn commit_tx(&self, tx: Transaction) -> Result<()> {
        if tx.puts.is_empty() && tx.refs.is_empty() {
            return Ok(());
        }
        // sled may run this closure more than once (it retries on internal conflicts), so it only
        // reads and writes through `t` and derives everything from what it reads.
        let result = self.trees.as_slice().transaction(|t| {
            let corrupt = |what: String| TxError::Abort(self.corrupt(what));
            for (space, key, value) in &tx.puts {
                t[*space as usize].insert(key.as_slice(), value.as_slice())?;
            }
            for u in &tx.refs {
                let name = u.name.as_str().as_bytes();
                let current = t[REFS].get(name)?.map(|b| self.decode_ref(&u.name, &b));
                let current = current.transpose().map_err(TxError::Abort)?;
                if current != u.expected {
                    return Err(TxError::Abort(BackendError::conflict(&u.name, u.expected, current)));
                }
                match u.new {
                    Some(value) => t[REFS].insert(name, encode_ref(value))?,
                    None => t[REFS].remove(name)?,
                };

                let count = match t[HEADS].get(name)? {
                    None => 0,
                    Some(b) => {
                        decode_count(&b).ok_or_else(|| corrupt(format!("reflog head of `{}` is malformed", u.name)))?
                    }
                };
                let prev = match count.checked_sub(1) {
                    None => None,
                    Some(last) => {
                        let bytes = t[REFLOG].get(reflog_key(&u.name, last))?;
                        let bytes =
                            bytes.ok_or_else(|| corrupt(format!("reflog of `{}` is missing entry {last}", u.name)))?;
                        Some(ObjectId::of_structured(REFLOG_HEADER, &bytes))
                    }
                };
                let mut entry = u.entry.clone();
                entry.prev = prev;
                t[REFLOG].insert(reflog_key(&u.name, count), entry.encode())?;
                t[HEADS].insert(name, &(count + 1).to_be_bytes()[..])?;
            }
            Ok(())
        });
        match result {
            Ok(()) => self.flush(),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(self.err(e)),
        }
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().map(drop).map_err(|e| self.err(e))
    }

    fn raw_put(&self, space: Space, key: &[u8], value: &[u8]) -> Result<()> {
        self.space(space).insert(key, value).map_err(|e| self.err(e))?;
        self.flush()
    }

    fn raw_remove(&self, space: Space, key: &[u8]) -> Result<()> {
        self.space(space).remove(key).map_err(|e| self.err(e))?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_index_their_trees_in_declaration_order() {
        // `space as usize` picks the tree; `Space::ALL` names them. They must agree.
        for (i, space) in Space::ALL.iter().enumerate() {
            assert_eq!(*space as usize, i, "{space:?}");
        }
    }

    #[test]
    fn ref_values_round_trip() {
        let id = ObjectId::of_blob(b"x");
        assert_eq!(decode_ref(&encode_ref(None)), Some(None));
        assert_eq!(decode_ref(&encode_ref(Some(id))), Some(Some(id)));
        assert_eq!(decode_ref(&[1, 2, 3]), None);
        assert_eq!(decode_ref(&[]), None);
    }
}
