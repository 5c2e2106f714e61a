//! A thread's Atom feed (RFC 4287, with the threading extension of RFC
//! 4685 for replies), as Isso's `GET /feed?uri=...` serves it: the newest
//! published comments first, each linking to `#isso-<id>` on the page.

use crate::db::models::{Article, Comment};
use crate::domain::timestamp;

/// What a feed is made of.
pub struct Feed<'a> {
    /// `isso.feed_base`, without a trailing slash.
    pub base: &'a str,
    pub key: &'a str,
    pub article: Option<&'a Article>,
    /// Newest first.
    pub comments: &'a [Comment],
}

impl Feed<'_> {
    /// The page the thread is on: the article's URL when it has one, else
    /// the feed base followed by the key.
    fn page(&self) -> String {
        match self.article.and_then(|a| a.url.as_deref()) {
            Some(url) => url.to_string(),
            None if self.key.starts_with('/') => format!("{}{}", self.base, self.key),
            None => format!("{}/{}", self.base, self.key),
        }
    }

    /// A tag URI (RFC 4151) naming something of this feed's blog.
    fn tag(&self, specific: &str) -> String {
        let host = url::Url::parse(self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "localhost".to_string());
        format!("tag:{host},2026:moderato/{specific}")
    }

    pub fn to_xml(&self) -> String {
        let page = self.page();
        let title = match self.article.and_then(|a| a.title.as_deref()) {
            Some(title) => format!("Comments on {title}"),
            None => format!("Comments on {page}"),
        };
        let updated = self
            .comments
            .first()
            .map(|c| timestamp(c.edited_at.unwrap_or(c.created_at)))
            .unwrap_or_else(|| timestamp(0));
        let mut xml = String::with_capacity(512 + self.comments.len() * 512);
        xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        xml.push_str(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\" \
             xmlns:thr=\"http://purl.org/syndication/thread/1.0\">\n",
        );
        element(
            &mut xml,
            1,
            "id",
            &self.tag(&format!("thread:{}", self.key)),
        );
        element(&mut xml, 1, "title", &title);
        element(&mut xml, 1, "updated", &updated);
        xml.push_str(&format!(
            "  <link rel=\"alternate\" href=\"{}\"/>\n",
            escape(&page)
        ));
        for comment in self.comments {
            xml.push_str("  <entry>\n");
            element(
                &mut xml,
                2,
                "id",
                &self.tag(&format!("comment:{}", comment.id)),
            );
            element(&mut xml, 2, "title", &format!("Comment #{}", comment.id));
            element(
                &mut xml,
                2,
                "updated",
                &timestamp(comment.edited_at.unwrap_or(comment.created_at)),
            );
            element(&mut xml, 2, "published", &timestamp(comment.created_at));
            xml.push_str("    <author>\n");
            element(&mut xml, 3, "name", &comment.author_name);
            xml.push_str("    </author>\n");
            xml.push_str(&format!(
                "    <link rel=\"alternate\" href=\"{}\"/>\n",
                escape(&format!("{page}#isso-{}", comment.id))
            ));
            xml.push_str(&format!(
                "    <content type=\"html\">{}</content>\n",
                escape(&comment.html)
            ));
            if let Some(parent) = comment.parent_id {
                xml.push_str(&format!(
                    "    <thr:in-reply-to ref=\"{}\" href=\"{}\"/>\n",
                    escape(&self.tag(&format!("comment:{parent}"))),
                    escape(&format!("{page}#isso-{parent}"))
                ));
            }
            xml.push_str("  </entry>\n");
        }
        xml.push_str("</feed>\n");
        xml
    }
}

fn element(xml: &mut String, depth: usize, name: &str, text: &str) {
    xml.push_str(&"  ".repeat(depth));
    xml.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

/// Text for XML content or a quoted attribute. Characters XML 1.0 cannot
/// carry at all (controls other than tab and line ends, surrogates'
/// stand-ins, U+FFFE and U+FFFF) are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_what_xml_cannot_hold_are_escaped_or_dropped() {
        assert_eq!(
            escape("<p>a & \"b\" 'c'</p>\u{1}\u{FFFF}\n"),
            "&lt;p&gt;a &amp; &quot;b&quot; &apos;c&apos;&lt;/p&gt;\n"
        );
    }
}
