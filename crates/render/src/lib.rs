//! promptctl-render: prompt file formats and rendering.
//!
//! Templates are rendered with [minijinja](https://docs.rs/minijinja) configured to behave like
//! Python Jinja2 as Hugging Face `transformers` uses it for chat templates:
//!
//! - **Whitespace**: `trim_blocks` and `lstrip_blocks` are on for every kind of file (chat
//!   templates, plain templates, native prompts, Prompty bodies), so a prompt renders the same
//!   whether it is written as a native prompt or a plain template.
//! - **Final newline**: as Jinja2 (`keep_trailing_newline=False`), one trailing newline of a
//!   template's source (`\n`, `\r\n` or `\r`) is not part of its render: a file holding
//!   `Answer:\n` renders `Answer:`. This applies to each native message's content too (a YAML
//!   `|` block's final newline is dropped). The stored bytes, and so the prompt's id, are never
//!   changed.
//! - **Line endings**: as Jinja2 (`newline_sequence='\n'`), every newline of the template source
//!   (`\r\n`, `\r`) renders as `\n`, in text, string literals and raw blocks alike; a CRLF
//!   template renders with LF line endings. Variable values are never changed.
//! - **Undefined variables**: native prompts are strict by default (a variable used but neither
//!   given nor defaulted is an error naming it, the prompt and the line); `undefined: lenient`,
//!   plain templates, Prompty and other files behave like Jinja2's default `Undefined` (falsy,
//!   prints nothing, `is defined` works).
//! - **Printing**: values print as Python prints them (`None`, `True`, `False`, `1.0`,
//!   `['a', None]`); nothing is ever HTML-escaped, whatever the file name.
//! - **Python compatibility**: string, dict and list methods (`.strip()`, `.startswith()`,
//!   `.items()`…, from minijinja-contrib's `pycompat`), slices with steps, `namespace`,
//!   `{% break %}`/`{% continue %}`, `raise_exception(msg)`, `strftime_now(fmt)` on the clock of
//!   [`RenderOptions::now_unix`] (UTC), and a `tojson` equal to transformers'
//!   `json.dumps(x, ensure_ascii=False, indent=…, separators=…, sort_keys=…)`.
//!
//! - **Other engines**: Dotprompt (`.prompt`, Handlebars) bodies that use Handlebars syntax
//!   and Semantic Kernel templates (`{{$var}}`) parse (so `commit` stores them) but do not
//!   render: the error says which engine they need. Files of kind other render as Jinja text when
//!   they are UTF-8 text without NUL bytes that parses as Jinja; otherwise rendering them is an
//!   error ("files of kind other cannot be rendered: …").
//! - **Includes**: `{% include %}`, `{% import %}`, `{% extends %}` load through the [`Loader`]
//!   the caller gives with the render, so the closure comes from the same snapshot;
//!   [`Rendered::templates`] lists every file used with its id.
//!
//! The text form of a native prompt with `messages:` is each message as `role:` on its own line
//! followed by the content, messages separated by one blank line (see [`messages_to_text`]);
//! it is the form Prompty files are written in, and [`Rendered::messages`] carries the array.

mod engine;
mod error;
mod filters;
mod foreign;
mod jinja;
mod prompt;
mod pyfmt;
mod refs;
mod strftime;

use std::collections::BTreeMap;

use promptctl_core::{FileKind, ObjectId, PromptName};
use serde_json::{Map, Value as Json};

pub use engine::Engine;
pub use error::{Location, RenderError};
pub use prompt::{parse, split_front_matter, MessageTemplate, Prompt, TestCase, UndefinedMode, VarType, Variable};
pub use refs::template_references;

/// The template engine and its version, e.g. `minijinja 2.24.0` (taken from Cargo.lock at build
/// time), for `--json` output and lockfiles.
pub const ENGINE: &str = concat!("minijinja ", env!("PROMPTCTL_MINIJINJA_VERSION"));

