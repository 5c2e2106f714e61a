//! Markdown to HTML that is safe to put in a page: rendered once when a
//! comment is written, stored beside the markdown.
//!
//! Two layers: raw HTML in the markdown is turned into text before rendering
//! (a commenter who types `<b>` sees `<b>`), and the rendered HTML then goes
//! through ammonia with a short allow-list, which drops scripts, event
//! handlers, styles, every attribute but `a href` and `ol start`, and every
//! URL scheme but http, https and mailto.
//!
//! The cost is bounded whatever the input. pulldown-cmark parses in time
//! linear in the input, but html5ever (inside ammonia) spends time
//! proportional to the depth of open elements on every tag, so 64 KiB of
//! `> > > …` or `- - - …` took seconds and came out as 2 MB of HTML.
//! Elements are therefore nested at most [`MAX_NESTING`] deep (deeper
//! markup is dropped, its text kept), and HTML that would exceed
//! [`max_html_bytes`] is replaced by the text shown as plain paragraphs.
//! html5ever's serializer also rescans the rest of a text node (or an
//! attribute) for every `&` or no-break space it escapes, which is
//! quadratic in the node's length: text is therefore cut into runs of at
//! most [`TEXT_RUN`] bytes by an empty element the sanitizer removes
//! ([`break_long_text`]), and links longer than [`MAX_LINK_BYTES`] are shown
//! as their text. `bench/render.rs` measures the worst inputs found, per
//! input byte.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

use crate::cpu::{CpuError, CpuPool};
use crate::domain::CommentBody;

/// Elements open at once at most; markup nested deeper is dropped and its
/// text joins the enclosing element. No one quotes a quote of a quote 16
/// levels down in a comment.
pub const MAX_NESTING: usize = 16;

/// The longest link target kept as a link; a longer one is shown as the
/// link's text. Longer than any address a browser bar shows whole.
pub const MAX_LINK_BYTES: usize = 4096;

/// The most bytes of text (as escaped HTML) between two tags that the
/// sanitizer is given in one piece; see [`break_long_text`].
pub const TEXT_RUN: usize = 1024;

/// An element no allow-list keeps: the sanitizer removes it and keeps the
/// text on either side as two text nodes.
const RUN_BREAK: &str = "<x-run></x-run>";

/// The most HTML a comment of `markdown_bytes` may render to: 8 bytes per
/// byte of markdown, plus room for a short comment's markup. Ordinary
/// markdown stays well under it (a table of one-letter cells renders to
/// about 5 bytes per byte); beyond it the comment is shown as plain text.
pub fn max_html_bytes(markdown_bytes: usize) -> usize {
    markdown_bytes.saturating_mul(8).saturating_add(1024)
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
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
    ]
    .into_iter()
    .collect();
    let attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href"].into_iter().collect()),
        ("ol", ["start"].into_iter().collect()),
    ]
    .into_iter()
    .collect();
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(attributes)
        // `Builder::empty` still allows `title` and `lang` on every tag.
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener"))
        .strip_comments(true);
    builder
});

/// Renders a comment on the CPU pool, off the HTTP workers; gives the
/// body back with its HTML.
pub async fn on_pool(cpu: &CpuPool, body: CommentBody) -> Result<(CommentBody, String), CpuError> {
    cpu.run(move || {
        let html = markdown_to_html(body.as_str());
        (body, html)
    })
    .await
}

/// What `markdown` would show as, were it a comment's body: validated and
/// rendered on the CPU pool, nothing stored.
pub async fn preview(
    services: &crate::services::Services,
    markdown: &str,
) -> Result<String, super::CommentError> {
    let body = CommentBody::parse(markdown, services.settings.comments.max_body_bytes)?;
    let (_, html) = on_pool(&services.cpu, body)
        .await
        .map_err(|e| super::CommentError::Internal(e.to_string()))?;
    Ok(html)
}

/// Renders a comment's markdown to sanitized HTML.
pub fn markdown_to_html(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // People write comments as they write messages: a new line is a
        // line break, not a space.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() + markdown.len() / 2 + 16);
    html::push_html(&mut unsafe_html, Flatten::new(events));
    // Checked before sanitizing (html5ever's cost grows with what it is
    // given) and after (sanitizing adds `rel` to every link, and one link
    // reference definition can be used many times).
    let cap = max_html_bytes(markdown.len());
    if unsafe_html.len() <= cap {
        let clean = SANITIZER.clean(&break_long_text(&unsafe_html)).to_string();
        if clean.len() <= cap {
            return clean;
        }
    }
    SANITIZER
        .clean(&break_long_text(&plain_text_html(markdown)))
        .to_string()
}

