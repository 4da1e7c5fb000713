//! `promptctl render`: the exact text the model would receive, with includes resolved from the
//! same commit as the prompt.

use std::io::Read;

use promptctl_core::{ObjectId, PromptName, Tree};
use promptctl_render::{Engine, Loader, RenderOptions, Source};
use promptctl_repo::Repo;

use crate::cli::{RenderArgs, VarArgs};
use crate::commands::{resolve_prompt, PromptRef};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};

/// Loads `{% include %}` targets from one commit's tree, so a commit pins the whole closure.
///
/// A name is looked up from the prompts root first, then from the folder of the prompt being
/// rendered, so a set of templates that include each other by bare file name (as a Jinja
/// `FileSystemLoader` rooted at their folder would) keeps working inside a subfolder of prompts/.
pub struct TreeLoader<'a> {
    pub repo: &'a Repo,
    pub tree: Tree,
    /// The folder of the prompt being rendered (`ab` for `ab/prompt.md`), if any.
    pub base_dir: Option<String>,
    /// A template the tree names but the store cannot return intact: damage, reported after
    /// the render instead of the engine's "not in this snapshot".
    pub damage: std::sync::Mutex<Option<promptctl_repo::RepoError>>,
}

impl<'a> TreeLoader<'a> {
    pub fn new(repo: &'a Repo, tree: Tree, top: Option<&PromptName>) -> Self {
        let base_dir = top.and_then(|n| n.as_str().rsplit_once('/').map(|(d, _)| d.to_string()));
        TreeLoader { repo, tree, base_dir, damage: std::sync::Mutex::new(None) }
    }

    /// The first damaged object met while loading, if any.
    pub fn take_damage(&self) -> Option<promptctl_repo::RepoError> {
        self.damage.lock().ok().and_then(|mut d| d.take())
    }

    fn find(&self, template_name: &str) -> Option<(PromptName, promptctl_core::TreeEntry)> {
        let name = template_name.strip_prefix("./").unwrap_or(template_name);
        if let Ok((n, _)) = PromptName::from_path(name) {
            if let Some(e) = self.tree.get(&n) {
                return Some((n, *e));
            }
        }
        // A bare prompt name (`partials/tone`) or a path of another kind.
        if let Ok(n) = name.parse::<PromptName>() {
            if let Some(e) = self.tree.get(&n) {
                return Some((n, *e));
            }
        }
        None
    }
}

impl Loader for TreeLoader<'_> {
    fn load(&self, template_name: &str) -> Option<Source> {
        let (name, e) = self.find(template_name).or_else(|| {
            let dir = self.base_dir.as_ref()?;
            self.find(&format!("{dir}/{template_name}"))
        })?;
        match self.repo.read_blob(&e.id) {
            Ok(bytes) => Some(Source { name, kind: e.kind, id: e.id, bytes }),
            Err(err) => {
                if let Ok(mut d) = self.damage.lock() {
                    d.get_or_insert(err);
                }
                None
            }
        }
    }
}

/// Variables for a render: from `--vars FILE`, then `--var k=v` on top. Flag values are
/// strings until the prompt's declared types are known (see [`Vars::typed_for`]).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub map: serde_json::Map<String, serde_json::Value>,
    /// Keys set by `--var`, whose values are still raw strings.
    pub from_flags: Vec<String>,
}

impl Vars {
    /// `--var n=3` for a variable declared `integer` means the number 3, as it would in a YAML
    /// vars file; the text is read as a YAML scalar only where the declared type asks for it.
    pub fn typed_for(&self, prompt: Option<&promptctl_render::Prompt>) -> serde_json::Map<String, serde_json::Value> {
        let mut map = self.map.clone();
        let Some(prompt) = prompt else { return map };
        for key in &self.from_flags {
            let Some(ty) = prompt.variables().iter().find(|v| &v.name == key).and_then(|v| v.ty) else { continue };
            if ty == promptctl_render::VarType::String {
                continue;
            }
            if let Some(serde_json::Value::String(raw)) = map.get(key) {
                if let Ok(v) = serde_yaml::from_str::<serde_json::Value>(raw) {
                    if !v.is_string() && !v.is_null() {
                        map.insert(key.clone(), v);
                    }
                }
            }
        }
        map
    }
}

