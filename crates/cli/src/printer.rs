//! One place that decides colour and writes output: data to stdout, diagnostics to stderr.
//! Colour: `--color always|never` wins, then `NO_COLOR`, then whether the stream is a terminal.

use std::io::{IsTerminal, Write};

use crate::env;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Id,
    Ref,
    Added,
    Removed,
    AddedStrong,
    RemovedStrong,
    Header,
    Warn,
    Error,
    Hint,
    Dim,
}

pub struct Printer {
    pub json: bool,
    color_out: bool,
    color_err: bool,
}

impl Printer {
    pub fn new(choice: ColorChoice, json: bool) -> Self {
        let allowed = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => env::get(env::NO_COLOR).is_none() && tty,
        };
        Printer {
            json,
            color_out: allowed(std::io::stdout().is_terminal()),
            color_err: allowed(std::io::stderr().is_terminal()),
        }
    }

    fn code(s: Style) -> &'static str {
        match s {
            Style::Id => "33",
            Style::Ref => "36;1",
            Style::Added => "32",
            Style::Removed => "31",
            Style::AddedStrong => "32;1;7",
            Style::RemovedStrong => "31;1;7",
            Style::Header => "1",
            Style::Warn => "33;1",
            Style::Error => "31;1",
            Style::Hint => "36",
            Style::Dim => "2",
        }
    }

    /// `text` in a style, for stdout.
    pub fn paint(&self, s: Style, text: &str) -> String {
        if self.color_out && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", Self::code(s))
        } else {
            text.to_string()
        }
    }

    fn paint_err(&self, s: Style, text: &str) -> String {
        if self.color_err {
            format!("\x1b[{}m{text}\x1b[0m", Self::code(s))
        } else {
            text.to_string()
        }
    }

    /// Writes data to stdout. A closed pipe (`| head`) is not an error worth a message.
    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }

    pub fn out_bytes(&self, bytes: &[u8]) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(bytes);
        let _ = o.flush();
    }

    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// One JSON document on stdout, pretty-printed, with a final newline.
    pub fn json<T: serde::Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => self.line(&s),
            Err(e) => self.error(&format!("cannot encode JSON output: {e}"), &[]),
        }
    }

    pub fn info(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn warn(&self, text: &str) {
        eprintln!("{} {text}", self.paint_err(Style::Warn, "warning:"));
    }

    pub fn error(&self, text: &str, hints: &[String]) {
        eprintln!("{} {text}", self.paint_err(Style::Error, "error:"));
        for h in hints {
            eprintln!("{} {h}", self.paint_err(Style::Hint, "hint:"));
        }
    }
}
