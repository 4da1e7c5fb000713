//! Recognises templates written for another engine, so the user gets "needs the Handlebars
//! (Dotprompt) engine" instead of a confusing Jinja syntax error.

pub(crate) const HANDLEBARS: &str = "Handlebars (Dotprompt)";
pub(crate) const SEMANTIC_KERNEL: &str = "Semantic Kernel";

/// The inner text of every `{{ … }}` tag, with its 1-based line.
fn tags(source: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = source;
    let mut offset = 0;
    while let Some(i) = rest.find("{{") {
        let start = i + 2;
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start..start + end];
        let line = source[..offset + i].matches('\n').count() + 1;
        out.push((line, inner));
        offset += start + end + 2;
        rest = &rest[start + end + 2..];
    }
    out
}

fn clip(s: &str) -> String {
    let s: String = s.chars().take(40).collect();
    s.replace('\n', " ")
}

/// Handlebars-only syntax: block helpers `{{#if}}`/`{{/if}}`, partials `{{> name}}`, inverse
/// `{{^x}}`, comments `{{! }}`, `{{else}}`, data variables `{{@index}}`, triple-stash `{{{x}}}`,
/// whitespace control `{{~`, and Dotprompt helpers called without parentheses (`{{role "system"}}`).
pub(crate) fn detect_handlebars(source: &str) -> Option<(&'static str, String)> {
    for (line, inner) in tags(source) {
        let t = inner.trim_start_matches('~').trim_start();
        let first = t.chars().next();
        let marker = matches!(first, Some('#' | '/' | '>' | '^' | '!' | '@' | '{'))
            || inner.starts_with('~')
            || t.trim_end() == "else"
            || t.starts_with("else ");
        // A helper called with a string argument and no parentheses: `{{role "system"}}`.
        let word_len = t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count();
        let after = &t[word_len..];
        let helper = word_len > 0 && after.starts_with([' ', '\t']) && after.trim_start().starts_with(['"', '\'']);
        if marker || helper {
            return Some((HANDLEBARS, format!("line {line} has the Handlebars tag `{{{{{}}}}}`", clip(inner))));
        }
    }
    None
}

/// Semantic Kernel template syntax: `{{$variable}}` and `{{plugin.function $arg}}`.
pub(crate) fn detect_semantic_kernel(source: &str) -> Option<(&'static str, String)> {
    for (line, inner) in tags(source) {
        let t = inner.trim();
        let sk = t.starts_with('$') || t.split_whitespace().skip(1).any(|w| w.starts_with('$') && w.len() > 1);
        if sk {
            return Some((
                SEMANTIC_KERNEL,
                format!("line {line} has the Semantic Kernel variable `{{{{{}}}}}`", clip(inner)),
            ));
        }
    }
    None
}

/// Either engine, for a template that failed to parse as Jinja.
pub(crate) fn detect(source: &str) -> Option<(&'static str, String)> {
    detect_semantic_kernel(source).or_else(|| detect_handlebars(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlebars_markers() {
        for s in [
            "{{#if x}}a{{/if}}",
            "{{> style personality=p}}",
            "{{role \"system\"}}",
            "{{ role \"user\" }}",
            "{{@index}}",
            "{{{raw}}}",
        ] {
            assert_eq!(detect_handlebars(s).map(|d| d.0), Some(HANDLEBARS), "{s}");
        }
        for s in ["{{ name }}", "{{ a if b else c }}", "{{ x | default('y') }}", "{{ f('a') }}"] {
            assert_eq!(detect_handlebars(s), None, "{s}");
        }
    }

    #[test]
    fn semantic_kernel_markers() {
        assert_eq!(detect("<m>{{$INPUT}}</m>").map(|d| d.0), Some(SEMANTIC_KERNEL));
        assert_eq!(detect("{{ time.now $fmt }}").map(|d| d.0), Some(SEMANTIC_KERNEL));
        assert_eq!(detect("{{ price }} $"), None);
    }
}
