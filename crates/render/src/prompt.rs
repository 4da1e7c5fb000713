//! Prompt file formats: the native `*.prompt.yaml`, plain templates, Prompty, Dotprompt and
//! other files, parsed into a [`Prompt`] without rendering anything.

use promptctl_core::FileKind;
use serde_json::{Map, Value as Json};

use crate::error::{Location, RenderError};
use crate::foreign;
use crate::jinja;
use crate::Source;

/// Whether an undefined variable is an error (`strict`, the default of native prompts) or
/// behaves like Jinja2's default `Undefined` (`lenient`: falsy, prints as nothing, `is defined`
/// works; the default of plain templates, Prompty and other files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndefinedMode {
    Strict,
    Lenient,
}

impl UndefinedMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            UndefinedMode::Strict => "strict",
            UndefinedMode::Lenient => "lenient",
        }
    }
}

/// The declared type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
}

impl VarType {
    pub fn as_str(&self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Integer => "integer",
            VarType::Boolean => "boolean",
            VarType::Array => "array",
            VarType::Object => "object",
        }
    }

    fn parse(s: &str) -> Option<VarType> {
        Some(match s {
            "string" => VarType::String,
            "number" => VarType::Number,
            "integer" => VarType::Integer,
            "boolean" => VarType::Boolean,
            "array" => VarType::Array,
            "object" => VarType::Object,
            _ => return None,
        })
    }

    pub fn matches(&self, v: &Json) -> bool {
        match self {
            VarType::String => v.is_string(),
            VarType::Number => v.is_number(),
            VarType::Integer => v.is_i64() || v.is_u64(),
            VarType::Boolean => v.is_boolean(),
            VarType::Array => v.is_array(),
            VarType::Object => v.is_object(),
        }
    }
}

/// The JSON type name of a value, for error messages.
pub(crate) fn json_type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_f64() => "number",
        Json::Number(_) => "integer",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A variable: declared in a native prompt's `variables:` or a Prompty `inputs:`/`sample:`,
/// or (for plain templates) found in the template.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub ty: Option<VarType>,
    /// A required variable must be given unless it has a default. Declared variables are
    /// required unless `required: false`; variables found in a plain template are not.
    pub required: bool,
    pub default: Option<Json>,
    pub enum_values: Option<Vec<Json>>,
    pub description: Option<String>,
    /// Declared by the file (as opposed to found in the template).
    pub declared: bool,
}

/// One test case of a native prompt (`tests:`), kept as written for `promptctl test`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub vars: Map<String, Json>,
    pub assert: Vec<Json>,
    /// The whole case as written (other keys such as `description` included).
    pub raw: Json,
}

/// One message of a native prompt: a role and its content template.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageTemplate {
    pub role: String,
    pub content: String,
}

/// How the lines of a template map to the lines of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineMap {
    /// Template line `n` is file line `base + n - 1` (a whole file, a body, a YAML `|` block).
    Exact(usize),
    /// Every template line is on file line `base` (a one-line quoted YAML scalar with `\n` escapes).
    Same(usize),
    /// Only the first template line is known to be on file line `base` (folded scalars).
    First(usize),
}

/// A template and where it sits in its file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    /// Distinguishes the parts of one file in the engine's cache (`""` for a whole file).
    pub key_suffix: String,
    /// `messages[1].content`, `template`, `body`, or `None` for a whole-file template.
    pub label: Option<String>,
    pub source: String,
    /// How the template's lines map to lines of the file.
    pub file_line: Option<LineMap>,
    /// For native messages, the role.
    pub role: Option<String>,
}

