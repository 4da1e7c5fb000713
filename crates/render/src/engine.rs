//! The rendering engine: compiled templates cached per prompt version, includes resolved from
//! the caller's snapshot, variables defaulted and checked, output assembled.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::Rest;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use promptctl_core::{FileKind, ObjectId, PromptName};
use serde_json::{Map, Value as Json};

use crate::error::{Location, RenderError};
use crate::jinja::{self, Raised};
use crate::prompt::{self, Body, Part, Prompt, UndefinedMode};
use crate::{Loader, Message, RenderOptions, Rendered, Source};

/// How many rounds of include discovery one render may take (each round finds at least one
/// new template name, so this bounds the number of distinct templates one render may use).
const MAX_ROUNDS: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where a template compiled into the engine's environment comes from (keyed by its key there).
#[derive(Clone)]
struct Origin {
    file: String,
    part: Part,
}

/// Renders prompts. Cheap to share (`Send + Sync`); compiled templates are cached by the
/// content id of their file, so a version is compiled once however often it is rendered.
pub struct Engine {
    /// The configured environment with no templates: the seed of every per-prompt environment.
    base: Environment<'static>,
    /// One environment per top-level prompt version, holding the templates compiled for it and
    /// the includes it used, under content-derived keys (`@<id>#<part>`). A render clones only
    /// its own prompt's environment: cloning one that held every version ever compiled made a
    /// long-lived engine slower with every version it had seen.
    envs: Mutex<HashMap<ObjectId, Environment<'static>>>,
    parsed: Mutex<HashMap<(ObjectId, FileKind, PromptName), Arc<Prompt>>>,
    undeclared: Mutex<HashMap<String, Arc<BTreeSet<String>>>>,
    /// Template names a version asked for last time, looked up first next time so that a
    /// template with includes usually renders in one pass.
    hints: Mutex<HashMap<ObjectId, Vec<String>>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("cached_prompts", &lock(&self.parsed).len()).finish()
    }
}

/// One template name the render asked for, and what the snapshot has under it.
#[derive(Clone)]
struct Resolved {
    key: String,
    name: PromptName,
    id: ObjectId,
}

/// Per-render state of include resolution.
struct Session<'a> {
    loader: &'a dyn Loader,
    /// The version being rendered: whose environment includes are compiled into.
    top: ObjectId,
    file: String,
    resolved: HashMap<String, Option<Resolved>>,
    origins: HashMap<String, Origin>,
}

