//! How trees are kept in the store. A tree's *id* is always the BLAKE3 of its canonical v1
//! encoding (see `promptctl_core::object`); what is *stored* under that id is either the full
//! encoding or a delta against the parent commit's tree, with a full tree at least every
//! [`MAX_CHAIN`] steps. A commit usually changes one or two prompts of hundreds, so storing
//! every tree whole made trees ~70% of a long-lived store, and sled's open time grows with the
//! size of its log. Reading a tree rebuilds it and re-hashes it, so a damaged delta is caught
//! exactly like a damaged full tree.
//!
//! Record format (first byte is the tag):
//! ```text
//! F <v1 encoding>
//! D <depth: u8> <base tree id: 32 bytes> <changes>
//!   changes: "<64 hex> <path>\n" (set) or "- <name>\n" (remove), sorted by name
//! ```

use promptctl_core::{ObjectId, PromptName, Tree, TreeEntry};

/// The longest chain of deltas before a full tree is stored again: a read costs one full tree
/// plus at most this many small records.
pub const MAX_CHAIN: u8 = 32;

pub enum Record {
    Full(Tree),
    Delta { depth: u8, base: ObjectId, changes: Vec<(PromptName, Option<TreeEntry>)> },
}

pub fn encode_full(tree: &Tree) -> Vec<u8> {
    let mut v = vec![b'F'];
    v.extend_from_slice(&tree.encode());
    v
}

pub fn encode_delta(depth: u8, base: &ObjectId, old: &Tree, new: &Tree) -> Vec<u8> {
    let mut v = vec![b'D', depth];
    v.extend_from_slice(base.as_bytes());
    for name in crate::repo::changed_names(old, new) {
        match new.get(&name) {
            Some(e) => v.extend_from_slice(format!("{} {}\n", e.id, name.to_path(e.kind)).as_bytes()),
            None => v.extend_from_slice(format!("- {name}\n").as_bytes()),
        }
    }
    v
}

/// The depth of a stored record (0 for a full tree), read from its header only.
pub fn depth(record: &[u8]) -> Option<u8> {
    match record.first()? {
        b'F' => Some(0),
        b'D' => record.get(1).copied(),
        _ => None,
    }
}

pub fn decode(record: &[u8]) -> Result<Record, String> {
    match record.split_first() {
        Some((b'F', rest)) => Tree::decode(rest).map(Record::Full).map_err(|e| e.to_string()),
        Some((b'D', rest)) => {
            let (&depth, rest) = rest.split_first().ok_or("truncated delta")?;
            let base = rest.get(..32).and_then(ObjectId::from_slice).ok_or("truncated delta base")?;
            let text = std::str::from_utf8(&rest[32..]).map_err(|_| "delta is not UTF-8")?;
            let mut changes = Vec::new();
            for line in text.lines() {
                let (head, tail) = line.split_once(' ').ok_or_else(|| format!("bad delta line {line:?}"))?;
                if head == "-" {
                    changes.push((tail.parse().map_err(|_| format!("bad name {tail:?}"))?, None));
                } else {
                    let id: ObjectId = head.parse().map_err(|_| format!("bad id {head:?}"))?;
                    let (name, kind) = PromptName::from_path(tail).map_err(|_| format!("bad path {tail:?}"))?;
                    changes.push((name, Some(TreeEntry { id, kind })));
                }
            }
            Ok(Record::Delta { depth, base, changes })
        }
        _ => Err("unknown tree record format".into()),
    }
}