impl Part {
    pub fn location(&self, file: &str, line: Option<usize>, column: Option<usize>) -> Box<Location> {
        let file_line = match (self.file_line, line) {
            (Some(LineMap::Exact(base)), Some(l)) => Some(base + l - 1),
            (Some(LineMap::Same(base)), Some(_)) | (Some(LineMap::First(base)), Some(1)) => Some(base),
            _ => None,
        };
        Box::new(Location { file: file.to_string(), part: self.label.clone(), line, column, file_line })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// Native `messages:`: one template per message.
    Messages(Vec<Part>),
    /// One template (native `template:`, plain templates, Prompty and Dotprompt bodies, other text).
    Template(Part),
    /// Written for another engine.
    Foreign { engine: &'static str, reason: String },
    /// Cannot be rendered (binary data in a file of kind other).
    Unrenderable(String),
}

/// Where a Prompty file takes the inputs from: `inputs: ${file:context.json}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileRef {
    pub path: String,
}

/// A parsed prompt file.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub(crate) kind: FileKind,
    pub(crate) file: String,
    pub(crate) description: Option<String>,
    pub(crate) model: Option<Json>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) undefined: UndefinedMode,
    pub(crate) body: Body,
    pub(crate) tests: Vec<TestCase>,
    pub(crate) metadata: Option<Json>,
    pub(crate) inputs_ref: Option<FileRef>,
    pub(crate) warnings: Vec<String>,
}

impl Prompt {
    pub fn kind(&self) -> FileKind {
        self.kind
    }
    /// The file the prompt was parsed from (`support/triage.prompt.yaml`).
    pub fn file(&self) -> &str {
        &self.file
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Native `model:`, or the Prompty / Dotprompt front matter's `model`.
    pub fn model(&self) -> Option<&Json> {
        self.model.as_ref()
    }
    /// Declared variables (native `variables:`, Prompty `inputs:`/`sample:`, Dotprompt
    /// `input.default`) in file order, then the other variables the templates read, sorted by
    /// name (`declared: false`).
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }
    pub fn tests(&self) -> &[TestCase] {
        &self.tests
    }
    pub fn undefined(&self) -> UndefinedMode {
        self.undefined
    }
    /// The message templates of a native prompt with `messages:`.
    pub fn messages(&self) -> Option<Vec<MessageTemplate>> {
        match &self.body {
            Body::Messages(parts) => Some(
                parts
                    .iter()
                    .map(|p| MessageTemplate { role: p.role.clone().unwrap_or_default(), content: p.source.clone() })
                    .collect(),
            ),
            _ => None,
        }
    }
    /// The single template (native `template:`, a plain template, a Prompty/Dotprompt body).
    pub fn template(&self) -> Option<&str> {
        match &self.body {
            Body::Template(p) => Some(&p.source),
            _ => None,
        }
    }
    /// Front matter of a Prompty or Dotprompt file, as written.
    pub fn metadata(&self) -> Option<&Json> {
        self.metadata.as_ref()
    }
    /// The engine this file needs when it is not Jinja (e.g. `Handlebars (Dotprompt)`).
    pub fn needs_engine(&self) -> Option<&'static str> {
        match &self.body {
            Body::Foreign { engine, .. } => Some(engine),
            _ => None,
        }
    }
    /// Whether `render` can render this file.
    pub fn is_renderable(&self) -> bool {
        matches!(self.body, Body::Messages(_) | Body::Template(_))
    }
    /// Things worth telling the user that do not stop a commit (CRLF line endings, a BOM, a
    /// file for another engine…).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The path shown for a prompt file in messages.
pub(crate) fn display_file(src: &Source) -> String {
    src.name.to_path(src.kind)
}

/// Validates UTF-8, naming the byte offset of the first invalid byte.
pub(crate) fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, RenderError> {
    std::str::from_utf8(bytes).map_err(|e| RenderError::NotUtf8 { file: file.to_string(), offset: e.valid_up_to() })
}

/// Parses a file into a [`Prompt`]: YAML and front matter, variable schema, template syntax.
/// Nothing is rendered. Used by `commit` to refuse invalid prompts.
pub fn parse(src: &Source) -> Result<Prompt, RenderError> {
    let file = display_file(src);
    match src.kind {
        FileKind::Native => parse_native(&file, utf8(&file, &src.bytes)?),
        FileKind::Prompty => parse_prompty(&file, utf8(&file, &src.bytes)?),
        FileKind::Dotprompt => parse_dotprompt(&file, utf8(&file, &src.bytes)?),
        FileKind::Other => Ok(parse_other(&file, &src.bytes)),
        _ => parse_plain(&file, src.kind, utf8(&file, &src.bytes)?),
    }
}

fn empty_prompt(file: &str, kind: FileKind, body: Body) -> Prompt {
    Prompt {
        kind,
        file: file.to_string(),
        description: None,
        model: None,
        variables: Vec::new(),
        undefined: UndefinedMode::Lenient,
        body,
        tests: Vec::new(),
        metadata: None,
        inputs_ref: None,
        warnings: Vec::new(),
    }
}

