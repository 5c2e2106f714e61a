//! Markdown to HTML that is safe to put in a page: rendered once when a
//! comment is written, stored beside the markdown.
//!
//! Two layers: raw HTML in the markdown is turned into text before rendering
//! (a commenter who types `<b>` sees `<b>`), and the rendered HTML then goes
//! through ammonia with a short allow-list, which drops scripts, event
//! handlers, styles and every URL scheme but http, https and mailto.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser};

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
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener"))
        .strip_comments(true);
    builder
});

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
    html::push_html(&mut unsafe_html, events);
    SANITIZER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::markdown_to_html as render;

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
    fn links_get_rel_nofollow_ugc_noopener() {
        let html = render("[site](https://example.com)");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
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
}
