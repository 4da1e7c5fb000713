//! The minijinja environment configured like Python `transformers`' chat-template environment,
//! and the template analysis helpers (syntax check, undeclared variables, identifier lines).
//! Nothing from minijinja leaves this crate.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use minijinja::machinery::{tokenize, Token, WhitespaceConfig};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Rest, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State};

use crate::pyfmt;

/// Settings every template is compiled with. They are the same for chat templates, plain
/// templates, native prompts and Prompty bodies:
/// - `trim_blocks` and `lstrip_blocks` on, as in transformers' chat-template environment;
/// - `keep_trailing_newline` off, as in Jinja2: one trailing newline (`\n`, `\r\n` or `\r`) of
///   the template source is not part of the render. The stored bytes are never changed.
fn configure_whitespace(env: &mut Environment<'_>) {
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(false);
}

/// Jinja2 turns every newline of the template source (`\r\n`, `\r`, `\n`, in text, string
/// literals and raw blocks alike) into `\n` (`newline_sequence`); minijinja keeps them, so the
/// source is normalised before compiling. Line numbers are unchanged.
pub(crate) fn normalize_newlines(source: &str) -> Cow<'_, str> {
    if source.contains('\r') {
        Cow::Owned(source.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(source)
    }
}

/// Jinja2's `trim_blocks` removes the newline after `{% endraw %}` but not the one after
/// `{% raw %}`; minijinja removes both. Moving that newline to just before the tag (before
/// its indentation, when the tag starts its line, so `lstrip_blocks` still applies) gives
/// Jinja2's output and keeps every line number. `{% raw -%}` strips it in both engines and is
/// left alone; after `{%- raw %}` the newline is still lost (listed in KNOWN_GAPS.md).
pub(crate) fn keep_raw_newline(source: &str) -> Cow<'_, str> {
    if !source.contains("raw") {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len() + 8);
    let mut last = 0;
    let mut changed = false;
    let mut search = 0;
    while let Some(off) = source[search..].find("{%") {
        let start = search + off;
        search = start + 2;
        let Some(end_off) = source[start..].find("%}") else { break };
        let inner = &source[start + 2..start + end_off];
        let tag_end = start + end_off + 2;
        let left_dash = inner.starts_with('-');
        let body = inner.trim_start_matches(['-', '+']);
        if body.trim_end().ends_with('-') || body.trim() != "raw" || left_dash {
            continue;
        }
        if !source[tag_end..].starts_with('\n') {
            continue;
        }
        // Where the tag's line starts, if only spaces and tabs stand before the tag on it.
        let line_start = source[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let insert_at =
            if source[line_start..start].chars().all(|c| c == ' ' || c == '\t') { line_start } else { start };
        out.push_str(&source[last..insert_at]);
        out.push('\n');
        out.push_str(&source[insert_at..tag_end]);
        last = tag_end + 1;
        search = last;
        changed = true;
    }
    if !changed {
        return Cow::Borrowed(source);
    }
    out.push_str(&source[last..]);
    Cow::Owned(out)
}

/// Marks an error raised by the template's `raise_exception(message)`.
#[derive(Debug)]
pub(crate) struct Raised(pub String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

fn raise_exception(args: Rest<Value>) -> Result<Value, Error> {
    let message = args.first().map(pyfmt::py_str).unwrap_or_default();
    Err(Error::new(ErrorKind::InvalidOperation, message.clone()).with_source(Raised(message)))
}

/// `{{ value }}` output as Python prints it: `None`, `True`, `False`, `1.0`, `['a', None]`.
/// Undefined prints nothing (strict mode rejects it before this is called). Never HTML-escaped.
fn python_formatter(out: &mut Output, _state: &State, value: &Value) -> Result<(), Error> {
    match value.as_str() {
        Some(s) => out.write_str(s),
        None => out.write_str(&pyfmt::py_str(value)),
    }
    .map_err(|e| Error::new(ErrorKind::WriteFailure, "could not write the output").with_source(e))
}

/// `|string`, as Python's `str()`.
fn string_filter(value: Value) -> Value {
    if value.as_str().is_some() {
        value
    } else {
        Value::from(pyfmt::py_str(&value))
    }
}

/// The base environment: Python compatibility (string/dict methods from minijinja-contrib's
/// pycompat), transformers' globals and filters, Python printing, no auto-escaping.
/// `strftime_now` and the undefined behaviour are set per render.
pub(crate) fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    configure_whitespace(&mut env);
    env.set_debug(false);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_formatter(python_formatter);
    // Jinja2 built-ins that minijinja keeps in minijinja-contrib. (Not `now()`: renders must
    // not depend on the wall clock; `strftime_now` uses the render's fixed clock.)
    env.add_filter("truncate", minijinja_contrib::filters::truncate);
    env.add_filter("striptags", minijinja_contrib::filters::striptags);
    env.add_function("cycler", minijinja_contrib::globals::cycler);
    env.add_function("joiner", minijinja_contrib::globals::joiner);
    crate::filters::register(&mut env);
    env.add_filter("tojson", pyfmt::tojson_filter);
    env.add_filter("string", string_filter);
    env.add_function("raise_exception", raise_exception);
    // Defined so that `strftime_now is defined` holds in checks; replaced per render.
    env.add_function("strftime_now", |_: Rest<Value>| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, "strftime_now has no clock"))
    });
    env
}

