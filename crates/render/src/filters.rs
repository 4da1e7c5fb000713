//! Filters whose minijinja versions differ from Jinja2 in the arguments they take (keyword
//! names such as `default(boolean=true)`, `join(attribute=…)`, `int(default=…)`) or in what
//! they print (`join` uses Python's `str()`), written to Jinja2 3.1's signatures. Every filter
//! here binds keyword arguments by name and refuses unknown ones, so a keyword argument can never
//! end up in the output.

use minijinja::value::{from_args, Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::pyfmt::py_str;

/// Binds Jinja2-style arguments (positionals, then keywords by name) to `params`.
fn bind(filter: &str, args: &[Value], params: &[&str]) -> Result<Vec<Option<Value>>, Error> {
    let (positional, kwargs): (&[Value], Kwargs) = from_args(args)?;
    if positional.len() > params.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("{filter}() takes at most {} arguments ({})", params.len(), params.join(", ")),
        ));
    }
    let mut slots: Vec<Option<Value>> = positional.iter().cloned().map(Some).collect();
    slots.resize(params.len(), None);
    for (slot, param) in slots.iter_mut().zip(params) {
        if kwargs.has(param) {
            if slot.is_some() {
                return Err(Error::new(
                    ErrorKind::TooManyArguments,
                    format!("{filter}() got multiple values for argument '{param}'"),
                ));
            }
            *slot = Some(kwargs.get::<Value>(param)?);
        }
    }
    kwargs.assert_all_used().map_err(|e| {
        Error::new(
            ErrorKind::TooManyArguments,
            format!("{filter}() accepts the keyword arguments {}", params.join(", ")),
        )
        .with_source(e)
    })?;
    Ok(slots)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn truthy(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(Value::is_true)
}

fn as_string(v: &Option<Value>, default: &str) -> String {
    match v {
        Some(v) if !v.is_undefined() && !v.is_none() => py_str(v),
        _ => default.to_string(),
    }
}

/// `a.b.0`-style attribute lookup, as Jinja2's `make_attrgetter` does it.
fn get_path(value: &Value, path: &Value) -> Result<Value, Error> {
    if let Some(i) = path.as_i64() {
        return value.get_item(&Value::from(i));
    }
    let Some(path) = path.as_str() else {
        return Err(invalid("attribute must be a string or an integer"));
    };
    let mut cur = value.clone();
    for part in path.split('.') {
        cur = match part.parse::<i64>() {
            Ok(i) => cur.get_item(&Value::from(i))?,
            Err(_) => cur.get_attr(part)?,
        };
    }
    Ok(cur)
}

fn items_of(state: &State, value: &Value) -> Result<Vec<Value>, Error> {
    if let Some(s) = value.as_str() {
        return Ok(s.chars().map(Value::from).collect());
    }
    if value.is_undefined() {
        if state.undefined_behavior() == minijinja::UndefinedBehavior::Strict {
            return Err(Error::from(ErrorKind::UndefinedError));
        }
        return Ok(Vec::new());
    }
    Ok(value.try_iter()?.collect())
}

/// `default(value, default_value='', boolean=False)`, alias `d`.
fn default(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("default", &args, &["default_value", "boolean"])?;
    let use_default = value.is_undefined() || (truthy(&a[1]) && !value.is_true());
    if use_default {
        Ok(a[0].clone().unwrap_or_else(|| Value::from("")))
    } else {
        Ok(value)
    }
}

/// `join(value, d='', attribute=None)`, items printed with Python's `str()`.
fn join(state: &State, value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("join", &args, &["d", "attribute"])?;
    let sep = as_string(&a[0], "");
    let mut parts = Vec::new();
    for item in items_of(state, &value)? {
        let item = match &a[1] {
            Some(attr) if !attr.is_none() => get_path(&item, attr)?,
            _ => item,
        };
        parts.push(py_str(&item));
    }
    Ok(Value::from(parts.join(&sep)))
}

/// `replace(s, old, new, count=None)`.
fn replace(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("replace", &args, &["old", "new", "count"])?;
    let s = py_str(&value);
    let (Some(old), Some(new)) = (&a[0], &a[1]) else {
        return Err(Error::new(ErrorKind::MissingArgument, "replace() needs the arguments old and new"));
    };
    let (old, new) = (py_str(old), py_str(new));
    Ok(Value::from(match a[2].as_ref().and_then(Value::as_i64) {
        Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
        _ => s.replace(&old, &new),
    }))
}

/// `trim(value, chars=None)`: Python's `str.strip(chars)`.
fn trim(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("trim", &args, &["chars"])?;
    let s = py_str(&value);
    Ok(Value::from(match &a[0] {
        Some(c) if !c.is_none() && !c.is_undefined() => {
            let chars: Vec<char> = py_str(c).chars().collect();
            s.trim_matches(&chars[..]).to_string()
        }
        _ => s.trim().to_string(),
    }))
}