fn text_warnings(text: &str) -> Vec<String> {
    let mut w = Vec::new();
    if text.starts_with('\u{feff}') {
        w.push("the file starts with a UTF-8 byte order mark (kept as is; it is part of the render)".to_string());
    }
    if text.contains("\r\n") {
        w.push("the file has CRLF line endings (stored as they are; renders use LF, as Jinja2 does)".to_string());
    }
    w
}

fn whole_file_part(text: &str) -> Part {
    Part {
        key_suffix: String::new(),
        label: None,
        source: text.to_string(),
        file_line: Some(LineMap::Exact(1)),
        role: None,
    }
}

/// Checks a template's syntax. A syntax error that another engine's syntax explains becomes
/// `Ok(Some(engine, reason))`.
fn check_template(file: &str, part: &Part) -> Result<Option<(&'static str, String)>, RenderError> {
    match jinja::check_syntax(&part.source) {
        Ok(()) => Ok(None),
        Err(e) => {
            if let Some(found) = foreign::detect(&part.source) {
                return Ok(Some(found));
            }
            Err(RenderError::Syntax { location: part.location(file, e.line, e.column), message: e.message })
        }
    }
}

fn found_variables(parts: &[&Part], declared: &[Variable]) -> Vec<Variable> {
    let mut names = std::collections::BTreeSet::new();
    for p in parts {
        names.extend(jinja::undeclared_variables(&p.source));
    }
    names
        .into_iter()
        .filter(|n| !declared.iter().any(|d| &d.name == n))
        .map(|name| Variable {
            name,
            ty: None,
            required: false,
            default: None,
            enum_values: None,
            description: None,
            declared: false,
        })
        .collect()
}

fn parse_plain(file: &str, kind: FileKind, text: &str) -> Result<Prompt, RenderError> {
    let part = whole_file_part(text);
    let mut prompt = empty_prompt(file, kind, Body::Unrenderable(String::new()));
    prompt.warnings = text_warnings(text);
    match check_template(file, &part)? {
        Some((engine, reason)) => {
            prompt.warnings.push(format!("this file is written for the {engine} engine and cannot be rendered"));
            prompt.body = Body::Foreign { engine, reason };
        }
        None => {
            prompt.variables = found_variables(&[&part], &[]);
            prompt.body = Body::Template(part);
        }
    }
    Ok(prompt)
}

/// Files of kind other are stored as they are; `parse` never refuses them. They render as a
/// Jinja template when they are UTF-8 text (no NUL bytes) that parses as Jinja.
fn parse_other(file: &str, bytes: &[u8]) -> Prompt {
    let mut prompt = empty_prompt(file, FileKind::Other, Body::Unrenderable(String::new()));
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        Ok(t) => {
            let offset = t.find('\0').unwrap_or(0);
            prompt.body = Body::Unrenderable(format!("it holds binary data (a NUL byte at offset {offset})"));
            return prompt;
        }
        Err(e) => {
            prompt.body = Body::Unrenderable(format!(
                "it is not UTF-8 text (invalid byte at offset {}); only text files can be rendered",
                e.valid_up_to()
            ));
            return prompt;
        }
    };
    let part = whole_file_part(text);
    match check_template(file, &part) {
        Ok(None) => {
            prompt.variables = found_variables(&[&part], &[]);
            prompt.body = Body::Template(part);
        }
        Ok(Some((engine, reason))) => prompt.body = Body::Foreign { engine, reason },
        Err(e) => prompt.body = Body::Unrenderable(format!("it is not a valid Jinja template ({e})")),
    }
    prompt
}

// ---------------------------------------------------------------------------------------------
// YAML helpers

/// Parses YAML text, reporting errors with line and column.
pub(crate) fn parse_yaml(file: &str, text: &str, first_line: usize) -> Result<Json, RenderError> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        let mut message = e.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        RenderError::Yaml { file: file.to_string(), line: line + first_line - 1, column, message }
    })?;
    yaml_to_json(file, yaml)
}

