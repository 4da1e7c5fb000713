//! promptctl-store
