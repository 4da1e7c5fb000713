//! Which other templates a template names with a string literal in `{% include %}`,
//! `{% import %}`, `{% from … import %}` or `{% extends %}` (also `include ['a', 'b']` lists).
//! Used to list a prompt's closure without rendering it: a reference inside a branch that a
//! given render would not take is listed too, and a name computed at render time cannot be.

/// The referenced template names, in order of first appearance, without duplicates.
pub fn template_references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{%") {
        rest = &rest[i + 2..];
        let end = rest.find("%}").unwrap_or(rest.len());
        let tag = rest[..end].trim_start_matches(['-', '+']).trim_start();
        let keyword_len = tag.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tag.len());
        if matches!(&tag[..keyword_len], "include" | "import" | "extends" | "from") {
            let mut args = &tag[keyword_len..];
            // Every quoted string up to a keyword that ends the name list.
            while let Some(q) = args.find(['"', '\'']) {
                let before = &args[..q];
                if before.contains(" import ") || before.contains(" as ") || before.contains(" ignore ") {
                    break;
                }
                let quote = args.as_bytes()[q] as char;
                let body = &args[q + 1..];
                let Some(close) = body.find(quote) else { break };
                let name = body[..close].to_string();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
                args = &body[close + 1..];
            }
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::template_references;

    #[test]
    fn finds_literal_references() {
        let t = "{% include 'a.jinja' %}{%- extends \"base.md\" -%}{% import 'm.j2' as m %}\
                 {% from 'f.jinja' import x %}{% include ['p.md', 'q.md'] ignore missing %}\
                 {% include name %}{% if x %}{% include 'a.jinja' %}{% endif %}{{ '{% include \"no\" %}' }}";
        assert_eq!(template_references(t), vec!["a.jinja", "base.md", "m.j2", "f.jinja", "p.md", "q.md", "no"]);
        assert!(template_references("plain text {{ x }}").is_empty());
    }
}
