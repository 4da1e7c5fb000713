//! promptctl-render