/// `center(value, width=80)`: Python's `str.center`.
fn center(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("center", &args, &["width"])?;
    let s = py_str(&value);
    let width = a[0].as_ref().and_then(Value::as_i64).unwrap_or(80);
    let len = s.chars().count() as i64;
    if width <= len {
        return Ok(Value::from(s));
    }
    let pad = width - len;
    let left = pad / 2 + (pad & width & 1);
    Ok(Value::from(format!("{}{s}{}", " ".repeat(left as usize), " ".repeat((pad - left) as usize))))
}

fn to_f64(v: &Value) -> Option<f64> {
    if v.kind() == ValueKind::Number {
        f64::try_from(v.clone()).ok()
    } else {
        None
    }
}

/// `round(value, precision=0, method='common')`: Python's `round()` (ties to even on the
/// exact binary value), `ceil` or `floor`. Integers stay integers for `common`, as in Python.
fn round(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("round", &args, &["precision", "method"])?;
    let precision = a[0].as_ref().and_then(Value::as_i64).unwrap_or(0).clamp(-300, 300) as i32;
    let method = as_string(&a[1], "common");
    if !["common", "ceil", "floor"].contains(&method.as_str()) {
        return Err(invalid("method must be 'common', 'ceil' or 'floor'"));
    }
    if value.is_integer() && method == "common" && precision >= 0 {
        return Ok(value);
    }
    let x = to_f64(&value).ok_or_else(|| invalid(format!("round() needs a number, not {}", value.kind())))?;
    let scale = 10f64.powi(precision);
    let r = match method.as_str() {
        "ceil" => (x * scale).ceil() / scale,
        "floor" => (x * scale).floor() / scale,
        _ if precision >= 0 => format!("{x:.prec$}", prec = precision as usize).parse::<f64>().unwrap_or(x),
        _ => (x * scale).round_ties_even() / scale,
    };
    Ok(Value::from(r))
}

/// Python's `int(str, base)`: surrounding whitespace, `_` between digits, a `0x`/`0o`/`0b`
/// prefix matching the base.
fn parse_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let t = match (base, lower.get(..2)) {
        (16, Some("0x")) | (8, Some("0o")) | (2, Some("0b")) => &t[2..],
        _ => t,
    };
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    let n = i64::from_str_radix(&digits, base).ok()?;
    Some(if neg { -n } else { n })
}

fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim().replace('_', "");
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ => t.parse::<f64>().ok(),
    }
}

/// `int(value, default=0, base=10)`: as Jinja2, a string that is not an integer is tried as a
/// float, and anything else gives `default`.
fn int(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("int", &args, &["default", "base"])?;
    let base = a[1].as_ref().and_then(Value::as_i64).unwrap_or(10);
    if !(2..=36).contains(&base) {
        return Err(invalid("int() base must be between 2 and 36"));
    }
    let parsed = match value.kind() {
        ValueKind::Bool => Some(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => return Ok(value),
        ValueKind::Number => to_f64(&value).filter(|f| f.is_finite()).map(|f| f.trunc() as i64),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            parse_int(s, base as u32).or_else(|| parse_float(s).filter(|f| f.is_finite()).map(|f| f.trunc() as i64))
        }
        _ => None,
    };
    Ok(match parsed {
        Some(n) => Value::from(n),
        None => a[0].clone().unwrap_or_else(|| Value::from(0)),
    })
}

/// `float(value, default=0.0)`.
fn float(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("float", &args, &["default"])?;
    let parsed = match value.kind() {
        ValueKind::Bool => Some(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => to_f64(&value),
        ValueKind::String => parse_float(value.as_str().unwrap_or_default()),
        _ => None,
    };
    Ok(match parsed {
        Some(f) => Value::from(f),
        None => a[0].clone().unwrap_or_else(|| Value::from(0.0)),
    })
}

/// `wordcount(s)`: the number of `\w+` runs.
fn wordcount(value: Value) -> Value {
    let s = py_str(&value);
    let mut count = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = c.is_alphanumeric() || c == '_';
        if w && !in_word {
            count += 1;
        }
        in_word = w;
    }
    Value::from(count)
}

/// `sum(iterable, attribute=None, start=0)`.
fn sum(state: &State, value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("sum", &args, &["attribute", "start"])?;
    let mut total = a[1].clone().unwrap_or_else(|| Value::from(0));
    for item in items_of(state, &value)? {
        let item = match &a[0] {
            Some(attr) if !attr.is_none() => get_path(&item, attr)?,
            _ => item,
        };
        total = add_numbers(&total, &item)?;
    }
    Ok(total)
}

