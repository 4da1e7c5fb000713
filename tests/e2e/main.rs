//! End-to-end tests: the real `promptctl` binary against real files in temporary projects,
//! with a fixed actor and clock so ids are stable.

mod bad_input;
mod corpus;
mod dry_run;
mod harness;
mod interface;
mod reliability;
mod rendering;
mod workflow;