/// The global names of the environment (and loop/macro names), which are not variables.
fn global_names() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let env = base_environment();
        let mut names: BTreeSet<String> = env.globals().map(|(n, _)| n.to_string()).collect();
        for extra in ["loop", "self", "super", "caller", "varargs", "kwargs", "strftime_now", "raise_exception"] {
            names.insert(extra.to_string());
        }
        names
    })
}

/// A syntax error with its place in the template.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxErr {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// The 1-based column (in characters) of a byte offset of the normalised source.
pub(crate) fn column_of(source: &str, offset: usize) -> Option<usize> {
    let source = normalize_newlines(source);
    let prefix = source.get(..offset)?;
    let line_start = prefix.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Some(prefix[line_start..].chars().count() + 1)
}

/// The message of an engine error without its location (which we report ourselves).
pub(crate) fn error_message(e: &Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

pub(crate) fn syntax_err(e: &Error, source: &str) -> SyntaxErr {
    // minijinja reports an unclosed comment at the end of the input; point at the `{#` that
    // opens it instead (as Jinja2 does), since that is what the user has to fix.
    if e.detail().is_some_and(|d| d.contains("end of comment")) {
        if let Some(offset) = unclosed_comment(source) {
            let normalized = normalize_newlines(source);
            let line = normalized[..offset].matches('\n').count() + 1;
            return SyntaxErr {
                line: Some(line),
                column: column_of(source, offset),
                message: "unclosed comment: `{#` has no matching `#}` (write `{{ '{#' }}` or use {% raw %} for a literal `{#`)".into(),
            };
        }
    }
    SyntaxErr { line: e.line(), column: e.range().and_then(|r| column_of(source, r.start)), message: error_message(e) }
}

/// The byte offset (in the normalised source) of the first `{#` without a closing `#}`.
fn unclosed_comment(source: &str) -> Option<usize> {
    let normalized = normalize_newlines(source);
    let mut pos = 0;
    while let Some(i) = normalized[pos..].find("{#") {
        let start = pos + i;
        match normalized[start + 2..].find("#}") {
            Some(j) => pos = start + 2 + j + 2,
            None => return Some(start),
        }
    }
    None
}

fn compile_env<'s>() -> Environment<'s> {
    let mut env = Environment::empty();
    configure_whitespace(&mut env);
    env.set_debug(false);
    env
}

/// Checks that `source` compiles.
pub(crate) fn check_syntax(source: &str) -> Result<(), SyntaxErr> {
    let env = compile_env();
    let normalized = normalize_newlines(source);
    env.template_from_str(&normalized).map(|_| ()).map_err(|e| syntax_err(&e, source))
}

/// The variables a template reads from its context (not set by the template itself, not
/// globals). Empty when the template does not compile.
pub(crate) fn undeclared_variables(source: &str) -> BTreeSet<String> {
    let env = compile_env();
    let normalized = normalize_newlines(source);
    let Ok(t) = env.template_from_str(&normalized) else {
        return BTreeSet::new();
    };
    let globals = global_names();
    t.undeclared_variables(false).into_iter().filter(|n| !globals.contains(n)).collect()
}

/// Identifiers inside tags, with their line and column.
fn identifiers(source: &str) -> Vec<(String, usize, usize)> {
    let normalized = normalize_newlines(source);
    tokenize(&normalized, false, SyntaxConfig, WhitespaceConfig::default())
        .map_while(Result::ok)
        .filter_map(|(tok, span)| match tok {
            Token::Ident(name) => Some((name.to_string(), span.start_line as usize, span.start_col as usize + 1)),
            _ => None,
        })
        .collect()
}

/// Whether the template tests `name` before using it somewhere (`name is defined`,
/// `name is not defined`, `name is undefined`, `name is none`, `name | default(…)`, `name | d`).
/// Such a variable is not reported missing before rendering; strict mode still refuses it
/// where the render actually uses it undefined.
pub(crate) fn is_guarded(source: &str, name: &str) -> bool {
    let normalized = normalize_newlines(source);
    let tokens: Vec<Token<'_>> = tokenize(&normalized, false, SyntaxConfig, WhitespaceConfig::default())
        .map_while(Result::ok)
        .map(|(t, _)| t)
        .collect();
    tokens.iter().enumerate().any(|(i, t)| {
        if !matches!(t, Token::Ident(n) if *n == name) {
            return false;
        }
        matches!(
            (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3)),
            (Some(Token::Pipe), Some(Token::Ident("default" | "d")), _)
                | (Some(Token::Ident("is")), Some(Token::Ident("defined" | "undefined" | "none")), _)
                | (
                    Some(Token::Ident("is")),
                    Some(Token::Ident("not")),
                    Some(Token::Ident("defined" | "undefined" | "none"))
                )
        )
    })
}

/// Where `name` is first used in a template: (line, column), 1-based.
pub(crate) fn first_use(source: &str, name: &str) -> Option<(usize, usize)> {
    identifiers(source).into_iter().find(|(n, _, _)| n == name).map(|(_, l, c)| (l, c))
}

/// The identifiers used on one line, in order.
/// Every identifier used inside the template's tags.
pub(crate) fn identifier_names(source: &str) -> BTreeSet<String> {
    identifiers(source).into_iter().map(|(n, _, _)| n).collect()
}

pub(crate) fn identifiers_on_line(source: &str, line: usize) -> Vec<String> {
    identifiers(source).into_iter().filter(|(_, l, _)| *l == line).map(|(n, _, _)| n).collect()
}
