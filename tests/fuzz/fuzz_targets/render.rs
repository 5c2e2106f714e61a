//! `comments::render::markdown_to_html` on arbitrary UTF-8.
//!
//! Properties of every output (the sanitizer's promises, checked by reading
//! the HTML back with a small tag scanner):
//! * every `<` begins a tag (`<` then an ASCII letter or `/`); text is escaped,
//!   so `&lt;script&gt;` is text, not a tag;
//! * no `<script`, whatever the case;
//! * only tags from the sanitizer's allow-list, correctly nested (a stray
//!   closing tag could close an element of the page around the comment);
//! * only the attributes it allows (`a href`, `a rel`, `ol start`), so no
//!   `on…=` event handler, no `style`, no `title`;
//! * no more than `render::max_html_bytes` of HTML, and elements nested no
//!   deeper than `render::MAX_NESTING` (`render_cost.rs` checks the time);
//! * every `href` is an absolute http:, https: or mailto: URL as a browser
//!   reads it (entities decoded, tab/newline removed, leading/trailing
//!   controls and spaces trimmed), and the link carries
//!   `rel="nofollow ugc noopener"`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moderato::comments::render::{markdown_to_html, max_html_bytes, MAX_NESTING};

/// `SANITIZER`'s tag allow-list in `src/comments/render.rs`.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];
/// Elements serialized without a closing tag.
const VOID_TAGS: &[&str] = &["br", "hr"];
const ALLOWED_SCHEMES: &[&str] = &["http:", "https:", "mailto:"];
const LINK_REL: &str = "nofollow ugc noopener";

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else {
        return;
    };
    let html = markdown_to_html(markdown);
    if let Err(why) = check(&html) {
        panic!("unsafe render: {why}\nmarkdown: {markdown:?}\nhtml: {html:?}");
    }
    assert!(
        html.len() <= max_html_bytes(markdown.len()),
        "{} bytes of HTML from {} of markdown: {markdown:?}",
        html.len(),
        markdown.len()
    );
});

/// One tag as written: `<name attr="value" ...>` or `</name>`.
struct Tag<'a> {
    closing: bool,
    name: &'a str,
    attrs: Vec<(&'a str, Option<&'a str>)>,
}

fn check(html: &str) -> Result<(), String> {
    if html.to_ascii_lowercase().contains("<script") {
        return Err("contains `<script`".into());
    }
    let bytes = html.as_bytes();
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(c) if c.is_ascii_alphabetic() || *c == b'/' => {}
            _ => return Err(format!("a raw `<` that begins no tag at byte {i}")),
        }
        let (tag, end) = scan_tag(html, i)?;
        check_tag(&tag)?;
        if tag.closing {
            match open.pop() {
                Some(name) if name == tag.name => {}
                other => return Err(format!("`</{}>` at byte {i} closes {other:?}", tag.name)),
            }
        } else if !VOID_TAGS.contains(&tag.name) {
            open.push(tag.name);
            if open.len() > MAX_NESTING {
                return Err(format!("{} elements open at byte {i}", open.len()));
            }
        }
        i = end + 1;
    }
    if !open.is_empty() {
        return Err(format!("tags left open: {open:?}"));
    }
    Ok(())
}

/// Reads the tag starting at `start` (a `<`); returns it and the index of
/// its closing `>`. Quoted attribute values may contain `>`.
fn scan_tag(html: &str, start: usize) -> Result<(Tag<'_>, usize), String> {
    let b = html.as_bytes();
    let unterminated = || format!("unterminated tag at byte {start}");
    let mut i = start + 1;
    let closing = b[i] == b'/';
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let name = &html[name_start..i];
    if name.is_empty() {
        return Err(format!("a tag without a name at byte {start}"));
    }
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        match b.get(i) {
            None => return Err(unterminated()),
            Some(b'>') => break,
            Some(_) => {}
        }
        let attr_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let attr = &html[attr_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            attrs.push((attr, None));
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match b.get(i) {
            None => return Err(unterminated()),
            Some(&q @ (b'"' | b'\'')) => {
                let v_start = i + 1;
                let len = html[v_start..].bytes().position(|c| c == q);
                let len = len.ok_or_else(unterminated)?;
                i = v_start + len + 1;
                &html[v_start..v_start + len]
            }
            Some(_) => {
                let v_start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                &html[v_start..i]
            }
        };
        attrs.push((attr, Some(value)));
    }
    Ok((
        Tag {
            closing,
            name,
            attrs,
        },
        i,
    ))
}

fn check_tag(tag: &Tag<'_>) -> Result<(), String> {
    if !ALLOWED_TAGS.contains(&tag.name) {
        return Err(format!("tag `{}` is not on the allow-list", tag.name));
    }
    if tag.closing && !tag.attrs.is_empty() {
        return Err(format!("closing tag `{}` has attributes", tag.name));
    }
    let mut has_href = false;
    let mut rel = None;
    for &(name, value) in &tag.attrs {
        if name.len() >= 2 && name[..2].eq_ignore_ascii_case("on") {
            return Err(format!("event handler `{name}` on `{}`", tag.name));
        }
        match (tag.name, name) {
            ("a", "href") => {
                let value = value.ok_or("`href` without a value")?;
                let url = as_browser_reads_it(value);
                let lower = url.to_ascii_lowercase();
                if !ALLOWED_SCHEMES.iter().any(|s| lower.starts_with(s)) {
                    return Err(format!(
                        "href {value:?} (read as {url:?}) has a refused scheme"
                    ));
                }
                has_href = true;
            }
            ("a", "rel") => rel = value,
            ("ol", "start") => {}
            _ => {
                return Err(format!(
                    "attribute `{name}` on `{}` is not on the allow-list",
                    tag.name
                ))
            }
        }
    }
    if has_href && rel != Some(LINK_REL) {
        return Err(format!("a link with rel {rel:?}, not {LINK_REL:?}"));
    }
    Ok(())
}

/// An attribute value as a browser uses it as a URL: character references
/// decoded, ASCII tab and newlines removed, leading and trailing C0 controls
/// and spaces trimmed.
fn as_browser_reads_it(value: &str) -> String {
    decode_entities(value)
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .trim_matches(|c: char| c <= ' ')
        .to_string()
}

/// Decodes the character references a serializer writes (`&amp;`, `&quot;`,
/// `&lt;`, `&gt;`, `&nbsp;`, `&apos;`, `&#N;`, `&#xH;`); anything else is
/// kept as written.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest[1..].find(';').and_then(|end| {
            let name = &rest[1..1 + end];
            let c = match name {
                "amp" => '&',
                "quot" => '"',
                "lt" => '<',
                "gt" => '>',
                "nbsp" => '\u{a0}',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let v = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(v)?
                }
            };
            Some((c, end + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