fn yaml_to_json(file: &str, v: serde_yaml::Value) -> Result<Json, RenderError> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f).map(Json::Number).ok_or_else(|| RenderError::Invalid {
                    file: file.to_string(),
                    message: format!("the number {f} cannot be used (NaN and infinity are not supported)"),
                })?
            }
        }
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(|i| yaml_to_json(file, i)).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(RenderError::Invalid {
                            file: file.to_string(),
                            message: format!("mapping keys must be strings, found {other:?}"),
                        })
                    }
                };
                out.insert(key, yaml_to_json(file, v)?);
            }
            Json::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(file, t.value)?,
    })
}

/// For each `key:` entry inside the top-level `section:` block (e.g. every `content:` under
/// `messages:`), how the value's lines map to lines of the file.
fn value_lines(text: &str, section: &str, key: &str) -> Vec<LineMap> {
    let mut out = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let top_level = !line.starts_with([' ', '\t', '-', '#']) && !line.trim().is_empty();
        if top_level {
            inside = false;
            if let Some(rest) = line.strip_prefix(section) {
                if rest.trim_start().starts_with(':') {
                    if section == key {
                        let value = rest.trim_start()[1..].trim_start();
                        out.push(scalar_start(lineno, value));
                    }
                    inside = true;
                }
            }
            continue;
        }
        if !inside || section == key {
            continue;
        }
        let mut s = line.trim_start();
        if let Some(r) = s.strip_prefix('-') {
            s = r.trim_start();
        }
        if let Some(rest) = s.strip_prefix(key) {
            if let Some(value) = rest.trim_start().strip_prefix(':') {
                out.push(scalar_start(lineno, value.trim_start()));
            }
        }
    }
    out
}

fn scalar_start(lineno: usize, value: &str) -> LineMap {
    let value = value.trim_end();
    let closed_on_line = |q: char| value.len() >= 2 && value.ends_with(q);
    if value.starts_with('|') {
        LineMap::Exact(lineno + 1)
    } else if value.starts_with('>') {
        LineMap::First(lineno + 1)
    } else if (value.starts_with('"') && closed_on_line('"')) || (value.starts_with('\'') && closed_on_line('\'')) {
        LineMap::Same(lineno)
    } else {
        LineMap::First(lineno)
    }
}