/// One prompt file of a snapshot: its name, kind, id (BLAKE3 of the bytes) and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: PromptName,
    pub kind: FileKind,
    pub id: ObjectId,
    pub bytes: Vec<u8>,
}

impl Source {
    /// A source from its name, kind and bytes; the id is computed.
    pub fn new(name: PromptName, kind: FileKind, bytes: Vec<u8>) -> Source {
        let id = ObjectId::of_blob(&bytes);
        Source { name, kind, id, bytes }
    }

    /// A source from its path under `prompts/` (`support/triage.prompt.yaml`).
    pub fn from_path(path: &str, bytes: Vec<u8>) -> Result<Source, RenderError> {
        let (name, kind) = PromptName::from_path(path)
            .map_err(|e| RenderError::Invalid { file: path.to_string(), message: e.to_string() })?;
        Ok(Source::new(name, kind, bytes))
    }
}

/// Resolves `{% include/import/extends "x" %}` names to other prompts of the SAME snapshot
/// (commit or working tree). The name is a path under `prompts/` such as
/// `partials/tone.jinja` (see [`PromptName::from_path`]); implementations should also accept a
/// bare prompt name (`partials/tone`).
pub trait Loader: Send + Sync {
    fn load(&self, template_name: &str) -> Option<Source>;
}

/// A loader that finds nothing: for prompts without includes.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLoader;

impl Loader for NoLoader {
    fn load(&self, _template_name: &str) -> Option<Source> {
        None
    }
}

/// A loader over files held in memory, keyed by their path under `prompts/`. A name is looked
/// up as a path, then (without a leading `./`) as a path, then as a prompt name.
#[derive(Debug, Default, Clone)]
pub struct MemoryLoader {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryLoader {
    pub fn new() -> Self {
        MemoryLoader::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    fn source(&self, path: &str) -> Option<Source> {
        let bytes = self.files.get(path)?;
        Source::from_path(path, bytes.clone()).ok()
    }
}

impl Loader for MemoryLoader {
    fn load(&self, template_name: &str) -> Option<Source> {
        let name = template_name.strip_prefix("./").unwrap_or(template_name);
        if let Some(s) = self.source(name) {
            return Some(s);
        }
        // A bare prompt name (`partials/tone`), or a path whose extension differs.
        let wanted = PromptName::from_path(name).ok().map(|(n, _)| n);
        self.files.keys().find_map(|path| {
            let (n, _) = PromptName::from_path(path).ok()?;
            let matches = n.as_str() == name || wanted.as_ref() == Some(&n);
            if matches {
                self.source(path)
            } else {
                None
            }
        })
    }
}

/// Options of one render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// The clock `strftime_now` reads, in seconds since the Unix epoch (UTC). The CLI fixes it
    /// from `PROMPTCTL_NOW` so renders are reproducible.
    pub now_unix: i64,
}

impl RenderOptions {
    pub fn new(now_unix: i64) -> Self {
        RenderOptions { now_unix }
    }

    /// The clock from `PROMPTCTL_NOW` (Unix seconds, or RFC 3339 such as
    /// `2024-07-26T00:00:00Z`), else the system clock.
    pub fn from_env() -> Result<Self, RenderError> {
        match std::env::var("PROMPTCTL_NOW") {
            Ok(s) => parse_now(&s).map(RenderOptions::new).ok_or_else(|| RenderError::Invalid {
                file: "PROMPTCTL_NOW".into(),
                message: format!("`{s}` is neither Unix seconds nor an RFC 3339 time (2024-07-26T00:00:00Z)"),
            }),
            Err(_) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                Ok(RenderOptions::new(now))
            }
        }
    }
}

