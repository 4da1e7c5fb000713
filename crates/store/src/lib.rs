//! promptctl storage: the [`Backend`] contract, the sled store ([`SledBackend`]) and a strict
//! in-memory store for tests ([`MemBackend`]). sled stays inside this crate: no sled type
//! appears in its API.

pub mod backend;
mod mem;
mod sled_backend;

pub use backend::{Backend, BackendError, RefUpdate, RefValue, Space, Transaction};
pub use mem::MemBackend;
pub use sled_backend::{OpenOptions, SledBackend};