/// Start tags an imported comment's HTML may hold; past it, the comment
/// is shown as escaped text. html5ever's cost per tag grows with the depth
/// of open elements, so the count bounds the work whatever the nesting.
pub const MAX_IMPORTED_TAGS: usize = 4096;

/// Another system's stored comment HTML (a WordPress or Disqus export)
/// made safe to show, with the allow-list rendered markdown gets. The
/// caller bounds its length (`transfer` refuses more than the body limit).
pub fn sanitize_html(html: &str) -> String {
    if html.matches('<').count() > MAX_IMPORTED_TAGS {
        return SANITIZER.clean(&plain_text_html(html)).to_string();
    }
    SANITIZER.clean(html).to_string()
}

/// The text of HTML this module produced (`sanitize_html`,
/// `markdown_to_html`): tags dropped, a line break for `<br>` and a blank
/// line after each block, links written as markdown links (`[text](url)`,
/// so their targets stay for spam scoring and a moderator's edit), and the
/// references html5ever writes (`&amp;`, `&lt;`, `&gt;`, `&quot;`,
/// `&nbsp;`) decoded. What an imported comment keeps as its text, for
/// search, spam scoring and a moderator's edit.
pub fn html_to_text(clean: &str) -> String {
    let mut out = String::with_capacity(clean.len());
    let mut rest = clean;
    // Inside <pre> a new line is one; elsewhere it is white space, and
    // none right after a tag (the serializer's own line ends).
    let mut in_pre = 0usize;
    let mut after_tag = false;
    let mut links: Vec<String> = Vec::new();
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => {
                let (decoded, len) = [
                    ("&amp;", "&"),
                    ("&lt;", "<"),
                    ("&gt;", ">"),
                    ("&quot;", "\""),
                    ("&nbsp;", "\u{a0}"),
                ]
                .iter()
                .find(|(reference, _)| rest.starts_with(reference))
                .map_or(("&", 1), |(reference, text)| (*text, reference.len()));
                out.push_str(decoded);
                rest = &rest[len..];
                after_tag = false;
            }
            '<' => {
                // The tag ends at the first `>` outside double quotes (the
                // serializer quotes every attribute value with them).
                let mut in_quotes = false;
                let end = rest
                    .char_indices()
                    .find(|&(_, c)| {
                        if c == '"' {
                            in_quotes = !in_quotes;
                        }
                        c == '>' && !in_quotes
                    })
                    .map_or(rest.len(), |(i, _)| i + 1);
                let name: String = rest[1..end]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                    .collect();
                match name.as_str() {
                    "br" => out.push('\n'),
                    "a" => {
                        links.push(href_of(&rest[..end]));
                        out.push('[');
                    }
                    "/a" => {
                        let href = links.pop().unwrap_or_default();
                        out.push_str("](");
                        out.push_str(&href);
                        out.push(')');
                    }
                    "pre" => in_pre += 1,
                    "/pre" => {
                        in_pre = in_pre.saturating_sub(1);
                        out.push_str("\n\n");
                    }
                    "/p" | "/blockquote" | "/h1" | "/h2" | "/h3" | "/h4" | "/h5" | "/h6"
                    | "/ul" | "/ol" | "/table" | "hr" => out.push_str("\n\n"),
                    "/li" | "/tr" => out.push('\n'),
                    _ => {}
                }
                rest = &rest[end..];
                after_tag = true;
            }
            '\n' if in_pre == 0 => {
                if !after_tag {
                    out.push(' ');
                }
                rest = &rest[1..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                after_tag = false;
            }
        }
    }
    let mut text = String::with_capacity(out.len());
    let mut newlines = 0;
    for c in out.trim().chars() {
        newlines = if c == '\n' { newlines + 1 } else { 0 };
        if newlines <= 2 {
            text.push(c);
        }
    }
    text
}