/// Variables from `--vars FILE` (YAML or JSON, `-` = stdin), then `--var k=v` on top.
pub fn read_vars(args: &VarArgs) -> CliResult<Vars> {
    let mut vars = serde_json::Map::new();
    let mut from_flags = Vec::new();
    if let Some(path) = &args.vars {
        let (label, text) = if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            ("<stdin>".to_string(), s)
        } else {
            let s = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("--vars {}: {e}", path.display())))?;
            (path.display().to_string(), s)
        };
        let value: serde_json::Value = serde_yaml::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
            CliError::invalid(format!("{label}{at}: not valid YAML or JSON: {e}"))
        })?;
        match value {
            serde_json::Value::Object(m) => vars.extend(m),
            serde_json::Value::Null => {}
            _ => return Err(CliError::invalid(format!("{label}: variables must be a mapping of names to values"))),
        }
    }
    for kv in &args.var {
        let (k, v) = kv.split_once('=').ok_or_else(|| CliError::usage(format!("--var {kv:?}: use KEY=VALUE")))?;
        if k.is_empty() {
            return Err(CliError::usage(format!("--var {kv:?}: the key is empty")));
        }
        vars.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        from_flags.push(k.to_string());
    }
    Ok(Vars { map: vars, from_flags })
}

pub fn render_options() -> CliResult<RenderOptions> {
    let now = crate::context::now()?.unwrap_or_else(promptctl_core::Timestamp::now);
    Ok(RenderOptions { now_unix: now.unix() })
}

/// Renders a resolved prompt; shared by `render` and `diff --rendered`.
pub fn render_prompt(repo: &Repo, pr: &PromptRef, vars: &Vars) -> CliResult<promptctl_render::Rendered> {
    let name = pr.name.clone().ok_or_else(|| {
        CliError::failure(format!(
            "version {} has no prompt name here; render it as NAME@{}",
            pr.version.short(),
            pr.version.short()
        ))
    })?;
    let bytes = repo.read_blob(&pr.version)?;
    let tree = match pr.commit {
        Some(c) => repo.commit_tree(&c)?,
        None => Tree::new(),
    };
    let loader = TreeLoader::new(repo, tree, Some(&name));
    let src = Source { name, kind: pr.kind, id: pr.version, bytes };
    let engine = Engine::new();
    let parsed = engine.parse(&src).ok();
    let vars = vars.typed_for(parsed.as_deref());
    let out = engine.render(&src, &vars, &loader, &render_options()?);
    if let Some(damage) = loader.take_damage() {
        return Err(damage.into());
    }
    out.map_err(|e| CliError::invalid(e.to_string()))
}

pub fn run(ctx: &Ctx, args: &RenderArgs) -> CliResult {
    let pr = resolve_prompt(&ctx.repo, &args.rev)?;
    let vars = read_vars(&args.vars)?;
    let out = render_prompt(&ctx.repo, &pr, &vars)?;
    let p = &ctx.printer;
    for w in &out.warnings {
        p.warn(w);
    }
    if p.json {
        p.json(&serde_json::json!({
            "name": pr.name.as_ref().map(|n| n.as_str()),
            "version": pr.version.to_hex(),
            "commit": super::opt_id(pr.commit),
            "ref": super::via_json(&pr.via),
            "text": out.text,
            "messages": out.messages.as_ref().map(|ms| ms.iter().map(|m| serde_json::json!({"role": m.role, "content": m.content})).collect::<Vec<_>>()),
            "templates": out.templates.iter().map(|(n, id): &(PromptName, ObjectId)| serde_json::json!({"name": n.as_str(), "version": id.to_hex()})).collect::<Vec<_>>(),
            "vars": out.vars,
            "engine": promptctl_render::ENGINE,
        }));
    } else {
        // Exactly the rendered text: no added newline.
        p.out(&out.text);
    }
    Ok(())
}
