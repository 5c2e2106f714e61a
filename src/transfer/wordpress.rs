//! WordPress's export (WXR, "WordPress eXtended RSS", versions 1.0 to 1.2):
//! `<rss><channel>` holding an `<item>` per post with its `<wp:comment>`s.
//!
//! Elements are matched by local name, as WordPress's own importer does,
//! so every WXR namespace version (`http://` or `https://`) reads alike.
//! A post's fields come before its comments in every WXR file WordPress
//! writes; a comment is read whole before it is yielded.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::apply::Queued;
use super::raw::{key_of_link, paragraphs};
use super::summary::{Skip, SkipKind};
use super::xml::{Node, XmlStream};
use super::{ArticleIn, Item, Limits, RawComment, Text, TransferError};
use crate::domain::{ArticleKey, CommentStatus, Title, WebUrl};

/// Which of a post's fields becomes its article key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyFrom {
    /// The path of the post's URL (with its query, if it has one).
    Path,
    /// The post's slug (`wp:post_name`).
    Slug,
    /// The post's GUID, as written.
    Guid,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub key_from: KeyFrom,
    pub include_pingbacks: bool,
    pub limits: Limits,
}

/// The longest article URL kept.
pub const MAX_ARTICLE_URL_BYTES: usize = 2048;

#[derive(Debug, Default)]
struct Post {
    id: String,
    title: String,
    link: String,
    guid: String,
    slug: String,
    /// Whether its article was yielded (or could not be).
    announced: bool,
    /// Why it has no article, when it has none.
    no_key: Option<String>,
}

#[derive(Debug, Default)]
struct Comment {
    id: String,
    author: String,
    email: String,
    url: String,
    ip: String,
    date: String,
    date_gmt: String,
    content: String,
    approved: String,
    kind: String,
    parent: String,
    user_id: String,
    cut: bool,
}

pub struct WordPress {
    xml: XmlStream,
    options: Options,
    queue: VecDeque<Item>,
    site: String,
    source_sent: bool,
    post: Option<Post>,
    comment: Option<Comment>,
    done: bool,
}

impl WordPress {
    pub fn open(
        file: &Path,
        options: Options,
        read: Arc<AtomicU64>,
    ) -> Result<Self, TransferError> {
        Ok(WordPress {
            xml: XmlStream::open(file, read)?,
            options,
            queue: VecDeque::new(),
            site: String::new(),
            source_sent: false,
            post: None,
            comment: None,
            done: false,
        })
    }

