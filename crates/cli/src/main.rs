//! promptctl: version LLM prompts the way git versions code.

mod cli;
mod commands;
mod context;
mod env;
mod error;
mod printer;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let printer = printer::Printer::new(args.color, args.json);
    if let Err(e) = commands::dispatch(args) {
        if !e.message.is_empty() {
            printer.error(&e.message, &e.hints);
        }
        std::process::exit(e.code());
    }
}