fn invalid(file: &str, message: impl Into<String>) -> RenderError {
    RenderError::Invalid { file: file.to_string(), message: message.into() }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Native prompts

const NATIVE_KEYS: [&str; 8] =
    ["description", "model", "variables", "messages", "template", "tests", "undefined", "metadata"];

fn parse_native(file: &str, text: &str) -> Result<Prompt, RenderError> {
    let doc = parse_yaml(file, text, 1)?;
    let Json::Object(doc) = doc else {
        return Err(invalid(file, "a native prompt must be a YAML mapping with `messages:` or `template:`"));
    };
    for key in doc.keys() {
        if !NATIVE_KEYS.contains(&key.as_str()) {
            return Err(invalid(
                file,
                format!("unknown key `{key}` (a native prompt may have: {})", NATIVE_KEYS.join(", ")),
            ));
        }
    }
    let mut prompt = empty_prompt(file, FileKind::Native, Body::Unrenderable(String::new()));
    prompt.undefined = UndefinedMode::Strict;
    prompt.warnings = text_warnings(text);
    prompt.description = match doc.get("description") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(invalid(file, format!("`description` must be a string, not {}", json_type_name(other))))
        }
    };
    prompt.model = match doc.get("model") {
        None | Some(Json::Null) => None,
        Some(m @ Json::Object(_)) => Some(m.clone()),
        Some(other) => {
            return Err(invalid(
                file,
                format!("`model` must be a mapping (e.g. {{route: default}}), not {}", json_type_name(other)),
            ))
        }
    };
    prompt.metadata = doc.get("metadata").cloned();
    prompt.undefined = match doc.get("undefined") {
        None | Some(Json::Null) => UndefinedMode::Strict,
        Some(Json::String(s)) if s == "strict" => UndefinedMode::Strict,
        Some(Json::String(s)) if s == "lenient" => UndefinedMode::Lenient,
        Some(other) => return Err(invalid(file, format!("`undefined` must be `strict` or `lenient`, not {other}"))),
    };
    prompt.variables = parse_variables(file, doc.get("variables"))?;
    prompt.tests = parse_tests(file, doc.get("tests"))?;

    let parts = match (doc.get("messages"), doc.get("template")) {
        (Some(_), Some(_)) => return Err(invalid(file, "use either `messages:` or `template:`, not both")),
        (None, None) => {
            return Err(invalid(file, "a native prompt needs `messages:` (a list of {role, content}) or `template:`"))
        }
        (None, Some(Json::String(t))) => {
            let line = value_lines(text, "template", "template").first().copied();
            vec![Part {
                key_suffix: "#template".into(),
                label: Some("template".into()),
                source: t.clone(),
                file_line: line,
                role: None,
            }]
        }
        (None, Some(other)) => {
            return Err(invalid(file, format!("`template` must be a string, not {}", json_type_name(other))))
        }
        (Some(Json::Array(msgs)), None) => {
            let lines = value_lines(text, "messages", "content");
            let lines_known = lines.len() == msgs.len();
            let mut parts = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                let Json::Object(m) = m else {
                    return Err(invalid(file, format!("messages[{i}] must be a mapping with `role` and `content`")));
                };
                for key in m.keys() {
                    if !["role", "content", "name"].contains(&key.as_str()) {
                        return Err(invalid(
                            file,
                            format!("messages[{i}]: unknown key `{key}` (use role, content, name)"),
                        ));
                    }
                }
                let role = match m.get("role") {
                    Some(Json::String(r)) if !r.trim().is_empty() => r.clone(),
                    _ => return Err(invalid(file, format!("messages[{i}] needs a `role` (system, user, assistant…)"))),
                };
                let content = match m.get("content") {
                    Some(Json::String(c)) => c.clone(),
                    Some(Json::Null) | None => {
                        return Err(invalid(file, format!("messages[{i}] ({role}) needs a `content` string")))
                    }
                    Some(other) => {
                        return Err(invalid(
                            file,
                            format!("messages[{i}].content must be a string, not {}", json_type_name(other)),
                        ))
                    }
                };
                parts.push(Part {
                    key_suffix: format!("#messages[{i}]"),
                    label: Some(format!("messages[{i}].content")),
                    source: content,
                    file_line: if lines_known { Some(lines[i]) } else { None },
                    role: Some(role),
                });
            }
            if parts.is_empty() {
                return Err(invalid(file, "`messages` is empty"));
            }
            parts
        }
        (Some(other), None) => {
            return Err(invalid(file, format!("`messages` must be a list, not {}", json_type_name(other))))
        }
    };
    for part in &parts {
        if let Some((engine, _)) = check_template(file, part)? {
            let label = part.label.as_deref().unwrap_or("template");
            return Err(RenderError::NeedsEngine {
                file: file.to_string(),
                engine,
                reason: format!("{label} is not Jinja; native prompts are Jinja templates"),
            });
        }
    }
    let refs: Vec<&Part> = parts.iter().collect();
    let found = found_variables(&refs, &prompt.variables);
    prompt.variables.extend(found);
    prompt.body = if doc.contains_key("template") {
        Body::Template(parts.into_iter().next().ok_or_else(|| invalid(file, "empty template"))?)
    } else {
        Body::Messages(parts)
    };
    Ok(prompt)
}

