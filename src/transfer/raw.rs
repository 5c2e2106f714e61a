//! A comment as a reader found it, checked once into a [`CommentIn`]: the
//! same domain types as a submitted comment (name, email, URL, text), the
//! source's HTML through the sanitizer, markdown through the renderer.

use std::net::IpAddr;

use super::summary::{Skip, SkipKind};
use super::{CommentIn, Item};
use crate::comments::render;
use crate::config::CommentSettings;
use crate::domain::{AuthorName, CommentBody, CommentStatus, Email, Fingerprint, WebUrl};

/// The text of a comment as its source stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// HTML (WordPress, Disqus): sanitized, its text kept as the body.
    Html(String),
    /// Markdown (Isso): kept as the body and rendered.
    Markdown(String),
}

/// The limits a submitted comment is held to, which imported ones meet too.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body: usize,
    pub name: usize,
    pub email: usize,
    pub url: usize,
}

impl Limits {
    pub fn of(settings: &CommentSettings) -> Self {
        Limits {
            body: settings.max_body_bytes,
            name: settings.max_name_bytes,
            email: settings.max_email_bytes,
            url: settings.max_url_bytes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawComment {
    pub source_id: String,
    pub article: String,
    pub parent: Option<String>,
    pub name: String,
    pub email: String,
    pub url: String,
    pub ip: String,
    pub text: Text,
    pub status: CommentStatus,
    pub created_at: i64,
    /// Written by a registered user of the source: linked to the account
    /// with the same email, if there is one.
    pub registered: bool,
}

impl RawComment {
    /// What a reader yields for this record: the comment after a warning
    /// for each value dropped from it, or the reason it is skipped.
    pub fn into_items(self, limits: &Limits) -> Vec<Item> {
        match self.check(limits) {
            Ok((comment, dropped)) => dropped
                .into_iter()
                .map(Item::Warning)
                .chain([Item::Comment(Box::new(comment))])
                .collect(),
            Err(skip) => vec![Item::Skipped(skip)],
        }
    }

    /// The comment as it will be stored, and what was dropped from it on
    /// the way (an address or website that is not one). A record that
    /// cannot be a comment (bad email, no text, too long) is a [`Skip`].
    pub fn check(self, limits: &Limits) -> Result<(CommentIn, Vec<String>), Skip> {
        let id = self.source_id.clone();
        let skip = |kind, detail: String| Skip::new(kind, &id, detail);
        let mut dropped = Vec::new();
        let name = match self.name.trim() {
            "" => AuthorName::anonymous(),
            name => AuthorName::parse(name, limits.name, "name")
                .map_err(|e| skip(SkipKind::InvalidName, e.to_string()))?,
        };
        let email = match self.email.trim() {
            "" => None,
            email => Some(
                Email::parse(email, limits.email, "email")
                    .map_err(|e| skip(SkipKind::InvalidEmail, e.to_string()))?,
            ),
        };
        let url = match self.url.trim() {
            "" => None,
            url => match WebUrl::parse(url, limits.url, "website") {
                Ok(url) => Some(url.as_str().to_string()),
                Err(e) => {
                    dropped.push(format!("comment {id}: website dropped ({e})"));
                    None
                }
            },
        };
        let ip = match self.ip.trim() {
            "" => None,
            ip => match ip.parse::<IpAddr>() {
                Ok(ip) => Some(ip.to_string()),
                Err(_) => {
                    dropped.push(format!("comment {id}: IP address `{ip}` dropped"));
                    None
                }
            },
        };
        let (body, html) = match &self.text {
            Text::Html(source) if source.len() > limits.body => {
                return Err(skip(
                    SkipKind::TooLong,
                    format!("{} bytes of HTML, more than {}", source.len(), limits.body),
                ))
            }
            Text::Html(source) => {
                let html = render::sanitize_html(source);
                (render::html_to_text(&html), html)
            }
            Text::Markdown(source) => (source.clone(), String::new()),
        };
        let (body, html) = if body.trim().is_empty() && self.status == CommentStatus::Trash {
            // A removed comment whose text is gone (Isso keeps one for its
            // replies): kept empty, so the replies keep their place.
            (String::new(), String::new())
        } else {
            let body = CommentBody::parse(&body, limits.body).map_err(|e| {
                let kind = if body.len() > limits.body {
                    SkipKind::TooLong
                } else {
                    SkipKind::EmptyText
                };
                skip(kind, e.to_string())
            })?;
            let html = match self.text {
                Text::Html(_) => html,
                Text::Markdown(_) => render::markdown_to_html(body.as_str()),
            };
            (body.into_inner(), html)
        };
        let account_email = email
            .as_ref()
            .filter(|_| self.registered)
            .map(|e| e.as_str().to_string());
        Ok((
            CommentIn {
                source_id: self.source_id,
                article: self.article,
                parent: self.parent,
                author_name: name.into_inner(),
                author_email: email.map(Email::into_inner),
                author_url: url,
                ip,
                account_email,
                fingerprint: (!body.is_empty()).then(|| Fingerprint::of(&body).hash),
                body,
                html,
                status: self.status,
                created_at: self.created_at,
                kept: None,
            },
            dropped,
        ))
    }
}

/// The article key a page's link gives: its path, with its query when it
/// has one (a draft's `/?p=9`). `None` when the link is not a URL.
pub fn key_of_link(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    Some(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    })
}

/// WordPress (and Disqus, for older comments) store a comment's text with
/// its line breaks, adding the paragraphs only when showing it (`wpautop`): blank lines end
/// paragraphs, single new lines break lines. Text that has its own
/// paragraphs is taken as it is.
pub fn paragraphs(content: &str) -> String {
    if content.contains("<p>") || content.contains("<p ") {
        return content.to_string();
    }
    content
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        body: 1000,
        name: 100,
        email: 100,
        url: 200,
    };

    fn raw(text: Text) -> RawComment {
        RawComment {
            source_id: "7".into(),
            article: "1".into(),
            parent: None,
            name: "Ada".into(),
            email: "Ada@Example.com".into(),
            url: "http://ada.example".into(),
            ip: "203.0.113.9".into(),
            text,
            status: CommentStatus::Approved,
            created_at: 1,
            registered: true,
        }
    }

    #[test]
    fn line_breaks_become_paragraphs_as_wordpress_shows_them() {
        assert_eq!(
            paragraphs("one\ntwo\r\n\r\nthree"),
            "<p>one<br>\ntwo</p>\n<p>three</p>"
        );
        assert_eq!(paragraphs("<p>kept</p>\n\nas is"), "<p>kept</p>\n\nas is");
    }

    #[test]
    fn html_is_sanitized_and_its_text_kept_as_the_body() {
        let (comment, dropped) = raw(Text::Html(
            "<p>Hello <a href=\"https://x.example\">you</a></p><script>x</script>".into(),
        ))
        .check(&LIMITS)
        .unwrap();
        assert!(dropped.is_empty());
        assert_eq!(comment.body, "Hello [you](https://x.example)");
        assert!(comment.html.contains("<a href=\"https://x.example\""));
        assert!(!comment.html.contains("script"));
        assert_eq!(comment.author_email.as_deref(), Some("ada@example.com"));
        assert_eq!(comment.account_email.as_deref(), Some("ada@example.com"));
        assert_eq!(comment.author_url.as_deref(), Some("http://ada.example/"));
    }

    #[test]
    fn a_bad_email_skips_the_record_and_a_bad_website_is_dropped() {
        let mut bad = raw(Text::Markdown("hi".into()));
        bad.email = "not an address".into();
        assert_eq!(bad.check(&LIMITS).unwrap_err().kind, SkipKind::InvalidEmail);
        let mut odd = raw(Text::Markdown("*hi*".into()));
        odd.url = "javascript:alert(1)".into();
        odd.ip = "nowhere".into();
        let (comment, dropped) = odd.check(&LIMITS).unwrap();
        assert_eq!(comment.author_url, None);
        assert_eq!(comment.ip, None);
        assert_eq!(dropped.len(), 2);
        assert_eq!(comment.html, "<p><em>hi</em></p>\n");
    }

    #[test]
    fn empty_text_is_kept_only_for_a_removed_comment() {
        assert_eq!(
            raw(Text::Html("<p> </p>".into()))
                .check(&LIMITS)
                .unwrap_err()
                .kind,
            SkipKind::EmptyText
        );
        let mut removed = raw(Text::Markdown(String::new()));
        removed.status = CommentStatus::Trash;
        assert_eq!(removed.check(&LIMITS).unwrap().0.body, "");
        let long = raw(Text::Html("x".repeat(1001)));
        assert_eq!(long.check(&LIMITS).unwrap_err().kind, SkipKind::TooLong);
    }
}
