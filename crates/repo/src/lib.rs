//! promptctl-workspace