/// The `href` of an `<a ...>` tag as html5ever writes it, decoded.
fn href_of(tag: &str) -> String {
    tag.split_once(" href=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| value.replace("&quot;", "\"").replace("&amp;", "&"))
        .unwrap_or_default()
}

/// Cuts the text between tags into runs of at most [`TEXT_RUN`] bytes with
/// [`RUN_BREAK`], never inside a character reference or a character. The
/// sanitizer's serializer then scans at most one run per character it
/// escapes, instead of the rest of a text up to 64 KiB long; the output is
/// the same, as the break leaves nothing behind. Expects HTML as
/// pulldown-cmark writes it (attribute values in double quotes, `<` and `>`
/// in text escaped).
fn break_long_text(html: &str) -> std::borrow::Cow<'_, str> {
    if html.len() <= TEXT_RUN {
        return html.into();
    }
    let mut out = String::with_capacity(html.len() + html.len() / TEXT_RUN * RUN_BREAK.len());
    let (mut in_tag, mut in_quotes, mut in_reference) = (false, false, false);
    let mut run = 0;
    let mut copied = 0;
    for (i, byte) in html.bytes().enumerate() {
        if in_tag {
            match byte {
                b'"' => in_quotes = !in_quotes,
                b'>' if !in_quotes => in_tag = false,
                _ => {}
            }
            continue;
        }
        if byte == b'<' {
            in_tag = true;
            run = 0;
            continue;
        }
        if run >= TEXT_RUN && !in_reference && html.is_char_boundary(i) {
            out.push_str(&html[copied..i]);
            out.push_str(RUN_BREAK);
            copied = i;
            run = 0;
        }
        match byte {
            b'&' => in_reference = true,
            b';' => in_reference = false,
            _ => {}
        }
        run += 1;
    }
    if copied == 0 {
        return html.into();
    }
    out.push_str(&html[copied..]);
    out.into()
}

/// Drops the start and end of every element nested deeper than
/// [`MAX_NESTING`], keeping what is inside; where a dropped block ended, a
/// line break keeps its text apart from what follows.
struct Flatten<I> {
    events: I,
    /// For each element open in the source: how many HTML elements its
    /// kept tags opened (0: dropped).
    open: Vec<usize>,
    kept: usize,
    /// Whether anything was written since the last line break.
    since_break: bool,
}

impl<'a, I: Iterator<Item = Event<'a>>> Flatten<I> {
    fn new(events: I) -> Self {
        Flatten {
            events,
            open: Vec::new(),
            kept: 0,
            since_break: false,
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Flatten<I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.events.next()?;
            match &event {
                Event::Start(tag) => {
                    let elements = html_elements(tag);
                    let keep = self.kept + elements <= MAX_NESTING && !too_long(tag);
                    self.open.push(if keep { elements } else { 0 });
                    if keep {
                        self.kept += elements;
                        self.since_break = !matches!(tag, Tag::Paragraph);
                        return Some(event);
                    }
                }
                Event::End(end) => {
                    let elements = self.open.pop().unwrap_or(0);
                    if elements > 0 {
                        self.kept -= elements;
                        return Some(event);
                    }
                    if self.since_break && ends_a_block(end) {
                        self.since_break = false;
                        return Some(Event::HardBreak);
                    }
                }
                Event::HardBreak => {
                    self.since_break = false;
                    return Some(event);
                }
                // Inline code is an element of its own (`<code>`), with no
                // start or end event: at the bound, it is shown as text.
                Event::Code(code) if self.kept >= MAX_NESTING => {
                    self.since_break = true;
                    return Some(Event::Text(code.clone()));
                }
                _ => {
                    self.since_break = true;
                    return Some(event);
                }
            }
        }
    }
}

/// A link whose target is longer than [`MAX_LINK_BYTES`].
fn too_long(tag: &Tag) -> bool {
    matches!(tag, Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }
        if dest_url.len() > MAX_LINK_BYTES)
}

/// How many HTML elements the tag's start opens at once.
fn html_elements(tag: &Tag) -> usize {
    match tag {
        // <pre><code>, <thead><tr>, and <table> with the <tbody> its first
        // body row opens.
        Tag::CodeBlock(_) | Tag::TableHead | Tag::Table(_) => 2,
        _ => 1,
    }
}