impl Session<'_> {
    /// Looks `name` up in the snapshot and compiles what it finds.
    fn resolve(&mut self, engine: &Engine, name: &str) -> Result<(), RenderError> {
        if self.resolved.contains_key(name) {
            return Ok(());
        }
        let Some(src) = self.loader.load(name) else {
            self.resolved.insert(name.to_string(), None);
            return Ok(());
        };
        let file = prompt::display_file(&src);
        let text = prompt::utf8(&file, &src.bytes)?;
        let part = match src.kind {
            FileKind::Native => {
                return Err(RenderError::NotRenderable {
                    file: self.file.clone(),
                    message: format!(
                        "`{name}` is the native prompt {file}; include, import and extend plain templates (.jinja, .j2, .txt, .md) instead"
                    ),
                })
            }
            FileKind::Dotprompt => {
                return Err(RenderError::NeedsEngine {
                    file,
                    engine: crate::foreign::HANDLEBARS,
                    reason: format!("it is included as `{name}` from {}", self.file),
                })
            }
            // A Prompty file contributes its body.
            FileKind::Prompty => {
                let (body, line) = match prompt::split_front_matter(text) {
                    Some((_, _, body, line)) => (body, line),
                    None => (text, 1),
                };
                Part {
                    key_suffix: "#body".into(),
                    label: Some("body".into()),
                    source: body.to_string(),
                    file_line: Some(prompt::LineMap::Exact(line)),
                    role: None,
                }
            }
            _ => Part {
                key_suffix: String::new(),
                label: None,
                source: text.to_string(),
                file_line: Some(prompt::LineMap::Exact(1)),
                role: None,
            },
        };
        let key = format!("@{}{}", src.id.to_hex(), part.key_suffix);
        engine.compile(self.top, &key, &file, &part)?;
        self.origins.insert(key.clone(), Origin { file, part });
        self.resolved.insert(name.to_string(), Some(Resolved { key, name: src.name, id: src.id }));
        Ok(())
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine {
            base: jinja::base_environment(),
            envs: Mutex::new(HashMap::new()),
            parsed: Mutex::new(HashMap::new()),
            undeclared: Mutex::new(HashMap::new()),
            hints: Mutex::new(HashMap::new()),
        }
    }

    /// How many templates this engine has compiled (each version's templates once).
    pub fn compiled_templates(&self) -> usize {
        lock(&self.envs).values().map(|e| e.templates().count()).sum()
    }

    /// Parses a prompt, caching the result per version.
    pub fn parse(&self, src: &Source) -> Result<Arc<Prompt>, RenderError> {
        let key = (src.id, src.kind, src.name.clone());
        if let Some(p) = lock(&self.parsed).get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(prompt::parse(src)?);
        lock(&self.parsed).insert(key, p.clone());
        Ok(p)
    }

    /// Compiles a template into the environment of the prompt version `top` unless it is there.
    fn compile(&self, top: ObjectId, key: &str, file: &str, part: &Part) -> Result<(), RenderError> {
        let mut envs = lock(&self.envs);
        let env = envs.entry(top).or_insert_with(|| self.base.clone());
        if env.get_template(key).is_ok() {
            return Ok(());
        }
        let source = jinja::keep_raw_newline(&jinja::normalize_newlines(&part.source)).into_owned();
        env.add_template_owned(key.to_string(), source).map_err(|e| {
            let s = jinja::syntax_err(&e, &part.source);
            RenderError::Syntax { location: part.location(file, s.line, s.column), message: s.message }
        })
    }

    /// Every name a template may read, for the "given but not used" warning: minijinja's
    /// analysis plus every identifier in its tags (it misses reads inside slices), so the
    /// warning errs on the side of silence.
    fn read_names(&self, key: &str, source: &str) -> Arc<BTreeSet<String>> {
        let cache_key = format!("names:{key}");
        if let Some(v) = lock(&self.undeclared).get(&cache_key) {
            return v.clone();
        }
        let mut names: BTreeSet<String> = self.undeclared(key, source).iter().cloned().collect();
        names.extend(jinja::identifier_names(source));
        let v = Arc::new(names);
        lock(&self.undeclared).insert(cache_key, v.clone());
        v
    }

    fn undeclared(&self, key: &str, source: &str) -> Arc<BTreeSet<String>> {
        if let Some(v) = lock(&self.undeclared).get(key) {
            return v.clone();
        }
        let v = Arc::new(jinja::undeclared_variables(source));
        lock(&self.undeclared).insert(key.to_string(), v.clone());
        v
    }

    /// Renders a prompt version with `vars`, resolving includes through `loader` (which must
    /// serve the same snapshot as `src`).
    pub fn render(
        &self,
        src: &Source,
        vars: &Map<String, Json>,
        loader: &dyn Loader,
        opts: &RenderOptions,
    ) -> Result<Rendered, RenderError> {
        let prompt = self.parse(src)?;
        let file = prompt.file.clone();
        let parts: Vec<&Part> = match &prompt.body {
            Body::Messages(parts) => parts.iter().collect(),
            Body::Template(part) => vec![part],
            Body::Foreign { engine, reason } => {
                return Err(RenderError::NeedsEngine { file, engine, reason: reason.clone() })
            }
            Body::Unrenderable(reason) => {
                return Err(RenderError::NotRenderable {
                    file,
                    message: format!(
                        "files of kind other cannot be rendered: {reason}. It is still stored, hashed, diffed and shown like any file"
                    ),
                })
            }
        };
        let prompt_name = src.name.to_string();
        let mut session =
            Session { loader, top: src.id, file: file.clone(), resolved: HashMap::new(), origins: HashMap::new() };
        let mut templates = vec![(src.name.clone(), src.id)];
        let mut warnings = prompt.warnings.clone();

        // Variables: given, then file inputs (Prompty `${file:…}`), then declared defaults.
        let mut values = vars.clone();
        if let Some(r) = &prompt.inputs_ref {
            let (inputs, used) = load_inputs(loader, &src.name, &file, &r.path)?;
            templates.push(used);
            for (k, v) in inputs {
                values.entry(k).or_insert(v);
            }
        }
        for var in &prompt.variables {
            if !values.contains_key(&var.name) {
                if let Some(d) = &var.default {
                    values.insert(var.name.clone(), d.clone());
                }
            }
        }
        for var in prompt.variables.iter().filter(|v| v.declared) {
            if let Some(v) = values.get(&var.name) {
                prompt::check_value(var, v).map_err(|(expected, got)| RenderError::InvalidVariable {
                    prompt: prompt_name.clone(),
                    variable: var.name.clone(),
                    expected,
                    got,
                })?;
            }
        }

        // Compile the prompt's own templates and, for strict prompts, find missing variables
        // before rendering so that the error names them.
        let mut keys = Vec::new();
        for part in &parts {
            let key = format!("@{}{}", src.id.to_hex(), part.key_suffix);
            self.compile(src.id, &key, &file, part)?;
            session.origins.insert(key.clone(), Origin { file: file.clone(), part: (*part).clone() });
            keys.push(key);
        }
        let mut read_vars: BTreeSet<String> = BTreeSet::new();
        for (key, part) in keys.iter().zip(&parts) {
            read_vars.extend(self.read_names(key, &part.source).iter().cloned());
        }
        // Given variables that are neither declared nor read by any template used.
        let unused = |read: &BTreeSet<String>| -> Vec<String> {
            vars.keys()
                .filter(|name| {
                    !read.contains(*name) && !prompt.variables.iter().any(|v| &v.name == *name && v.declared)
                })
                .cloned()
                .collect()
        };
        if prompt.undefined == UndefinedMode::Strict {
            for (key, part) in keys.iter().zip(&parts) {
                for name in self.undeclared(key, &part.source).iter() {
                    let optional = prompt.variables.iter().any(|v| &v.name == name && v.declared && !v.required);
                    if !values.contains_key(name) && !optional && !jinja::is_guarded(&part.source, name) {
                        let (line, column) = jinja::first_use(&part.source, name).unzip();
                        return Err(RenderError::MissingVariable {
                            prompt: prompt_name,
                            variable: name.clone(),
                            location: part.location(&file, line, column),
                            unused: unused(&read_vars),
                        });
                    }
                }
            }
        }

        let ctx = Value::from_serialize(&values);
        let hints = lock(&self.hints).get(&src.id).cloned().unwrap_or_default();
        for name in &hints {
            // Best effort: a name that fails here is looked up again (and reported) only if
            // this render asks for it.
            let _ = session.resolve(self, name);
        }
        let mut rounds = 0;
        let (outputs, requested) = loop {
            rounds += 1;
            let (result, requested) = self.render_parts(&session, &keys, &ctx, prompt.undefined, opts);
            let new: Vec<String> = requested.iter().filter(|n| !session.resolved.contains_key(*n)).cloned().collect();
            if new.is_empty() || rounds >= MAX_ROUNDS {
                break (result, requested);
            }
            for name in new {
                session.resolve(self, &name)?;
            }
        };
        let outputs = outputs.map_err(|e| {
            let mut err = self.convert_error(&e, &session, &prompt_name, &values, &requested, &prompt);
            if let RenderError::MissingVariable { unused: u, .. } = &mut err {
                *u = unused(&read_vars);
            }
            err
        })?;
        lock(&self.hints).insert(src.id, dedup(&requested));

        // Every template used, in order of first use.
        for name in dedup(&requested) {
            if let Some(Some(r)) = session.resolved.get(&name) {
                if !templates.iter().any(|(n, id)| *id == r.id && *n == r.name) {
                    templates.push((r.name.clone(), r.id));
                }
                if let Some(o) = session.origins.get(&r.key) {
                    read_vars.extend(self.read_names(&r.key, &o.part.source).iter().cloned());
                }
            }
        }
        for name in unused(&read_vars) {
            warnings.push(format!(
                "variable `{name}` is not used by prompt `{prompt_name}` (not declared, not read by its templates)"
            ));
        }

        let (text, messages) = match &prompt.body {
            Body::Messages(parts) => {
                let messages: Vec<Message> = parts
                    .iter()
                    .zip(outputs)
                    .map(|(p, content)| Message { role: p.role.clone().unwrap_or_default(), content })
                    .collect();
                (crate::messages_to_text(&messages), Some(messages))
            }
            _ => {
                let text = outputs.into_iter().next().unwrap_or_default();
                if prompt.kind == FileKind::Prompty {
                    let messages = crate::split_role_lines(&text);
                    (text, Some(messages))
                } else {
                    (text, None)
                }
            }
        };
        Ok(Rendered { text, messages, templates, vars: values, warnings })
    }

    /// One rendering pass over the prompt's parts. Returns the outputs and every template name
    /// the pass asked for.
    fn render_parts(
        &self,
        session: &Session<'_>,
        keys: &[String],
        ctx: &Value,
        undefined: UndefinedMode,
        opts: &RenderOptions,
    ) -> (Result<Vec<String>, Error>, Vec<String>) {
        let mut env = match lock(&self.envs).get(&session.top) {
            Some(env) => env.clone(),
            None => self.base.clone(),
        };
        env.set_undefined_behavior(match undefined {
            UndefinedMode::Strict => UndefinedBehavior::Strict,
            UndefinedMode::Lenient => UndefinedBehavior::Lenient,
        });
        let now = opts.now_unix;
        env.add_function("strftime_now", move |args: Rest<Value>| -> Result<Value, Error> {
            let fmt = match args.first() {
                Some(f) => f.as_str().map(str::to_string).ok_or_else(|| {
                    Error::new(ErrorKind::InvalidOperation, "strftime_now(format) needs a string format")
                })?,
                None => return Err(Error::new(ErrorKind::MissingArgument, "strftime_now(format) needs a format")),
            };
            crate::strftime::strftime(now, &fmt)
                .map(Value::from)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
        });
        let map: Arc<HashMap<String, String>> = Arc::new(
            session.resolved.iter().filter_map(|(name, r)| r.as_ref().map(|r| (name.clone(), r.key.clone()))).collect(),
        );
        let requested = Arc::new(Mutex::new(Vec::<String>::new()));
        let record = requested.clone();
        env.set_path_join_callback(move |name, _parent| {
            lock(&record).push(name.to_string());
            match map.get(name) {
                Some(key) => Cow::Owned(key.clone()),
                None => Cow::Borrowed(name),
            }
        });
        let result = keys
            .iter()
            .map(|key| env.get_template(key).and_then(|t| t.render(ctx)))
            .collect::<Result<Vec<String>, Error>>();
        drop(env);
        let requested = std::mem::take(&mut *lock(&requested));
        (result, requested)
    }

    fn convert_error(
        &self,
        e: &Error,
        session: &Session<'_>,
        prompt: &str,
        values: &Map<String, Json>,
        requested: &[String],
        def: &Prompt,
    ) -> RenderError {
        let undefined = def.undefined;
        let declared: Vec<&str> = def.variables.iter().filter(|v| v.declared).map(|v| v.name.as_str()).collect();
        // An error inside an include is wrapped ("could not render include"): report the
        // innermost engine error, which names the included template and its line.
        let mut e = e;
        while let Some(inner) = std::error::Error::source(e).and_then(|s| s.downcast_ref::<Error>()) {
            e = inner;
        }
        let origin = e.name().and_then(|n| session.origins.get(n));
        let location = match origin {
            Some(o) => {
                let column = e.range().and_then(|r| jinja::column_of(&o.part.source, r.start));
                o.part.location(&o.file, e.line(), column)
            }
            None => Box::new(Location {
                file: session.file.clone(),
                part: None,
                line: e.line(),
                column: None,
                file_line: None,
            }),
        };
        let prompt = prompt.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<Raised>() {
                return RenderError::Raised { prompt, location, message: r.0.clone() };
            }
            source = s.source();
        }
        match e.kind() {
            ErrorKind::TemplateNotFound => {
                let template = requested
                    .iter()
                    .rev()
                    .find(|n| matches!(session.resolved.get(*n), Some(None) | None))
                    .cloned()
                    .unwrap_or_else(|| e.detail().unwrap_or_default().to_string());
                RenderError::TemplateNotFound { prompt, template, location }
            }
            ErrorKind::UndefinedError => {
                if let (UndefinedMode::Strict, Some(o), Some(line)) = (undefined, origin, e.line()) {
                    let key = e.name().unwrap_or_default();
                    let unread = self.undeclared(key, &o.part.source);
                    let on_line = jinja::identifiers_on_line(&o.part.source, line);
                    // minijinja's analysis misses some reads (inside slices, `x[1:]`), so a
                    // declared variable named on the failing line counts too.
                    let missing = on_line
                        .iter()
                        .find(|n| unread.contains(*n) && !values.contains_key(*n))
                        .or_else(|| on_line.iter().find(|n| declared.contains(&n.as_str()) && !values.contains_key(*n)))
                        .cloned();
                    if let Some(variable) = missing {
                        return RenderError::MissingVariable { prompt, variable, location, unused: Vec::new() };
                    }
                }
                let message = match undefined {
                    UndefinedMode::Strict => "a value used here is undefined (a missing variable, attribute or item); strict prompts refuse that, `undefined: lenient` allows it",
                    UndefinedMode::Lenient => "an attribute or item of an undefined value is used here (Jinja2 refuses that too); check the variables given",
                };
                RenderError::Undefined { prompt, location, message: message.into() }
            }
            _ => RenderError::Render { prompt, location, message: jinja::error_message(e) },
        }
    }
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names.iter().filter(|n| seen.insert(n.as_str())).cloned().collect()
}