fn parse_now(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// One chat message of a render.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// The result of a render.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The render as text: the template's output, or for native `messages:` the messages in
    /// the form of [`messages_to_text`].
    pub text: String,
    /// The chat messages: native `messages:` prompts, and Prompty files (split at their
    /// `system:` / `user:` / `assistant:` lines). `None` for a single template.
    pub messages: Option<Vec<Message>>,
    /// Every file the render used, the rendered prompt first, then includes, imports, parents
    /// and input files in order of first use.
    pub templates: Vec<(PromptName, ObjectId)>,
    /// The variables after defaults were applied.
    pub vars: Map<String, Json>,
    /// Non-fatal findings: unused variables, CRLF line endings, a BOM.
    pub warnings: Vec<String>,
}

/// The text form of a list of messages: for each message, `role:` on its own line and the
/// content on the lines below; messages separated by a blank line:
///
/// ```text
/// system:
/// You are a support analyst.
///
/// user:
/// Summarise: …
/// ```
pub fn messages_to_text(messages: &[Message]) -> String {
    messages.iter().map(|m| format!("{}:\n{}", m.role, m.content)).collect::<Vec<_>>().join("\n\n")
}

/// The roles a Prompty body may switch to with a `role:` line.
const ROLES: [&str; 6] = ["system", "user", "assistant", "developer", "tool", "function"];

/// Splits a rendered Prompty body into messages as Prompty does: a line holding only a role
/// name and a colon (any case, optionally after `#`) starts a message of that role; each
/// content is trimmed; text before the first role line is a system message; a role with no
/// content is dropped.
pub fn split_role_lines(text: &str) -> Vec<Message> {
    let mut messages = Vec::new();
    let mut role: Option<String> = None;
    let mut content = String::new();
    let flush = |role: &Option<String>, content: &mut String, messages: &mut Vec<Message>| {
        let c = content.trim();
        if !c.is_empty() {
            messages.push(Message { role: role.clone().unwrap_or_else(|| "system".into()), content: c.to_string() });
        }
        content.clear();
    };
    for line in text.split_inclusive(['\n']) {
        let bare = line.trim_end_matches(['\n', '\r']);
        let t = bare.trim().trim_start_matches('#').trim();
        let found =
            t.strip_suffix(':').map(|r| r.trim_end().to_ascii_lowercase()).filter(|r| ROLES.contains(&r.as_str()));
        if let Some(r) = found {
            flush(&role, &mut content, &mut messages);
            role = Some(r);
        } else {
            content.push_str(line);
        }
    }
    flush(&role, &mut content, &mut messages);
    messages
}

/// The chat templates of a Hugging Face `tokenizer_config.json`: `chat_template` as one string
/// (named `default`), or as a list of `{name, template}` (R6). A missing `chat_template` is an
/// empty list; any other shape is an error naming it.
pub fn chat_templates_from_tokenizer_config(bytes: &[u8]) -> Result<Vec<(String, String)>, RenderError> {
    const FILE: &str = "tokenizer_config.json";
    let text = prompt::utf8(FILE, bytes)?;
    let doc: Json = serde_json::from_str(text).map_err(|e| RenderError::Json {
        file: FILE.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let bad = |message: String| RenderError::TokenizerConfig { file: FILE.into(), message };
    let Json::Object(doc) = doc else {
        return Err(bad("the file must hold a JSON object".into()));
    };
    match doc.get("chat_template") {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::String(t)) => Ok(vec![("default".to_string(), t.clone())]),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let name = item.get("name").and_then(Json::as_str);
                let template = item.get("template").and_then(Json::as_str);
                match (name, template) {
                    (Some(n), Some(t)) => Ok((n.to_string(), t.to_string())),
                    _ => Err(bad(format!(
                        "chat_template[{i}] must be an object with string fields `name` and `template`, found {}",
                        short(item)
                    ))),
                }
            })
            .collect(),
        Some(other) => Err(bad(format!(
            "`chat_template` must be a string or a list of {{\"name\", \"template\"}} objects, found {}",
            short(other)
        ))),
    }
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        s.chars().take(77).collect::<String>() + "..."
    } else {
        s
    }
}
