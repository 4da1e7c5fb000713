//! `promptctl.yaml` and finding the project: the first directory, walking up from the current
//! one, that holds `.promptctl/` or `promptctl.yaml` (as git finds `.git`).

use std::path::{Path, PathBuf};

use promptctl_core::RefName;

use crate::error::{RepoError, Result};

pub const CONFIG_FILE: &str = "promptctl.yaml";
pub const STORE_DIR: &str = ".promptctl";
/// Prompt files larger than this are refused unless `max_file_bytes` says otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub prompts_dir: Option<String>,
    pub default_branch: Option<String>,
    pub protected: Option<Vec<String>>,
    pub max_file_bytes: Option<u64>,
    /// Parsed by the provider crate; kept raw here.
    #[serde(default)]
    pub providers: Option<serde_yaml::Value>,
    #[serde(default)]
    pub routing: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub prompts_dir: String,
    pub default_branch: RefName,
    pub protected: Vec<RefName>,
    pub max_file_bytes: u64,
    pub providers: Option<serde_yaml::Value>,
    pub routing: Option<serde_yaml::Value>,
}

fn ref_field(path: &Path, field: &str, v: &str) -> Result<RefName> {
    v.parse().map_err(|e| RepoError::Config(format!("{}: field `{field}`: {e}", path.display())))
}

impl Config {
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let raw: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                let at = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
                RepoError::Config(format!("{}{at}: {e}", path.display()))
            })?
        };
        let prompts_dir = raw.prompts_dir.unwrap_or_else(|| "prompts".into());
        if Path::new(&prompts_dir).is_absolute() || prompts_dir.split('/').any(|s| s == "..") {
            return Err(RepoError::Config(format!(
                "{}: field `prompts_dir` must be a folder inside the project, got {prompts_dir:?}",
                path.display()
            )));
        }
        let default_branch = ref_field(path, "default_branch", raw.default_branch.as_deref().unwrap_or("staging"))?;
        let protected = match raw.protected {
            Some(list) => list.iter().map(|b| ref_field(path, "protected", b)).collect::<Result<Vec<_>>>()?,
            None => vec![ref_field(path, "protected", "production")?],
        };
        Ok(Config {
            prompts_dir,
            default_branch,
            protected,
            max_file_bytes: raw.max_file_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES),
            providers: raw.providers,
            routing: raw.routing,
        })
    }

    pub fn default_config() -> Result<Config> {
        Config::parse(Path::new(CONFIG_FILE), "")
    }
}

/// Where everything is.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub store_dir: PathBuf,
    pub config: Config,
    pub config_path: Option<PathBuf>,
}

impl Project {
    pub fn prompts_path(&self) -> PathBuf {
        self.root.join(&self.config.prompts_dir)
    }

    /// Finds the project from `cwd`. `store` (from `--store` or `PROMPTCTL_DIR`) overrides where
    /// the store is; the project root is still found by walking up (or is `cwd`).
    pub fn discover(cwd: &Path, store: Option<PathBuf>) -> Result<Project> {
        let root = cwd
            .ancestors()
            .find(|d| d.join(STORE_DIR).is_dir() || d.join(CONFIG_FILE).is_file())
            .map(Path::to_path_buf);
        let root = match (&root, &store) {
            (Some(r), _) => r.clone(),
            (None, Some(_)) => cwd.to_path_buf(),
            (None, None) => {
                return Err(RepoError::NotFound(format!(
                "no promptctl project here: no {STORE_DIR}/ or {CONFIG_FILE} in {} or any parent; run `promptctl init`",
                cwd.display()
            )))
            }
        };
        Project::at(&root, store)
    }

    /// The project rooted at `root` (used by `init`).
    pub fn at(root: &Path, store: Option<PathBuf>) -> Result<Project> {
        let config_path = root.join(CONFIG_FILE);
        let (config, config_path) = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path)
                .map_err(|e| RepoError::Io { path: config_path.display().to_string(), message: e.to_string() })?;
            (Config::parse(&config_path, &text)?, Some(config_path))
        } else {
            (Config::default_config()?, None)
        };
        let store_dir = store.unwrap_or_else(|| root.join(STORE_DIR));
        Ok(Project { root: root.to_path_buf(), store_dir, config, config_path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_line_and_field() {
        let e = Config::parse(Path::new("promptctl.yaml"), "prompts_dir: p\nbogus: 1\n").expect_err("unknown field");
        let s = e.to_string();
        assert!(s.contains("promptctl.yaml:2:1"), "{s}");
        assert!(s.contains("bogus"), "{s}");
        let c = Config::parse(Path::new("x"), "protected: [production, release]\n").expect("ok");
        assert_eq!(c.protected.len(), 2);
        assert!(Config::parse(Path::new("x"), "prompts_dir: ../elsewhere\n").is_err());
    }
}
