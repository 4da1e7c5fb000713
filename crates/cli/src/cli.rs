//! The command line: every subcommand and flag, with the help text users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::printer::ColorChoice;

const AFTER_HELP: &str = "\
Revisions: `summarize@production` (a prompt on a ref), `summarize@3fa9c2e1` (a commit or version id
prefix), `production` (a commit), `production~2` (an ancestor), `production@{1}` (the ref's previous
position), `summarize` (the prompt on staging).

Exit codes: 0 ok, 1 failure (not found, refused, differences with --exit-code), 2 usage,
3 conflict (the ref moved: --expect), 4 invalid prompt or variables, 5 store locked, 6 store damaged,
7 dry-run: every target failed, 8 dry-run: refused by the budget.";

#[derive(Parser, Debug)]
#[command(name = "promptctl", version, about = "Version LLM prompts the way git versions code", after_help = AFTER_HELP)]
pub struct Cli {
    /// The store directory (default: `.promptctl/` found by walking up from the current directory).
    #[arg(long, global = true, env = crate::env::DIR, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the store, a commented promptctl.yaml and prompts/ (if missing).
    Init(InitArgs),
    /// Show new, modified and deleted prompts in prompts/ against a branch.
    Status(StatusArgs),
    /// Validate prompts/ and snapshot it onto a branch (default: staging).
    Commit(CommitArgs),
    /// Show the history of a branch, or of one prompt.
    Log(LogArgs),
    /// Show a commit or a prompt version with its metadata.
    Show(RevArgs),
    /// Write the exact stored bytes of a prompt version (or a commit's encoding) to stdout.
    Cat(RevArgs),
    /// What an application needs: name, version id, commit id, ref, content, model settings.
    Get(RevArgs),
    /// Render a prompt with variables.
    Render(RenderArgs),
    /// Show the differences between two revisions.
    Diff(DiffArgs),
    /// List, create or delete branches.
    Branch(BranchArgs),
    /// List or create write-once tags.
    Tag(TagArgs),
    /// Move a branch (e.g. production) to another branch's or tag's commit.
    Promote(PromoteArgs),
    /// Put a branch back to its previous position (or --to REV); recorded, never destructive.
    Rollback(RollbackArgs),
    /// Show every move of one ref: old, new, action, actor, time, message.
    Reflog(ReflogArgs),
    /// Show every ref move in the store, newest first.
    Audit(AuditArgs),
    /// Re-hash every object and check every ref and reflog chain.
    Fsck,
    /// Write the chat template(s) of a Hugging Face tokenizer_config.json into prompts/ as
    /// `.jinja` files, byte for byte (a list of named templates gives one file per name).
    ImportChatTemplate(ImportArgs),
    /// Send a rendered prompt through the routing policy (or, with --offline, show the exact
    /// requests, token counts and worst-case cost without sending). Nothing in the store changes.
    DryRun(DryRunArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The tokenizer_config.json (or any JSON file with a `chat_template` field).
    pub file: PathBuf,
    /// Prompt name to write, under prompts/ (default: chat/<the file's folder name>).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct DryRunArgs {
    /// The prompt revision, e.g. `summarize@staging`.
    pub rev: String,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Use this route from promptctl.yaml instead of the prompt's.
    #[arg(long, value_name = "NAME", conflicts_with = "provider")]
    pub route: Option<String>,
    /// Send to this one provider only (`echo` is built in and offline).
    #[arg(long, value_name = "ID")]
    pub provider: Option<String>,
    /// Show the requests, token counts and worst-case costs for every target; send nothing.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to initialise (default: the current directory).
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Branch to compare against (default: staging).
    #[arg(long, short)]
    pub branch: Option<String>,
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// The commit message.
    #[arg(long, short)]
    pub message: String,
    /// Branch to commit to (default: staging). Protected branches (production) are refused.
    #[arg(long, short)]
    pub branch: Option<String>,
    /// Only these files or prompt names (others keep their committed versions). A named prompt
    /// whose file is gone is deleted.
    pub paths: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only the commits that changed this prompt.
    pub name: Option<String>,
    /// Branch (or any commit revision) to start from (default: staging).
    #[arg(long, short)]
    pub branch: Option<String>,
    /// Show at most N commits.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,
}

#[derive(Args, Debug)]
pub struct RevArgs {
    /// The revision, e.g. `summarize@production`.
    pub rev: String,
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// A variable, `key=value` (the value is a string; repeat the flag for more).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub var: Vec<String>,
    /// Variables from a YAML or JSON file (`-` reads stdin). `--var` overrides.
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    pub rev: String,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old side.
    pub from: String,
    /// The new side.
    pub to: String,
    /// Only these prompts (when both sides are commits).
    pub names: Vec<String>,
    /// Exit with 1 if there are differences, 0 if not (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// Show lines added and removed and the change in tokens (o200k_base) per prompt.
    #[arg(long)]
    pub stat: bool,
    /// Compare what the two sides render to (with --vars / --var), not their source.
    #[arg(long)]
    pub rendered: bool,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Lines of context around each change.
    #[arg(long, short = 'U', default_value_t = 3, value_name = "N")]
    pub unified: usize,
}

#[derive(Args, Debug)]
pub struct BranchArgs {
    /// Branch to create (lists branches when omitted).
    pub name: Option<String>,
    /// Where the new branch starts (default: staging's commit; unborn if staging has none).
    pub start: Option<String>,
    /// Delete the named branch (its commits and reflog stay in the store).
    #[arg(long, short, value_name = "NAME", conflicts_with_all = ["name", "start"])]
    pub delete: Option<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    /// Tag to create (lists tags when omitted). Tags are write-once.
    pub name: Option<String>,
    /// The commit to tag (default: staging).
    pub rev: Option<String>,
    /// A message for the tag's reflog entry.
    #[arg(long, short)]
    pub message: Option<String>,
}

#[derive(Args, Debug)]
pub struct PromoteArgs {
    /// Source: a branch, tag or commit revision (e.g. `staging`, `v1.4.0`).
    pub src: String,
    /// Destination branch (e.g. `production`).
    pub dst: String,
    /// Build one new commit on DST taking just these prompts from SRC.
    #[arg(long, num_args = 1.., value_name = "NAMES")]
    pub only: Vec<String>,
    /// Fail with a conflict (exit 3) unless DST is at this commit id (or `none` for unborn).
    #[arg(long, value_name = "ID")]
    pub expect: Option<String>,
}

#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// The branch to roll back.
    pub branch: String,
    /// Move to this revision instead of the previous reflog position.
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// Restore just these prompts (from the previous position or --to) in a new commit.
    #[arg(long, num_args = 1.., value_name = "NAMES")]
    pub only: Vec<String>,
    /// Fail with a conflict (exit 3) unless the branch is at this commit id.
    #[arg(long, value_name = "ID")]
    pub expect: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReflogArgs {
    /// Branch or tag (default: staging).
    pub name: Option<String>,
    /// Show at most N entries.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Show at most N entries.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,
}