/// A file a render used, for `Rendered::templates`.
type UsedFile = (PromptName, ObjectId);

/// Loads a Prompty `${file:…}` input file (JSON or YAML) relative to the prompt's folder.
fn load_inputs(
    loader: &dyn Loader,
    name: &PromptName,
    file: &str,
    path: &str,
) -> Result<(Map<String, Json>, UsedFile), RenderError> {
    let dir = name.as_str().rsplit_once('/').map(|(d, _)| d);
    let candidates: Vec<String> = match dir {
        Some(d) => vec![format!("{d}/{path}"), path.to_string()],
        None => vec![path.to_string()],
    };
    let src = candidates.iter().find_map(|c| loader.load(c)).ok_or_else(|| RenderError::NotRenderable {
        file: file.to_string(),
        message: format!("its inputs come from `${{file:{path}}}`, which is not in this snapshot"),
    })?;
    let input_file = prompt::display_file(&src);
    let text = prompt::utf8(&input_file, &src.bytes)?;
    let value = if input_file.ends_with(".json") {
        serde_json::from_str::<Json>(text).map_err(|e| RenderError::Json {
            file: input_file.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?
    } else {
        prompt::parse_yaml(&input_file, text, 1)?
    };
    match value {
        Json::Object(m) => Ok((m, (src.name, src.id))),
        _ => Err(RenderError::Invalid {
            file: input_file,
            message: format!("the inputs of {file} must be a mapping of name to value"),
        }),
    }
}