    fn start(&mut self) -> Result<(), TransferError> {
        let depth = self.xml.path.len();
        let name = self.xml.up(0).unwrap_or_default().to_string();
        match (depth, name.as_str()) {
            (1, "rss") => {}
            (1, other) => {
                return Err(self.xml.error(format!(
                    "not a WordPress export (WXR): the root element is <{other}>, not <rss>"
                )))
            }
            (2, "channel") => {}
            (2, other) => {
                return Err(self.xml.error(format!(
                    "not a WordPress export (WXR): <rss> holds <{other}>, not <channel>"
                )))
            }
            (3, "item") => {
                if !self.source_sent {
                    self.source_sent = true;
                    let site = self.site.trim().trim_end_matches('/');
                    self.queue
                        .push_back(Item::Source(format!("wordpress:{site}")));
                }
                self.post = Some(Post::default());
            }
            (4, "comment") if self.post.is_some() => self.comment = Some(Comment::default()),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, text: String, cut: bool) {
        let name = self.xml.up(0).unwrap_or_default();
        let parent = self.xml.up(1).unwrap_or_default();
        match (parent, name) {
            ("channel", "base_site_url") => self.site = text,
            ("channel", "link") if self.site.is_empty() => self.site = text,
            ("channel", "item") => self.post = None,
            ("item", "comment") => {
                if let Some(comment) = self.comment.take() {
                    self.finish(comment);
                }
            }
            ("item", field) => {
                if let Some(post) = &mut self.post {
                    let slot = match field {
                        "post_id" => &mut post.id,
                        "title" => &mut post.title,
                        "link" => &mut post.link,
                        "guid" => &mut post.guid,
                        "post_name" => &mut post.slug,
                        _ => return,
                    };
                    *slot = text;
                }
            }
            ("comment", field) => {
                if let Some(comment) = &mut self.comment {
                    let slot = match field {
                        "comment_id" => &mut comment.id,
                        "comment_author" => &mut comment.author,
                        "comment_author_email" => &mut comment.email,
                        "comment_author_url" => &mut comment.url,
                        "comment_author_IP" => &mut comment.ip,
                        "comment_date" => &mut comment.date,
                        "comment_date_gmt" => &mut comment.date_gmt,
                        "comment_content" => {
                            comment.cut = cut;
                            &mut comment.content
                        }
                        "comment_approved" => &mut comment.approved,
                        "comment_type" => &mut comment.kind,
                        "comment_parent" => &mut comment.parent,
                        "comment_user_id" => &mut comment.user_id,
                        _ => return,
                    };
                    *slot = text;
                }
            }
            _ => {}
        }
    }

    /// Yields the post's article the first time one of its comments is.
    fn announce(&mut self) -> Option<String> {
        let key_from = self.options.key_from;
        let post = self.post.as_mut()?;
        if !post.announced {
            post.announced = true;
            match article_of(post, key_from) {
                Ok(article) => self.queue.push_back(Item::Article(article)),
                Err(why) => post.no_key = Some(why),
            }
        }
        post.no_key.clone()
    }

    fn finish(&mut self, c: Comment) {
        // Scoped to the post: WordPress numbers comments across the site,
        // but files exist that repeat a number under another post, and a
        // parent is always in its reply's post.
        let post = self
            .post
            .as_ref()
            .map(|p| p.id.trim().to_string())
            .unwrap_or_default();
        let id = format!("{post}/{}", c.id.trim());
        let skip = |kind, detail: String| Item::Skipped(Skip::new(kind, &id, detail));
        let kind = c.kind.trim();
        let item = match kind {
            "" | "comment" => None,
            "pingback" | "trackback" if self.options.include_pingbacks => None,
            "pingback" | "trackback" => Some(skip(SkipKind::Pingback, kind.to_string())),
            other => Some(skip(SkipKind::OtherType, format!("type `{other}`"))),
        };
        if let Some(item) = item {
            self.queue.push_back(item);
            return;
        }
        let status = match c.approved.trim() {
            "1" | "approve" => CommentStatus::Approved,
            "0" | "hold" => CommentStatus::Pending,
            "spam" => CommentStatus::Spam,
            "trash" | "post-trashed" => CommentStatus::Trash,
            other => {
                self.queue.push_back(skip(
                    SkipKind::UnknownStatus,
                    format!("comment_approved `{other}`"),
                ));
                return;
            }
        };
        let created_at = match (wp_time(&c.date_gmt), wp_time(&c.date)) {
            (Some(t), _) => t,
            (None, Some(t)) => {
                self.queue.push_back(Item::Warning(format!(
                    "comment {id}: no GMT date; its local date {} taken as UTC",
                    c.date.trim()
                )));
                t
            }
            (None, None) => {
                self.queue.push_back(skip(
                    SkipKind::InvalidDate,
                    format!("comment_date_gmt `{}`", c.date_gmt.trim()),
                ));
                return;
            }
        };
        if c.cut {
            self.queue.push_back(skip(
                SkipKind::TooLong,
                "more than 1 MiB of text".to_string(),
            ));
            return;
        }
        if let Some(why) = self.announce() {
            self.queue.push_back(skip(SkipKind::NoArticle, why));
            return;
        }
        let article = self.post.as_ref().map(|p| p.id.clone()).unwrap_or_default();
        let parent = Some(c.parent.trim())
            .filter(|p| !p.is_empty() && *p != "0")
            .map(|p| format!("{post}/{p}"));
        let user = c.user_id.trim();
        let raw = RawComment {
            source_id: id.clone(),
            article,
            parent,
            name: c.author,
            email: c.email,
            url: c.url,
            ip: c.ip,
            text: Text::Html(paragraphs(&c.content)),
            status,
            created_at,
            registered: !user.is_empty() && user != "0",
        };
        match raw.check(&self.options.limits) {
            Ok((comment, dropped)) => {
                self.queue.extend(dropped.into_iter().map(Item::Warning));
                self.queue.push_back(Item::Comment(Box::new(comment)));
            }
            Err(skip) => self.queue.push_back(Item::Skipped(skip)),
        }
    }
}

impl Queued for WordPress {
    fn queue(&mut self) -> &mut VecDeque<Item> {
        &mut self.queue
    }

