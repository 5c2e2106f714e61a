//! Disqus's export: `<disqus>` holding `<category>`s, then a `<thread>`
//! per page (`dsq:id`, its identifier `<id>`, `<link>`, `<title>`,
//! `<forum>`), then a `<post>` per comment (`dsq:id`, `<message>` in HTML,
//! `<createdAt>`, `<isDeleted>`, `<isSpam>`, `<author>`, `<ipAddress>`,
//! `<thread dsq:id>`, `<parent dsq:id>`). Disqus writes every thread
//! before the posts; a post whose thread is not in the file is skipped.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::apply::Queued;
use super::raw::{key_of_link, paragraphs};
use super::summary::{Skip, SkipKind};
use super::wordpress::MAX_ARTICLE_URL_BYTES;
use super::xml::{Node, XmlStream};
use super::{ArticleIn, Item, Limits, RawComment, Text, TransferError};
use crate::domain::{ArticleKey, CommentStatus, Title, WebUrl};

/// Which of a thread's fields becomes its article key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyFrom {
    /// The path of the thread's link (with its query, if it has one).
    Path,
    /// The thread's identifier (`<id>`), as the page gave it to Disqus.
    Identifier,
}

#[derive(Debug, Default)]
struct Thread {
    dsq_id: String,
    identifier: String,
    link: String,
    title: String,
    forum: String,
}

#[derive(Debug, Default)]
struct Post {
    dsq_id: String,
    message: String,
    created_at: String,
    deleted: String,
    spam: String,
    name: String,
    email: String,
    ip: String,
    thread: String,
    parent: String,
    cut: bool,
}

pub struct Disqus {
    xml: XmlStream,
    key_from: KeyFrom,
    limits: Limits,
    queue: VecDeque<Item>,
    source_sent: bool,
    thread: Option<Thread>,
    post: Option<Post>,
    done: bool,
}

impl Disqus {
    pub fn open(
        file: &Path,
        key_from: KeyFrom,
        limits: Limits,
        read: Arc<AtomicU64>,
    ) -> Result<Self, TransferError> {
        Ok(Disqus {
            xml: XmlStream::open(file, read)?,
            key_from,
            limits,
            queue: VecDeque::new(),
            source_sent: false,
            thread: None,
            post: None,
            done: false,
        })
    }

    fn name_source(&mut self, forum: &str) {
        if !self.source_sent {
            self.source_sent = true;
            self.queue
                .push_back(Item::Source(format!("disqus:{}", forum.trim())));
        }
    }