fn parse_variables(file: &str, v: Option<&Json>) -> Result<Vec<Variable>, RenderError> {
    let map = match v {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Object(m)) => m,
        Some(other) => {
            return Err(invalid(
                file,
                format!("`variables` must be a mapping of name to spec, not {}", json_type_name(other)),
            ))
        }
    };
    let mut out = Vec::new();
    for (name, spec) in map {
        if !is_identifier(name) {
            return Err(invalid(file, format!("variable name `{name}` is not an identifier (letters, digits, `_`)")));
        }
        let spec = match spec {
            Json::Null => Map::new(),
            Json::Object(m) => m.clone(),
            Json::String(t) => {
                let mut m = Map::new();
                m.insert("type".into(), Json::String(t.clone()));
                m
            }
            other => {
                return Err(invalid(
                    file,
                    format!(
                        "variables.{name} must be a mapping such as {{type: string}}, not {}",
                        json_type_name(other)
                    ),
                ))
            }
        };
        for key in spec.keys() {
            if !["type", "required", "default", "enum", "description"].contains(&key.as_str()) {
                return Err(invalid(
                    file,
                    format!("variables.{name}: unknown key `{key}` (use type, required, default, enum, description)"),
                ));
            }
        }
        let ty = match spec.get("type") {
            None | Some(Json::Null) => None,
            Some(Json::String(t)) => Some(VarType::parse(t).ok_or_else(|| {
                invalid(
                    file,
                    format!(
                        "variables.{name}.type `{t}` is not one of string, number, integer, boolean, array, object"
                    ),
                )
            })?),
            Some(other) => return Err(invalid(file, format!("variables.{name}.type must be a string, not {other}"))),
        };
        let required = match spec.get("required") {
            None | Some(Json::Null) => true,
            Some(Json::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(file, format!("variables.{name}.required must be true or false, not {other}")))
            }
        };
        let enum_values = match spec.get("enum") {
            None | Some(Json::Null) => None,
            Some(Json::Array(a)) if !a.is_empty() => Some(a.clone()),
            Some(other) => {
                return Err(invalid(file, format!("variables.{name}.enum must be a non-empty list, not {other}")))
            }
        };
        let description = match spec.get("description") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(invalid(file, format!("variables.{name}.description must be a string, not {other}")))
            }
        };
        let default = spec.get("default").cloned();
        let var = Variable { name: name.clone(), ty, required, default, enum_values, description, declared: true };
        if let Some(d) = &var.default {
            check_value(&var, d).map_err(|(expected, got)| {
                invalid(file, format!("variables.{name}.default must be {expected}, got {got}"))
            })?;
        }
        if let (Some(ty), Some(values)) = (var.ty, &var.enum_values) {
            if let Some(bad) = values.iter().find(|v| !ty.matches(v)) {
                return Err(invalid(file, format!("variables.{name}.enum value {bad} is not of type {}", ty.as_str())));
            }
        }
        out.push(var);
    }
    Ok(out)
}

/// Checks a value against a variable's type and enum: `Err((expected, got))`.
pub(crate) fn check_value(var: &Variable, v: &Json) -> Result<(), (String, String)> {
    if let Some(ty) = var.ty {
        if !ty.matches(v) {
            return Err((format!("of type {}", ty.as_str()), format!("{} {}", json_type_name(v), short_json(v))));
        }
    }
    if let Some(values) = &var.enum_values {
        if !values.contains(v) {
            let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            return Err((format!("one of [{}]", list.join(", ")), short_json(v)));
        }
    }
    Ok(())
}

fn short_json(v: &Json) -> String {
    let mut s = v.to_string();
    if s.chars().count() > 60 {
        s = s.chars().take(57).collect::<String>() + "...";
    }
    s
}

fn parse_tests(file: &str, v: Option<&Json>) -> Result<Vec<TestCase>, RenderError> {
    let list = match v {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(a)) => a,
        Some(other) => {
            return Err(invalid(file, format!("`tests` must be a list of cases, not {}", json_type_name(other))))
        }
    };
    let mut out = Vec::new();
    for (i, case) in list.iter().enumerate() {
        let Json::Object(m) = case else {
            return Err(invalid(file, format!("tests[{i}] must be a mapping with `vars` and `assert`")));
        };
        let vars = match m.get("vars") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(v)) => v.clone(),
            Some(other) => {
                return Err(invalid(file, format!("tests[{i}].vars must be a mapping, not {}", json_type_name(other))))
            }
        };
        let assert = match m.get("assert") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(a)) => a.clone(),
            Some(other) => {
                return Err(invalid(file, format!("tests[{i}].assert must be a list, not {}", json_type_name(other))))
            }
        };
        out.push(TestCase { vars, assert, raw: case.clone() });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Front matter (Prompty, Dotprompt)

/// Splits `---` front matter from the body. The `---` lines may end in LF, CRLF or CR; the body
/// is returned byte for byte as it follows the closing line. `None` when there is no front matter.
/// Returns (front matter text, its first line number, body, body's first line number).
pub fn split_front_matter(text: &str) -> Option<(&str, usize, &str, usize)> {
    let start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let rest = &text[start..];
    let first_end = fence_line_end(rest)?;
    let meta_start = start + first_end;
    let mut pos = meta_start;
    let mut line = 2;
    while pos <= text.len() {
        let line_text = &text[pos..];
        if let Some(len) = fence_line_end(line_text) {
            return Some((&text[meta_start..pos], 2, &text[pos + len..], line + 1));
        }
        // Advance to the next line (LF, CRLF or CR).
        let next = line_text.find(['\n', '\r'])?;
        let mut skip = next + 1;
        if line_text[next..].starts_with("\r\n") {
            skip += 1;
        }
        pos += skip;
        line += 1;
    }
    None
}

