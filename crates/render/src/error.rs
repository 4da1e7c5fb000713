//! The errors of parsing and rendering. Every variant names the prompt (its name and file) and,
//! where there is one, the line; no engine types appear here.

/// Where in a prompt file a template sits, for error messages: the file, the part of the file
/// (`messages[1].content`, `template`, `body`) and the first line of that part in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The prompt file, e.g. `support/triage.prompt.yaml`.
    pub file: String,
    /// The part of the file holding the template, if it is not the whole file.
    pub part: Option<String>,
    /// Line in the template (1-based).
    pub line: Option<usize>,
    /// Column in the template (1-based, in characters).
    pub column: Option<usize>,
    /// The same line counted in the whole file (1-based), when it could be worked out.
    pub file_line: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.file)?;
        if let Some(part) = &self.part {
            write!(f, " {part}")?;
        }
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
            if let Some(col) = self.column {
                write!(f, ", column {col}")?;
            }
        }
        if let (Some(file_line), Some(_)) = (self.file_line, &self.part) {
            write!(f, " (line {file_line} of the file)")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The bytes of a renderable file are not UTF-8.
    #[error(
        "{file}: not UTF-8 text (invalid byte at offset {offset}); only UTF-8 prompt files can be parsed or rendered"
    )]
    NotUtf8 { file: String, offset: usize },

    /// Malformed YAML (native prompt, front matter, tokenizer config).
    #[error("{file}: invalid YAML at line {line}, column {column}: {message}")]
    Yaml { file: String, line: usize, column: usize, message: String },

    /// Malformed JSON (tokenizer_config.json, JSON input files).
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Json { file: String, line: usize, column: usize, message: String },

    /// The file parses but breaks the prompt format's rules (unknown key, bad variable schema…).
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },

    /// A template syntax error.
    #[error("template syntax error in {location}: {message}")]
    Syntax { location: Box<Location>, message: String },

    /// The file is written for another template engine.
    #[error("{file} needs the {engine} engine, which promptctl does not have: {reason}")]
    NeedsEngine { file: String, engine: &'static str, reason: String },

    /// The file cannot be rendered at all (kind other holding binary data, an include of a native prompt…).
    #[error("{file}: {message}")]
    NotRenderable { file: String, message: String },

    /// A strict prompt uses a variable that was not given and has no default.
    #[error("prompt `{prompt}`: variable `{variable}` is used in {location} but was not given and has no default (give it with --var {variable}=…, declare a default, or set `undefined: lenient`){}", unused_note(.unused))]
    MissingVariable {
        prompt: String,
        variable: String,
        location: Box<Location>,
        /// Variables that were given but are not used (often the same one, misspelt).
        unused: Vec<String>,
    },

    /// An undefined value was used where it is not allowed (any use in strict mode; an
    /// attribute of an undefined value in lenient mode, as in Jinja2).
    #[error("prompt `{prompt}`: undefined value in {location}: {message}")]
    Undefined { prompt: String, location: Box<Location>, message: String },

    /// A given variable does not match the declared type or enum.
    #[error("prompt `{prompt}`: variable `{variable}` must be {expected}, got {got}")]
    InvalidVariable { prompt: String, variable: String, expected: String, got: String },

    /// The template called `raise_exception(message)`. The error text is exactly `message`, as
    /// transformers reports it; where it happened is in the other fields.
    #[error("{message}")]
    Raised { prompt: String, location: Box<Location>, message: String },

    /// `{% include %}`, `{% import %}` or `{% extends %}` named a template the snapshot does not have.
    #[error("prompt `{prompt}`: template `{template}` (used in {location}) is not in this snapshot")]
    TemplateNotFound { prompt: String, template: String, location: Box<Location> },

    /// Any other error while rendering.
    #[error("prompt `{prompt}`: render error in {location}: {message}")]
    Render { prompt: String, location: Box<Location>, message: String },

    /// A `tokenizer_config.json` whose `chat_template` has an unexpected shape.
    #[error("{file}: {message}")]
    TokenizerConfig { file: String, message: String },
}

fn unused_note(unused: &[String]) -> String {
    if unused.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = unused.iter().map(|u| format!("`{u}`")).collect();
        format!("; given but not used: {}", list.join(", "))
    }
}
