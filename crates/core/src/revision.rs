//! The revision syntax accepted wherever a command takes a revision:
//!
//! | text | meaning |
//! | --- | --- |
//! | `production` | the commit the ref points at (a bare word is a ref first, then an id prefix, then a prompt name on `staging`) |
//! | `3fa9c2e1` | a commit or prompt version with that id prefix (≥ 4 hex characters) |
//! | `production~2` | the second first-parent ancestor (`~` alone means `~1`) |
//! | `production@{1}` | where the branch was one reflog entry ago |
//! | `summarize@production` | the prompt `summarize` in that commit (any commit revision may follow `@`) |
//! | `summarize@3fa9c2e1` | the prompt in the commit with that prefix, or that prompt version id |
//! | `summarize` | the prompt's version on `staging` |

use crate::id::IdPrefix;
use crate::name::{NameError, PromptName, RefName};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    #[error("invalid revision `{rev}`: {why}")]
    Syntax { rev: String, why: String },
    #[error(transparent)]
    Name(#[from] NameError),
}

/// A word that names a commit: a ref or an id prefix, told apart when resolved (a ref name
/// can never be all hex, so the two never collide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitWord {
    Ref(RefName),
    Id(IdPrefix),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitRev {
    Word(CommitWord),
    /// `branch@{n}`: the branch's value `n` reflog entries ago (0 = now).
    Reflog {
        branch: RefName,
        n: usize,
    },
    /// `base~n`: the n-th first-parent ancestor.
    Ancestor {
        base: Box<CommitRev>,
        n: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevSpec {
    /// A single word with no suffix: a ref, an id prefix, or a prompt name (on `staging`).
    Bare { word: String, as_ref: Option<RefName>, as_id: Option<IdPrefix>, as_prompt: Option<PromptName> },
    /// A commit revision with a suffix (`~N`, `@{N}`): always a commit.
    Commit(CommitRev),
    /// `name@rev`.
    Prompt { name: PromptName, at: CommitRev },
}

fn syntax(rev: &str, why: impl Into<String>) -> RevisionError {
    RevisionError::Syntax { rev: rev.to_string(), why: why.into() }
}

fn parse_word(full: &str, w: &str) -> Result<CommitWord, RevisionError> {
    if w.is_empty() {
        return Err(syntax(full, "a ref name or id prefix is missing"));
    }
    if let Ok(id) = w.parse::<IdPrefix>() {
        return Ok(CommitWord::Id(id));
    }
    if w.len() < 4 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
        // Too short to be a prefix, and not a valid ref name either: say the helpful thing.
        if w.parse::<RefName>().is_err() {
            return Err(syntax(full, format!("`{w}` is too short for an id prefix (use at least 4 hex characters)")));
        }
    }
    Ok(CommitWord::Ref(w.parse::<RefName>()?))
}

impl CommitRev {
    pub fn parse(s: &str) -> Result<Self, RevisionError> {
        let cut = s.find(['~', '^', '@']).unwrap_or(s.len());
        let (base, mut rest) = s.split_at(cut);
        let word = parse_word(s, base)?;
        let mut rev = CommitRev::Word(word);
        if let Some(after) = rest.strip_prefix("@{") {
            let close = after.find('}').ok_or_else(|| syntax(s, "`@{` is not closed with `}`"))?;
            let n: usize =
                after[..close].parse().map_err(|_| syntax(s, "`@{N}` needs a whole number N (reflog position)"))?;
            let branch = match rev {
                CommitRev::Word(CommitWord::Ref(r)) => r,
                _ => return Err(syntax(s, "`@{N}` follows a branch name")),
            };
            rev = CommitRev::Reflog { branch, n };
            rest = &after[close + 1..];
        }
        while !rest.is_empty() {
            let (n, tail) = if let Some(t) = rest.strip_prefix('~') {
                let digits = t.bytes().take_while(|b| b.is_ascii_digit()).count();
                let n = if digits == 0 {
                    1
                } else {
                    t[..digits].parse().map_err(|_| syntax(s, "the number after `~` is too large"))?
                };
                (n, &t[digits..])
            } else if let Some(t) = rest.strip_prefix('^') {
                (1, t)
            } else {
                return Err(syntax(s, format!("unexpected `{rest}` (suffixes are `~N` and `@{{N}}`)")));
            };
            rev = CommitRev::Ancestor { base: Box::new(rev), n };
            rest = tail;
        }
        Ok(rev)
    }
}

impl std::fmt::Display for CommitRev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitRev::Word(CommitWord::Ref(r)) => write!(f, "{r}"),
            CommitRev::Word(CommitWord::Id(i)) => write!(f, "{i}"),
            CommitRev::Reflog { branch, n } => write!(f, "{branch}@{{{n}}}"),
            CommitRev::Ancestor { base, n } => write!(f, "{base}~{n}"),
        }
    }
}