/// If `s` starts with a `---` line, the length of that line including its line ending.
fn fence_line_end(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("---")?;
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let spaces = rest.len() - trimmed.len();
    if trimmed.is_empty() {
        return Some(3 + spaces);
    }
    if trimmed.starts_with("\r\n") {
        Some(3 + spaces + 2)
    } else if trimmed.starts_with(['\n', '\r']) {
        Some(3 + spaces + 1)
    } else {
        None
    }
}

fn body_part(body: &str, first_line: usize) -> Part {
    Part {
        key_suffix: "#body".into(),
        label: Some("body".into()),
        source: body.to_string(),
        file_line: Some(LineMap::Exact(first_line)),
        role: None,
    }
}

fn parse_prompty(file: &str, text: &str) -> Result<Prompt, RenderError> {
    let mut prompt = empty_prompt(file, FileKind::Prompty, Body::Unrenderable(String::new()));
    prompt.warnings = text_warnings(text);
    let (meta, body, body_line) = match split_front_matter(text) {
        Some((meta, meta_line, body, body_line)) => (parse_yaml(file, meta, meta_line)?, body, body_line),
        None => (Json::Null, text, 1),
    };
    if let Json::Object(m) = &meta {
        prompt.description = m.get("description").and_then(Json::as_str).map(str::to_string);
        prompt.model = m.get("model").cloned();
        let mut vars = Vec::new();
        for key in ["inputs", "sample"] {
            match m.get(key) {
                Some(Json::String(s)) => {
                    if let Some(path) = s.strip_prefix("${file:").and_then(|r| r.strip_suffix('}')) {
                        prompt.inputs_ref = Some(FileRef { path: path.trim().to_string() });
                    }
                }
                Some(v) => merge_prompty_inputs(&mut vars, v, key == "sample"),
                None => {}
            }
        }
        prompt.variables = vars;
    } else if !meta.is_null() {
        return Err(invalid(file, "the front matter must be a YAML mapping"));
    }
    prompt.metadata = Some(meta);
    let part = body_part(body, body_line);
    if let Some((engine, reason)) = check_template(file, &part)? {
        prompt.body = Body::Foreign { engine, reason };
        return Ok(prompt);
    }
    let found = found_variables(&[&part], &prompt.variables);
    prompt.variables.extend(found);
    prompt.body = Body::Template(part);
    Ok(prompt)
}

/// Prompty inputs: `inputs:` as a mapping of name to value (a default) or to a spec
/// (`{type|kind, default, description}`), or (Prompty 2) a list of `{name, kind, default}`;
/// `sample:` as a mapping of name to sample value, used as the default when `inputs` gives none.
fn merge_prompty_inputs(vars: &mut Vec<Variable>, v: &Json, is_sample: bool) {
    let mut set = |name: &str, default: Option<Json>, description: Option<String>| {
        if let Some(existing) = vars.iter_mut().find(|x| x.name == name) {
            if existing.default.is_none() {
                existing.default = default;
            }
            return;
        }
        vars.push(Variable {
            name: name.to_string(),
            ty: None,
            required: false,
            default,
            enum_values: None,
            description,
            declared: true,
        });
    };
    match v {
        Json::Object(m) => {
            for (name, value) in m {
                let spec = value.as_object().filter(|o| {
                    !is_sample
                        && ["type", "kind", "default", "description", "sample"].iter().any(|k| o.contains_key(*k))
                });
                match spec {
                    Some(o) => set(
                        name,
                        o.get("default").or_else(|| o.get("sample")).cloned(),
                        o.get("description").and_then(Json::as_str).map(str::to_string),
                    ),
                    None => set(name, Some(value.clone()), None),
                }
            }
        }
        Json::Array(items) => {
            for item in items {
                if let Some(name) = item.get("name").and_then(Json::as_str) {
                    set(
                        name,
                        item.get("default").or_else(|| item.get("sample")).cloned(),
                        item.get("description").and_then(Json::as_str).map(str::to_string),
                    );
                }
            }
        }
        _ => {}
    }
}