    fn done(&self) -> bool {
        self.done
    }

    fn read_more(&mut self) -> Result<(), TransferError> {
        match self.xml.next()? {
            Node::Start { .. } => self.start()?,
            Node::End { text, cut } => self.end(text, cut),
            Node::Eof => {
                if !self.source_sent && self.site.is_empty() {
                    return Err(self
                        .xml
                        .error("not a WordPress export (WXR): no <rss><channel> found"));
                }
                self.done = true;
            }
        }
        Ok(())
    }
}

/// The post's article, keyed as asked; why not, if it cannot have one.
fn article_of(post: &Post, key_from: KeyFrom) -> Result<ArticleIn, String> {
    let key = match key_from {
        KeyFrom::Path => key_of_link(&post.link).ok_or_else(|| {
            format!(
                "post {}: its link `{}` is not a URL",
                post.id,
                post.link.trim()
            )
        })?,
        KeyFrom::Slug => post.slug.trim().to_string(),
        KeyFrom::Guid => post.guid.trim().to_string(),
    };
    let key = ArticleKey::parse(&key).map_err(|e| format!("post {}: {e}", post.id))?;
    Ok(ArticleIn {
        source_id: post.id.trim().to_string(),
        key,
        title: Title::parse(&post.title, "title")
            .ok()
            .map(Title::into_inner),
        url: WebUrl::parse(&post.link, MAX_ARTICLE_URL_BYTES, "url")
            .ok()
            .map(|u| u.as_str().to_string()),
    })
}

/// `YYYY-MM-DD HH:MM:SS` as milliseconds since the epoch, read as UTC;
/// `None` for WordPress's "no date" (`0000-00-00 00:00:00`) or garbage.
fn wp_time(text: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_utc_and_the_empty_date_is_none() {
        assert_eq!(wp_time("1970-01-01 00:00:01"), Some(1000));
        assert_eq!(wp_time("0000-00-00 00:00:00"), None);
        assert_eq!(wp_time("yesterday"), None);
    }

    #[test]
    fn keys_come_from_the_path_slug_or_guid() {
        let post = Post {
            id: "5".into(),
            link: "https://blog.example/2020/hello/".into(),
            guid: "https://blog.example/?p=5".into(),
            slug: "hello".into(),
            title: "Hello <world>".into(),
            ..Post::default()
        };
        let key = |from| article_of(&post, from).unwrap().key.as_str().to_string();
        assert_eq!(key(KeyFrom::Path), "/2020/hello/");
        assert_eq!(key(KeyFrom::Slug), "hello");
        assert_eq!(key(KeyFrom::Guid), "https://blog.example/?p=5");
        assert_eq!(article_of(&post, KeyFrom::Path).unwrap().title, None);
        let draft = Post {
            link: "https://blog.example/?p=9".into(),
            ..Post::default()
        };
        assert_eq!(
            article_of(&draft, KeyFrom::Path).unwrap().key.as_str(),
            "/?p=9"
        );
        assert!(article_of(&draft, KeyFrom::Slug).is_err());
    }
}
