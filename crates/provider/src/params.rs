//! The rendered messages and the prompt's `model:` block.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// One rendered chat message, as the render crate produces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message { role: role.into(), content: content.into() }
    }
}

pub(crate) const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

pub(crate) fn validate_messages(messages: &[Message]) -> Result<(), Error> {
    if messages.is_empty() {
        return Err(Error::Messages { field: "messages".into(), message: "the prompt rendered no messages".into() });
    }
    for (i, m) in messages.iter().enumerate() {
        if !ROLES.contains(&m.role.as_str()) {
            return Err(Error::Messages {
                field: format!("messages[{i}].role"),
                message: format!("unknown role `{}`; expected one of {}", m.role, ROLES.join(", ")),
            });
        }
    }
    Ok(())
}

/// Parameters from the prompt's `model:` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelParams {
    pub route: Option<String>,
    pub provider: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub stream: Option<bool>,
    /// Keys we do not send anywhere; reported as warnings rather than refused, because the
    /// model block is shared with other tools (e.g. `response_format` for a later version).
    pub ignored_keys: Vec<String>,
}

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::ModelBlock { field: format!("model.{field}"), message: message.into() }
}

impl ModelParams {
    /// Reads the block. `null` (no block) is an empty block.
    pub fn from_value(v: &Value) -> Result<Self, Error> {
        let map = match v {
            Value::Null => return Ok(ModelParams::default()),
            Value::Object(m) => m,
            other => {
                return Err(Error::ModelBlock {
                    field: "model".into(),
                    message: format!("must be a mapping, got {}", type_name(other)),
                })
            }
        };
        let mut p = ModelParams::default();
        for (k, v) in map {
            match k.as_str() {
                "route" => p.route = Some(string(k, v)?),
                "provider" => p.provider = Some(string(k, v)?),
                "temperature" => {
                    let t = number(k, v)?;
                    if !(0.0..=2.0).contains(&t) {
                        return Err(bad(k, format!("must be between 0 and 2, got {t}")));
                    }
                    p.temperature = Some(t);
                }
                "top_p" => {
                    let t = number(k, v)?;
                    if !(0.0..=1.0).contains(&t) {
                        return Err(bad(k, format!("must be between 0 and 1, got {t}")));
                    }
                    p.top_p = Some(t);
                }
                "max_tokens" => match v.as_u64() {
                    Some(n) if n > 0 => p.max_tokens = Some(n),
                    _ => return Err(bad(k, format!("must be a positive integer, got {v}"))),
                },
                "seed" => match v.as_i64() {
                    Some(n) => p.seed = Some(n),
                    None => return Err(bad(k, format!("must be an integer, got {v}"))),
                },
                "stream" => match v.as_bool() {
                    Some(b) => p.stream = Some(b),
                    None => return Err(bad(k, format!("must be true or false, got {v}"))),
                },
                "stop" => {
                    p.stop = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .ok_or_else(|| bad(k, "must be a string or a list of strings"))
                            })
                            .collect::<Result<_, _>>()?,
                        Value::Null => vec![],
                        _ => return Err(bad(k, "must be a string or a list of strings")),
                    }
                }
                _ => p.ignored_keys.push(k.clone()),
            }
        }
        Ok(p)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn string(k: &str, v: &Value) -> Result<String, Error> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(bad(k, format!("must be a non-empty string, got {}", type_name(v)))),
    }
}

fn number(k: &str, v: &Value) -> Result<f64, Error> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| bad(k, format!("must be a number, got {}", type_name(v))))
}
