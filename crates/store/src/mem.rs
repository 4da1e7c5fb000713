//! A strict in-memory [`Backend`] for tests. It mirrors the sled store's observable behaviour
//! exactly (CAS conflicts that write nothing, backend-set reflog `prev` links, reflogs that outlive
//! their ref), so a test that passes here means the same against sled; `tests/conformance.rs`
//! holds both to one suite.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use promptctl_core::reflog::REFLOG_HEADER;
use promptctl_core::{ObjectId, RefName, ReflogEntry};

use crate::backend::{Backend, BackendError, RefValue, Result, Space, Transaction};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Default)]
struct State {
    spaces: BTreeMap<Space, Map>,
    refs: BTreeMap<RefName, RefValue>,
    /// Encoded entries, as sled keeps them, so that reading back goes through the same
    /// `decode` (and its message normalisation) on both backends.
    reflogs: BTreeMap<RefName, Vec<Vec<u8>>>,
}

#[derive(Default)]
pub struct MemBackend {
    state: Mutex<State>,
}

impl MemBackend {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave `State` half-written: `commit_tx` checks everything
        // before it mutates, and the mutation itself cannot fail. So a poisoned lock is safe.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None` if there is none
/// (the prefix is empty or all `0xff`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn scan(map: Option<&Map>, prefix: &[u8], limit: usize, rev: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(map) = map else { return Vec::new() };
    let end = prefix_end(prefix);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let range = map.range::<[u8], _>((Bound::Included(prefix), upper));
    let pair = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
    if rev {
        range.rev().take(limit).map(pair).collect()
    } else {
        range.take(limit).map(pair).collect()
    }
}

fn decode(name: &RefName, seq: usize, bytes: &[u8]) -> Result<ReflogEntry> {
    ReflogEntry::decode(bytes).map_err(|e| BackendError::Corrupt(format!("reflog of `{name}`, entry {seq}: {e}")))
}

impl Backend for MemBackend {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.state().spaces.get(&space).and_then(|m| m.get(key)).cloned())
    }

    fn scan_prefix(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(scan(self.state().spaces.get(&space), prefix, limit, false))
    }

    fn scan_prefix_rev(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(scan(self.state().spaces.get(&space), prefix, limit, true))
    }

    fn get_ref(&self, name: &RefName) -> Result<Option<RefValue>> {
        Ok(self.state().refs.get(name).copied())
    }

    fn list_refs(&self) -> Result<Vec<(RefName, RefValue)>> {
        Ok(self.state().refs.iter().map(|(n, v)| (n.clone(), *v)).collect())
    }

    fn reflog(&self, name: &RefName) -> Result<Vec<ReflogEntry>> {
        let st = self.state();
        let entries = st.reflogs.get(name).map(Vec::as_slice).unwrap_or_default();
        entries.iter().enumerate().map(|(seq, bytes)| decode(name, seq, bytes)).collect()
    }

    fn reflog_names(&self) -> Result<Vec<RefName>> {
        Ok(self.state().reflogs.keys().cloned().collect())
    }

    fn commit_tx(&self, tx: Transaction) -> Result<()> {
        let mut st = self.state();
        // Stage every ref move against an overlay first: later updates of the same ref see the
        // earlier ones, and a conflict returns before anything is mutated.
        let mut refs: BTreeMap<RefName, Option<RefValue>> = BTreeMap::new();
        let mut tails: BTreeMap<RefName, ObjectId> = BTreeMap::new();
        let mut appends: Vec<(RefName, Vec<u8>)> = Vec::new();
        for u in &tx.refs {
            let current = match refs.get(&u.name) {
                Some(staged) => *staged,
                None => st.refs.get(&u.name).copied(),
            };
            if current != u.expected {
                return Err(BackendError::conflict(&u.name, u.expected, current));
            }
            refs.insert(u.name.clone(), u.new);
            let prev = tails.get(&u.name).copied().or_else(|| {
                let last = st.reflogs.get(&u.name)?.last()?;
                Some(ObjectId::of_structured(REFLOG_HEADER, last))
            });
            let mut entry = u.entry.clone();
            entry.prev = prev;
            tails.insert(u.name.clone(), entry.hash());
            appends.push((u.name.clone(), entry.encode()));
        }

        for (space, key, value) in tx.puts {
            st.spaces.entry(space).or_default().insert(key, value);
        }
        for (name, state) in refs {
            match state {
                Some(value) => st.refs.insert(name, value),
                None => st.refs.remove(&name),
            };
        }
        for (name, bytes) in appends {
            st.reflogs.entry(name).or_default().push(bytes);
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn raw_put(&self, space: Space, key: &[u8], value: &[u8]) -> Result<()> {
        self.state().spaces.entry(space).or_default().insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn raw_remove(&self, space: Space, key: &[u8]) -> Result<()> {
        self.state().spaces.entry(space).or_default().remove(key);
        Ok(())
    }
}