    fn start(&mut self, attributes: Vec<(String, String)>) -> Result<(), TransferError> {
        let dsq_id = attributes
            .into_iter()
            .find(|(key, _)| key == "id")
            .map(|(_, value)| value.trim().to_string())
            .unwrap_or_default();
        let depth = self.xml.path.len();
        match (depth, self.xml.up(0).unwrap_or_default()) {
            (1, "disqus") => {}
            (1, other) => {
                return Err(self.xml.error(format!(
                    "not a Disqus export: the root element is <{other}>, not <disqus>"
                )))
            }
            (2, "thread") => {
                self.thread = Some(Thread {
                    dsq_id,
                    ..Thread::default()
                })
            }
            (2, "post") => {
                self.post = Some(Post {
                    dsq_id,
                    ..Post::default()
                })
            }
            (3, "thread") => {
                if let Some(post) = &mut self.post {
                    post.thread = dsq_id;
                }
            }
            (3, "parent") => {
                if let Some(post) = &mut self.post {
                    post.parent = dsq_id;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, text: String, cut: bool) {
        let depth = self.xml.path.len();
        let name = self.xml.up(0).unwrap_or_default();
        let parent = self.xml.up(1).unwrap_or_default();
        match (depth, parent, name) {
            (2, _, "thread") => {
                if let Some(thread) = self.thread.take() {
                    self.name_source(&thread.forum);
                    self.queue.push_back(article_of(&thread, self.key_from));
                }
            }
            (2, _, "post") => {
                if let Some(post) = self.post.take() {
                    self.name_source("");
                    self.finish(post);
                }
            }
            (3, "thread", field) => {
                if let Some(thread) = &mut self.thread {
                    let slot = match field {
                        "id" => &mut thread.identifier,
                        "link" => &mut thread.link,
                        "title" => &mut thread.title,
                        "forum" => &mut thread.forum,
                        _ => return,
                    };
                    *slot = text;
                }
            }
            (3, "post", field) | (4, "author", field) => {
                if let Some(post) = &mut self.post {
                    let slot = match (parent, field) {
                        ("post", "message") => {
                            post.cut = cut;
                            &mut post.message
                        }
                        ("post", "createdAt") => &mut post.created_at,
                        ("post", "isDeleted") => &mut post.deleted,
                        ("post", "isSpam") => &mut post.spam,
                        ("post", "ipAddress") => &mut post.ip,
                        ("author", "name") => &mut post.name,
                        ("author", "email") => &mut post.email,
                        _ => return,
                    };
                    *slot = text;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, post: Post) {
        let id = post.dsq_id.clone();
        let skip = |kind, detail: String| Item::Skipped(Skip::new(kind, &id, detail));
        let created_at = match chrono::DateTime::parse_from_rfc3339(post.created_at.trim()) {
            Ok(t) => t.timestamp_millis(),
            Err(_) => {
                self.queue.push_back(skip(
                    SkipKind::InvalidDate,
                    format!("createdAt `{}`", post.created_at.trim()),
                ));
                return;
            }
        };
        if post.cut {
            self.queue
                .push_back(skip(SkipKind::TooLong, "more than 1 MiB of text".into()));
            return;
        }
        let status = if is_true(&post.spam) {
            CommentStatus::Spam
        } else if is_true(&post.deleted) {
            CommentStatus::Trash
        } else {
            CommentStatus::Approved
        };
        let raw = RawComment {
            source_id: id.clone(),
            article: post.thread,
            parent: Some(post.parent).filter(|p| !p.is_empty()),
            name: post.name,
            email: post.email,
            url: String::new(),
            ip: post.ip,
            text: Text::Html(paragraphs(&post.message)),
            status,
            created_at,
            registered: false,
        };
        self.queue.extend(raw.into_items(&self.limits));
    }
}

fn is_true(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true")
}

fn article_of(thread: &Thread, key_from: KeyFrom) -> Item {
    let link = thread.link.trim();
    let key = match key_from {
        KeyFrom::Path => key_of_link(link)
            .ok_or_else(|| format!("thread {}: its link `{link}` is not a URL", thread.dsq_id)),
        KeyFrom::Identifier => Ok(thread.identifier.trim().to_string()),
    };
    let key = key.and_then(|key| {
        ArticleKey::parse(&key).map_err(|e| format!("thread {}: {e}", thread.dsq_id))
    });
    match key {
        Ok(key) => Item::Article(ArticleIn {
            source_id: thread.dsq_id.clone(),
            key,
            title: Title::parse(&thread.title, "title")
                .ok()
                .map(Title::into_inner),
            url: WebUrl::parse(link, MAX_ARTICLE_URL_BYTES, "url")
                .ok()
                .map(|u| u.as_str().to_string()),
        }),
        Err(why) => Item::NoArticle {
            source_id: thread.dsq_id.clone(),
            why,
        },
    }
}

impl Queued for Disqus {
    fn queue(&mut self) -> &mut VecDeque<Item> {
        &mut self.queue
    }

    fn done(&self) -> bool {
        self.done
    }

    fn read_more(&mut self) -> Result<(), TransferError> {
        match self.xml.next()? {
            Node::Start { attributes } => self.start(attributes)?,
            Node::End { text, cut } => self.end(text, cut),
            Node::Eof => self.done = true,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_keyed_by_its_link_or_its_identifier() {
        let thread = Thread {
            dsq_id: "2".into(),
            identifier: "post-17".into(),
            link: "http://example.org/a/b?c=1".into(),
            title: "Hello".into(),
            forum: "f".into(),
        };
        let key = |from| match article_of(&thread, from) {
            Item::Article(a) => a.key.as_str().to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(key(KeyFrom::Path), "/a/b?c=1");
        assert_eq!(key(KeyFrom::Identifier), "post-17");
        let bare = Thread {
            dsq_id: "3".into(),
            ..Thread::default()
        };
        assert!(matches!(
            article_of(&bare, KeyFrom::Path),
            Item::NoArticle { .. }
        ));
    }
}
