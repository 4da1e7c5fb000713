//! Reflog entries: one per ref move, hash-chained per ref so that editing or dropping an entry
//! is detectable (`fsck` re-derives the chain).
//!
//! Encoding v1 (hashed as `BLAKE3("promptctl-reflog-v1\0" ‖ encoding)`):
//! ```text
//! ref <name>\n
//! old <64 hex | ->\n       `-` means the ref did not point anywhere (new or unborn)
//! new <64 hex | ->\n
//! action <commit|promote|rollback|tag|create|delete>\n
//! actor <actor>\n
//! time <RFC 3339 UTC>\n
//! prev <64 hex | ->\n      hash of the previous entry of this ref, `-` for the first
//! \n
//! <message>
//! ```

use std::fmt;
use std::str::FromStr;

use crate::id::ObjectId;
use crate::name::RefName;
use crate::object::{normalize_message, DecodeError};
use crate::signature::{Actor, Timestamp};

pub const REFLOG_HEADER: &[u8] = b"promptctl-reflog-v1\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Commit,
    Promote,
    Rollback,
    Tag,
    Create,
    Delete,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Commit => "commit",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::Tag => "tag",
            Action::Create => "create",
            Action::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "commit" => Action::Commit,
            "promote" => Action::Promote,
            "rollback" => Action::Rollback,
            "tag" => Action::Tag,
            "create" => Action::Create,
            "delete" => Action::Delete,
            _ => return Err(()),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflogEntry {
    pub refname: RefName,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
    pub action: Action,
    pub actor: Actor,
    pub time: Timestamp,
    pub message: String,
    /// Hash of the previous entry of the same ref.
    pub prev: Option<ObjectId>,
}

fn opt_hex(id: &Option<ObjectId>) -> String {
    id.map(|i| i.to_hex()).unwrap_or_else(|| "-".into())
}

fn damaged(why: impl Into<String>) -> DecodeError {
    DecodeError::Damaged { kind: "reflog entry", why: why.into() }
}

fn parse_opt(v: &str) -> Result<Option<ObjectId>, DecodeError> {
    if v == "-" {
        Ok(None)
    } else {
        v.parse().map(Some).map_err(|_| damaged(format!("bad id {v:?}")))
    }
}

impl ReflogEntry {
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "ref {}\nold {}\nnew {}\naction {}\nactor {}\ntime {}\nprev {}\n\n{}",
            self.refname,
            opt_hex(&self.old),
            opt_hex(&self.new),
            self.action,
            self.actor,
            self.time.to_rfc3339(),
            opt_hex(&self.prev),
            normalize_message(&self.message)
        )
        .into_bytes()
    }

    pub fn hash(&self) -> ObjectId {
        ObjectId::of_structured(REFLOG_HEADER, &self.encode())
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(bytes).map_err(|_| damaged("not UTF-8"))?;
        let (head, message) = text.split_once("\n\n").ok_or_else(|| damaged("no blank line"))?;
        let mut fields = head.lines().map(|l| l.split_once(' ').unwrap_or((l, "")));
        let mut next = |key: &str| -> Result<&str, DecodeError> {
            match fields.next() {
                Some((k, v)) if k == key => Ok(v),
                _ => Err(damaged(format!("expected `{key}`"))),
            }
        };
        let refname = next("ref")?.parse().map_err(|_| damaged("bad ref name"))?;
        let old = parse_opt(next("old")?)?;
        let new = parse_opt(next("new")?)?;
        let action = next("action")?.parse().map_err(|_| damaged("bad action"))?;
        let actor = Actor::new(next("actor")?).map_err(|e| damaged(e.to_string()))?;
        let time = Timestamp::parse(next("time")?).map_err(|e| damaged(e.to_string()))?;
        let prev = parse_opt(next("prev")?)?;
        let entry = ReflogEntry { refname, old, new, action, actor, time, message: message.to_string(), prev };
        if entry.encode() != bytes {
            return Err(damaged("not in canonical form"));
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_golden() {
        let e = ReflogEntry {
            refname: "production".parse().expect("ref"),
            old: None,
            new: Some(ObjectId::of_blob(b"c")),
            action: Action::Promote,
            actor: Actor::new("ci").expect("actor"),
            time: Timestamp::parse("2026-01-02T03:04:05Z").expect("time"),
            message: "promote v1 to production".into(),
            prev: None,
        };
        let back = ReflogEntry::decode(&e.encode()).expect("decode");
        assert_eq!(back, e);
        assert_eq!(e.hash().to_hex(), GOLDEN_REFLOG);
    }

    const GOLDEN_REFLOG: &str = "1707699ac3b2c671be195795ccd805d26ed93699d15cdfa3cb4c7481c9c1fe31";
}