fn add_numbers(a: &Value, b: &Value) -> Result<Value, Error> {
    if a.is_integer() && b.is_integer() {
        if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
            if let Some(z) = x.checked_add(y) {
                return Ok(Value::from(z));
            }
        }
    }
    match (to_f64(a), to_f64(b)) {
        (Some(x), Some(y)) => Ok(Value::from(x + y)),
        _ => Err(invalid(format!("sum(): unsupported operand types {} and {}", a.kind(), b.kind()))),
    }
}

/// `min`/`max(value, case_sensitive=False, attribute=None)`.
fn extreme(state: &State, value: Value, args: Rest<Value>, want_max: bool) -> Result<Value, Error> {
    let name = if want_max { "max" } else { "min" };
    let a = bind(name, &args, &["case_sensitive", "attribute"])?;
    let case_sensitive = truthy(&a[0]);
    let key = |v: &Value| -> Result<Value, Error> {
        let k = match &a[1] {
            Some(attr) if !attr.is_none() => get_path(v, attr)?,
            _ => v.clone(),
        };
        Ok(match (case_sensitive, k.as_str()) {
            (false, Some(s)) => Value::from(s.to_lowercase()),
            _ => k,
        })
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items_of(state, &value)? {
        let k = key(&item)?;
        let better = match &best {
            None => true,
            Some((bk, _)) => {
                if want_max {
                    k > *bk
                } else {
                    k < *bk
                }
            }
        };
        if better {
            best = Some((k, item));
        }
    }
    Ok(best.map(|(_, v)| v).unwrap_or(Value::UNDEFINED))
}

/// `batch(value, linecount, fill_with=None)` and `slice(value, slices, fill_with=None)`.
fn batch(state: &State, value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("batch", &args, &["linecount", "fill_with"])?;
    let n = a[0].as_ref().and_then(Value::as_usize).ok_or_else(|| invalid("batch() needs a positive linecount"))?;
    minijinja::filters::batch(state, value, n, a[1].clone())
}

fn slice(state: &State, value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("slice", &args, &["slices", "fill_with"])?;
    let n = a[0].as_ref().and_then(Value::as_usize).ok_or_else(|| invalid("slice() needs a positive slices"))?;
    minijinja::filters::slice(state, value, n, a[1].clone())
}

/// `filesizeformat(value, binary=False)`.
fn filesizeformat(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let a = bind("filesizeformat", &args, &["binary"])?;
    let f = to_f64(&value)
        .or_else(|| value.as_str().and_then(parse_float))
        .ok_or_else(|| invalid("filesizeformat() needs a number"))?;
    Ok(Value::from(minijinja_contrib::filters::filesizeformat(f, Some(truthy(&a[0])))))
}

/// `format(value, *args, **kwargs)`: Python's `value % args` (or `% kwargs`); `None`, booleans
/// and containers print as Python prints them.
fn format(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let (positional, kwargs): (&[Value], Kwargs) = from_args(&args)?;
    let has_kwargs = kwargs.args().next().is_some();
    if has_kwargs && !positional.is_empty() {
        return Err(invalid("format() can't handle positional and keyword arguments at the same time"));
    }
    let pythonic = |v: &Value| match v.kind() {
        ValueKind::None | ValueKind::Bool | ValueKind::Seq | ValueKind::Map => Value::from(py_str(v)),
        _ => v.clone(),
    };
    let args: Vec<Value> = if has_kwargs {
        let pairs = kwargs
            .args()
            .map(|n| Ok((n.to_string(), pythonic(&kwargs.get::<Value>(n)?))))
            .collect::<Result<Vec<(String, Value)>, Error>>()?;
        vec![Value::from_iter(pairs)]
    } else {
        positional.iter().map(pythonic).collect()
    };
    let fmt = py_str(&value);
    minijinja::format_filter(minijinja::FormatStyle::Printf, &fmt, &args).map(Value::from)
}

/// Registers the Jinja2-signature filters, replacing minijinja's versions.
pub(crate) fn register(env: &mut Environment<'_>) {
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("join", join);
    env.add_filter("replace", replace);
    env.add_filter("trim", trim);
    env.add_filter("center", center);
    env.add_filter("round", round);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("wordcount", wordcount);
    env.add_filter("sum", sum);
    env.add_filter("max", |s: &State, v: Value, a: Rest<Value>| extreme(s, v, a, true));
    env.add_filter("min", |s: &State, v: Value, a: Rest<Value>| extreme(s, v, a, false));
    env.add_filter("batch", batch);
    env.add_filter("slice", slice);
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("format", format);
}
