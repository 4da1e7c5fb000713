pub mod backend;
pub use backend::{Backend, BackendError, RefUpdate, RefValue, Space, Transaction};
