//! Every environment variable promptctl reads, in one place.

/// Store directory (same as `--store`).
pub const DIR: &str = "PROMPTCTL_DIR";
/// Who is acting, recorded in commits and reflog entries. Else git's `user.name`, else `$USER`.
pub const ACTOR: &str = "PROMPTCTL_ACTOR";
/// The clock, RFC 3339 (for reproducible scripts and tests).
pub const NOW: &str = "PROMPTCTL_NOW";
/// How long to wait for a store locked by another process, in milliseconds (default 10000).
pub const LOCK_TIMEOUT_MS: &str = "PROMPTCTL_LOCK_TIMEOUT_MS";
/// Disables colour (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
pub const USER: &str = "USER";

pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
