//! Prompt names and ref names, validated once where they enter the program.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid {what} `{name}`: {why}")]
    Invalid { what: &'static str, name: String, why: &'static str },
}

/// Shared rules: segments of letters, digits, `-`, `_`, `.` separated by single `/`.
/// `@`, `:`, `~`, whitespace and control characters are excluded because the revision syntax
/// (`name@ref`, `ref~2`, `ref@{1}`) uses them.
fn check(what: &'static str, s: &str) -> Result<(), NameError> {
    let err = |why| Err(NameError::Invalid { what, name: s.to_string(), why });
    if s.is_empty() {
        return err("it is empty");
    }
    if s.len() > 255 {
        return err("it is longer than 255 bytes");
    }
    if s.starts_with('/') {
        return err("it starts with `/`");
    }
    if s.ends_with('/') {
        return err("it ends with `/`");
    }
    for seg in s.split('/') {
        if seg.is_empty() {
            return err("it has an empty path segment (`//`)");
        }
        if seg == ".." || seg == "." {
            return err("it has a `.` or `..` segment");
        }
        if seg.starts_with('.') {
            return err("a segment starts with `.`");
        }
    }
    for c in s.chars() {
        let ok = c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
        if !ok {
            return match c {
                '@' => err("`@` is reserved for revisions (name@ref)"),
                ':' => err("`:` is not allowed"),
                '~' => err("`~` is reserved for revisions (ref~N)"),
                c if c.is_whitespace() => err("whitespace is not allowed"),
                c if c.is_control() => err("control characters are not allowed"),
                _ => err("only letters, digits, `-`, `_`, `.` and `/` are allowed"),
            };
        }
    }
    Ok(())
}

/// The name of a prompt: its path under `prompts/` without the format's extension,
/// e.g. `support/triage`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptName(String);

impl PromptName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PromptName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check("prompt name", s)?;
        Ok(PromptName(s.to_string()))
    }
}

impl fmt::Display for PromptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PromptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PromptName({})", self.0)
    }
}

impl serde::Serialize for PromptName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The kind of a prompt file, from its extension. The known prompt formats lose their
/// extension in the prompt name (`support/triage.prompt.yaml` is `support/triage`); any other
/// file keeps its whole path as its name (`context.json` is `context.json`), so that a prompt and
/// its data file never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `*.prompt.yaml`, the native format.
    Native,
    Jinja,
    Jinja2,
    J2,
    Txt,
    Md,
    /// Prompty (`.prompty`): YAML front matter and a Jinja body.
    Prompty,
    /// Dotprompt (`.prompt`): front matter and a Handlebars body.
    Dotprompt,
    /// Anything else: stored, hashed, diffed and shown, named by its whole path.
    Other,
}

impl FileKind {
    /// Checked in this order, so `.prompt.yaml` wins over any shorter suffix.
    pub const KNOWN: [FileKind; 8] = [
        FileKind::Native,
        FileKind::Jinja,
        FileKind::Jinja2,
        FileKind::J2,
        FileKind::Txt,
        FileKind::Md,
        FileKind::Prompty,
        FileKind::Dotprompt,
    ];

    pub fn ext(&self) -> &'static str {
        match self {
            FileKind::Native => ".prompt.yaml",
            FileKind::Jinja => ".jinja",
            FileKind::Jinja2 => ".jinja2",
            FileKind::J2 => ".j2",
            FileKind::Txt => ".txt",
            FileKind::Md => ".md",
            FileKind::Prompty => ".prompty",
            FileKind::Dotprompt => ".prompt",
            FileKind::Other => "",
        }
    }

    /// Plain templates: one text template, variables found from the template itself.
    pub fn is_plain_template(&self) -> bool {
        matches!(self, FileKind::Jinja | FileKind::Jinja2 | FileKind::J2 | FileKind::Txt | FileKind::Md)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::Native => "native",
            FileKind::Jinja | FileKind::Jinja2 | FileKind::J2 => "jinja",
            FileKind::Txt => "text",
            FileKind::Md => "markdown",
            FileKind::Prompty => "prompty",
            FileKind::Dotprompt => "dotprompt",
            FileKind::Other => "other",
        }
    }
}

impl PromptName {
    /// Splits a path under `prompts/` (with `/` separators) into the prompt name and its kind.
    pub fn from_path(path: &str) -> Result<(PromptName, FileKind), NameError> {
        for kind in FileKind::KNOWN {
            if let Some(stem) = path.strip_suffix(kind.ext()) {
                if !stem.is_empty() && !stem.ends_with('/') {
                    return Ok((stem.parse()?, kind));
                }
            }
        }
        Ok((path.parse()?, FileKind::Other))
    }

    /// The path under `prompts/` of this prompt when stored as `kind`.
    pub fn to_path(&self, kind: FileKind) -> String {
        format!("{}{}", self.0, kind.ext())
    }
}

/// The name of a branch or a tag. Branches and tags share one namespace so that a bare word
/// always resolves to exactly one ref.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefName(String);

impl RefName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A ref name that would also parse as an id prefix is refused, so `abcd` is never ambiguous.
    fn looks_like_id(s: &str) -> bool {
        s.len() >= crate::id::MIN_PREFIX_LEN && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

impl FromStr for RefName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check("ref name", s)?;
        if RefName::looks_like_id(s) {
            return Err(NameError::Invalid {
                what: "ref name",
                name: s.to_string(),
                why: "it would read as an object id prefix (only hex digits)",
            });
        }
        if s.ends_with(".lock") {
            return Err(NameError::Invalid { what: "ref name", name: s.to_string(), why: "it ends with `.lock`" });
        }
        if s.contains("..") {
            // As git: `a..b` reads as a range.
            return Err(NameError::Invalid { what: "ref name", name: s.to_string(), why: "it contains `..`" });
        }
        Ok(RefName(s.to_string()))
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefName({})", self.0)
    }
}

impl serde::Serialize for RefName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_names() {
        for ok in ["summarize", "support/triage", "a.b-c_d/e1", "v1.2"] {
            assert!(ok.parse::<PromptName>().is_ok(), "{ok}");
        }
        for bad in ["", "/abs", "a/../b", "..", "a@b", "a:b", "a b", "a\tb", "a//b", "x/", "é", ".hidden"] {
            assert!(bad.parse::<PromptName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_to_names() {
        let (n, k) = PromptName::from_path("support/triage.prompt.yaml").expect("path");
        assert_eq!((n.as_str(), k), ("support/triage", FileKind::Native));
        let (n, k) = PromptName::from_path("ctx/context.json").expect("path");
        assert_eq!((n.as_str(), k), ("ctx/context.json", FileKind::Other));
        let (n, k) = PromptName::from_path("lm/_default_template_yaml").expect("path");
        assert_eq!((n.as_str(), k), ("lm/_default_template_yaml", FileKind::Other));
        let (n, k) = PromptName::from_path("a/story.prompt").expect("path");
        assert_eq!((n.as_str(), k), ("a/story", FileKind::Dotprompt));
        assert_eq!(n.to_path(k), "a/story.prompt");
        // A file called just `.md` has no name left.
        assert!(PromptName::from_path("x/.md").is_err());
    }

    #[test]
    fn ref_names() {
        assert!("production".parse::<RefName>().is_ok());
        assert!("v1.4.0".parse::<RefName>().is_ok());
        assert!("release/2026-12".parse::<RefName>().is_ok());
        assert!("beef".parse::<RefName>().is_err());
        assert!("a~1".parse::<RefName>().is_err());
        assert!("x.lock".parse::<RefName>().is_err());
        assert!("x..y".parse::<RefName>().is_err());
    }
}
