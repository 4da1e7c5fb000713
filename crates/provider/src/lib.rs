//! promptctl-provider