impl RevSpec {
    pub fn parse(s: &str) -> Result<Self, RevisionError> {
        if s.is_empty() {
            return Err(syntax(s, "it is empty"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(syntax(s, "it contains white space or control characters"));
        }
        // `name@rev`: an `@` that does not open `@{N}`. Prompt names never contain `@`.
        let split = s.char_indices().find(|&(i, c)| c == '@' && !s[i + 1..].starts_with('{'));
        if let Some((i, _)) = split {
            let (name, at) = (&s[..i], &s[i + 1..]);
            if name.is_empty() {
                return Err(syntax(s, "a prompt name is missing before `@`"));
            }
            let name: PromptName = name.parse()?;
            let at = CommitRev::parse(at)?;
            return Ok(RevSpec::Prompt { name, at });
        }
        if s.contains(['~', '^']) || s.contains("@{") {
            return Ok(RevSpec::Commit(CommitRev::parse(s)?));
        }
        let as_ref = s.parse::<RefName>().ok();
        let as_id = s.parse::<IdPrefix>().ok();
        let as_prompt = s.parse::<PromptName>().ok();
        if as_ref.is_none() && as_id.is_none() && as_prompt.is_none() {
            // Report the prompt-name rules: they are the loosest of the three.
            return Err(s.parse::<PromptName>().err().map(RevisionError::from).unwrap_or_else(|| syntax(s, "unknown")));
        }
        Ok(RevSpec::Bare { word: s.to_string(), as_ref, as_id, as_prompt })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert!(matches!(RevSpec::parse("production"), Ok(RevSpec::Bare { as_ref: Some(_), .. })));
        assert!(matches!(RevSpec::parse("3fa9c2e1"), Ok(RevSpec::Bare { as_id: Some(_), .. })));
        assert!(matches!(RevSpec::parse("support/triage"), Ok(RevSpec::Bare { as_prompt: Some(_), .. })));
        match RevSpec::parse("production~2").expect("parse") {
            RevSpec::Commit(CommitRev::Ancestor { n: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        match RevSpec::parse("production@{1}").expect("parse") {
            RevSpec::Commit(CommitRev::Reflog { n: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
        match RevSpec::parse("summarize@production@{2}~1").expect("parse") {
            RevSpec::Prompt { name, at: CommitRev::Ancestor { base, n: 1 } } => {
                assert_eq!(name.as_str(), "summarize");
                assert!(matches!(*base, CommitRev::Reflog { n: 2, .. }));
            }
            other => panic!("{other:?}"),
        }
        match RevSpec::parse("support/triage@3fa9c2e1").expect("parse") {
            RevSpec::Prompt { at: CommitRev::Word(CommitWord::Id(_)), .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in ["", "@prod", "x@", "prod@{x}", "prod@{1", "a b", "prod~x", "../x", "v1.0@{1}@"] {
            assert!(RevSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["production", "production~2", "staging@{3}", "abcd1234"] {
            assert_eq!(CommitRev::parse(s).expect("parse").to_string(), s);
        }
    }
}