fn ends_a_block(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::CodeBlock
            | TagEnd::Item
            | TagEnd::TableRow
            | TagEnd::TableCell
    )
}

/// The comment as plain paragraphs: blank lines separate them, single new
/// lines break them; every character is escaped. At most 5 bytes of HTML
/// per byte of text (`&` becomes `&amp;`).
fn plain_text_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4 + 16);
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            for c in line.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        }
        out.push_str("</p>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::markdown_to_html as render;
    use super::*;

    #[test]
    fn renders_common_markdown() {
        assert_eq!(
            render("*hi* **there**"),
            "<p><em>hi</em> <strong>there</strong></p>\n"
        );
        assert!(render("line one\nline two").contains("line one<br>"));
        assert!(render("```\nlet x = 1;\n```").contains("<pre><code>let x = 1;\n</code></pre>"));
        assert!(render("> quoted").contains("<blockquote>"));
        assert!(render("~~gone~~").contains("<del>gone</del>"));
    }

    #[test]
    fn links_get_rel_nofollow_ugc_noopener_and_nothing_but_href() {
        let html = render("[site](https://example.com \"a title\")");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
        assert!(!html.contains("title"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text_not_markup() {
        let html = render("<script>alert(1)</script> and <b>bold</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn dangerous_urls_lose_their_href() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](/relative/path)",
        ] {
            let html = render(md);
            assert!(!html.contains("href"), "{md} -> {html}");
        }
    }

    #[test]
    fn images_are_not_embedded() {
        let html = render("![tracker](https://evil.example/pixel.gif)");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn text_is_escaped() {
        let html = render("5 < 6 & \"quotes\"");
        assert!(html.contains("5 &lt; 6 &amp;"), "{html}");
    }

    /// How deep elements are nested in `html`, at most.
    fn deepest(html: &str) -> usize {
        let (mut depth, mut max) = (0usize, 0usize);
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                .collect();
            match name.strip_prefix('/') {
                Some(_) => depth -= 1,
                None if name == "br" || name == "hr" => {}
                None => {
                    depth += 1;
                    max = max.max(depth);
                }
            }
        }
        max
    }

    #[test]
    fn deep_nesting_is_flattened_and_its_text_kept() {
        for md in [
            format!("{}deep", "> ".repeat(5_000)),
            format!("{}deep", "- ".repeat(5_000)),
            format!("{}deep", "1. ".repeat(5_000)),
            format!("{}deep", "> - ".repeat(2_500)),
            format!("{}deep{}", "*a ".repeat(5_000), " a*".repeat(5_000)),
            format!("{}`inline code` deep", "> ".repeat(16)),
            ["|a|b|", "|-|-|", "|c|d|", "", "```", "code", "```", "deep"]
                .map(|line| format!("{}{line}\n", "> ".repeat(15)))
                .concat(),
        ] {
            let html = render(&md);
            assert!(html.contains("deep"), "text lost: {}", &html[..200]);
            assert!(deepest(&html) <= MAX_NESTING, "{}", deepest(&html));
            assert!(html.len() <= max_html_bytes(md.len()), "{}", html.len());
        }
    }

    #[test]
    fn shallow_nesting_is_kept_as_written() {
        let html = render("> > > three levels");
        assert_eq!(html.matches("<blockquote>").count(), 3, "{html}");
        let html = render("- a\n  - b\n    - c");
        assert_eq!(html.matches("<ul>").count(), 3, "{html}");
    }

    #[test]
    fn markup_heavier_than_the_bound_becomes_plain_text() {
        // Quotes as deep as allowed, one short line each: about 13 bytes of
        // HTML per byte of markdown.
        let md = format!("{}x\n\n", "> ".repeat(MAX_NESTING)).repeat(100);
        let html = render(&md);
        assert!(html.len() <= max_html_bytes(md.len()), "{}", html.len());
        assert!(!html.contains("<blockquote"), "{}", &html[..100]);
        assert!(html.starts_with("<p>&gt; &gt;"), "{}", &html[..100]);
    }

    #[test]
    fn links_repeating_one_definition_stay_within_the_bound_once_sanitized() {
        // Found by the fuzz target: each use of `[1]` repeats its URL, and
        // sanitizing adds `rel` to every link, after the first check.
        let md = format!("{}\n\n[1]: http://a.b/\n", "[x][1]".repeat(500));
        let html = markdown_to_html(&md);
        let cap = max_html_bytes(md.len());
        assert!(html.len() <= cap, "{} > {cap}", html.len());
        assert!(html.contains("[x][1]"), "shown as text");
        let few = "[x][1] [y][1]\n\n[1]: https://example.com/a\n";
        assert!(markdown_to_html(few).contains("<a href=\"https://example.com/a\""));
    }

    #[test]
    fn long_text_is_broken_into_runs_that_leave_nothing_behind() {
        let text = format!("<p>{}</p>\n", "a &amp; b&lt;c ".repeat(400));
        let broken = break_long_text(&text);
        assert!(broken.contains(RUN_BREAK));
        for run in broken.split(RUN_BREAK) {
            let text_bytes = run
                .split('<')
                .map(|t| t.split_once('>').map_or(t, |(_, after)| after).len())
                .max()
                .unwrap_or(0);
            assert!(text_bytes <= TEXT_RUN + 8, "{text_bytes}");
        }
        for piece in broken.split(RUN_BREAK).skip(1) {
            assert!(
                !piece.starts_with("amp;") && !piece.starts_with("lt;"),
                "inside a reference: {piece:.20}"
            );
        }
        assert_eq!(
            SANITIZER.clean(&broken).to_string(),
            SANITIZER.clean(&text).to_string(),
            "the breaks are removed without a trace"
        );
        let attribute = format!(
            "<p><a href=\"https://x.example/?{}\">x</a></p>",
            "a=1&amp;".repeat(300)
        );
        assert_eq!(
            break_long_text(&attribute),
            attribute,
            "attributes are left whole"
        );
        let multibyte = format!("<p>{}</p>", "é".repeat(2000));
        assert!(break_long_text(&multibyte)
            .split(RUN_BREAK)
            .all(|p| !p.is_empty()));
    }

    #[test]
    fn links_longer_than_the_bound_are_shown_as_text() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_LINK_BYTES));
        let html = markdown_to_html(&format!("[see this]({long}) and <{long}>"));
        assert!(!html.contains("<a "), "{html:.200}");
        assert!(html.contains("see this"));
        let fits = format!("https://example.com/{}", "a".repeat(100));
        assert!(markdown_to_html(&format!("[see this]({fits})")).contains("<a href"));
    }

    #[test]
    fn plain_text_fallback_escapes_and_keeps_paragraphs() {
        assert_eq!(
            plain_text_html("a < b & c\nnext\n\n\n\nsecond"),
            "<p>a &lt; b &amp; c<br>next</p>\n<p>second</p>\n"
        );
    }

    #[test]
    fn imported_html_keeps_allowed_markup_and_loses_the_rest() {
        let html = sanitize_html(
            "<p>Hi <b>there</b> <a href=\"https://example.com\" onclick=\"x()\">site</a></p><script>alert(1)</script><img src=x onerror=y>",
        );
        assert!(html.contains("<a href=\"https://example.com\""), "{html}");
        assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
        assert!(
            !html.contains("onclick") && !html.contains("script") && !html.contains("<img"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "not on the allow-list: {html}");
        assert!(html.contains("there"), "{html}");
    }

    #[test]
    fn imported_html_with_too_many_tags_is_shown_as_text() {
        let deep = format!("{}x", "<div>".repeat(MAX_IMPORTED_TAGS + 1));
        let html = sanitize_html(&deep);
        assert!(html.starts_with("<p>&lt;div&gt;"), "{:.60}", html);
    }

    #[test]
    fn text_of_html_keeps_lines_and_decodes_references() {
        let html = sanitize_html("<p>a &amp; b &lt;c&gt;<br>next</p><p>second <a href=\"https://x.example/?a=1&amp;b=2\">link</a></p>");
        assert_eq!(
            html_to_text(&html),
            "a & b <c>\nnext\n\nsecond [link](https://x.example/?a=1&b=2)"
        );
        assert_eq!(
            html_to_text(&markdown_to_html("one\n\n\n\ntwo")),
            "one\n\ntwo"
        );
        assert_eq!(
            html_to_text("<p>a<br>\nb\nc</p>\n<pre><code>x\ny\n</code></pre>"),
            "a\nb c\n\nx\ny"
        );
    }
}