/// The byte offset and line number after leading `#` comment lines and blank lines, which
/// Dotprompt files may have before their front matter (a licence header).
fn skip_comment_header(text: &str) -> (usize, usize) {
    let (mut offset, mut line) = (0, 1);
    for l in text.split_inclusive('\n') {
        let t = l.trim();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        offset += l.len();
        line += 1;
    }
    (offset, line)
}

fn parse_dotprompt(file: &str, text: &str) -> Result<Prompt, RenderError> {
    let mut prompt = empty_prompt(file, FileKind::Dotprompt, Body::Unrenderable(String::new()));
    prompt.warnings = text_warnings(text);
    let (skip, skipped_lines) = skip_comment_header(text);
    let (meta, body, body_line) = match split_front_matter(&text[skip..]) {
        Some((meta, meta_line, body, body_line)) => {
            (parse_yaml(file, meta, meta_line + skipped_lines - 1)?, body, body_line + skipped_lines - 1)
        }
        None => (Json::Null, text, 1),
    };
    if let Json::Object(m) = &meta {
        prompt.description = m.get("description").and_then(Json::as_str).map(str::to_string);
        prompt.model = m.get("model").map(|v| match v {
            Json::String(s) => serde_json::json!({ "model": s }),
            other => other.clone(),
        });
        if let Some(Json::Object(defaults)) = m.get("input").and_then(|i| i.get("default")) {
            for (name, value) in defaults {
                prompt.variables.push(Variable {
                    name: name.clone(),
                    ty: None,
                    required: false,
                    default: Some(value.clone()),
                    enum_values: None,
                    description: None,
                    declared: true,
                });
            }
        }
    } else if !meta.is_null() {
        return Err(invalid(file, "the front matter must be a YAML mapping"));
    }
    prompt.metadata = Some(meta);
    // Dotprompt bodies are Handlebars. A body that uses Handlebars syntax is not rendered (and
    // not refused by `commit`); one that only substitutes `{{ name }}` renders the same in Jinja.
    let part = body_part(body, body_line);
    if let Some((engine, reason)) = foreign::detect_handlebars(body) {
        prompt.body = Body::Foreign { engine, reason };
        return Ok(prompt);
    }
    match jinja::check_syntax(body) {
        Ok(()) => {
            let found = found_variables(&[&part], &prompt.variables);
            prompt.variables.extend(found);
            prompt.body = Body::Template(part);
        }
        Err(e) => {
            prompt.body = Body::Foreign {
                engine: foreign::HANDLEBARS,
                reason: format!("the body is not Jinja-compatible (line {}: {})", e.line.unwrap_or(1), e.message),
            }
        }
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_line_endings() {
        for nl in ["\n", "\r\n", "\r"] {
            let text = format!("---{nl}model: x{nl}---{nl}Hello {{{{ name }}}}{nl}");
            let (meta, _, body, line) = split_front_matter(&text).expect("front matter");
            assert_eq!(meta, format!("model: x{nl}"));
            assert_eq!(body, format!("Hello {{{{ name }}}}{nl}"));
            assert_eq!(line, 4);
        }
        assert!(split_front_matter("no front matter").is_none());
        assert!(split_front_matter("---\nunclosed: 1\n").is_none());
        let (meta, _, body, _) = split_front_matter("---\n---\nbody").expect("empty front matter");
        assert_eq!((meta, body), ("", "body"));
    }

    #[test]
    fn content_lines_in_yaml() {
        let text = "description: d\nmessages:\n  - role: system\n    content: hi\n  - role: user\n    content: |\n      a\n      b\ntests: []\n";
        assert_eq!(value_lines(text, "messages", "content"), vec![LineMap::First(4), LineMap::Exact(7)]);
        assert_eq!(value_lines("template: |\n  x\n", "template", "template"), vec![LineMap::Exact(2)]);
        assert_eq!(value_lines("template: \"a\\nb\"  # c\n", "template", "template"), vec![LineMap::First(1)]);
        assert_eq!(value_lines("template: \"a\\nb\"\n", "template", "template"), vec![LineMap::Same(1)]);
    }
}
