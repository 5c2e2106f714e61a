//! The JSON shapes the API answers with. Public views never carry an email,
//! an IP or a token hash; those appear only where the caller may see them.

use serde::Serialize;

use crate::auth::AuthUser;
use crate::comments::articles::ArticleWithCount;
use crate::comments::Avatars;
use crate::config::Settings;
use crate::db::models::{Article, Comment, User};
use crate::domain::{timestamp, CommentId, CommentStatus, UserId};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub comments_open: bool,
    pub comment_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl ArticleView {
    /// `comments_open` says whether the article takes comments now: open,
    /// and not past `articles.close_after_days`.
    pub fn new(article: &Article, comment_count: i64, settings: &Settings) -> Self {
        ArticleView {
            key: article.key.clone(),
            title: article.title.clone(),
            url: article.url.clone(),
            comments_open: crate::comments::articles::is_open(
                article,
                settings,
                crate::db::now_millis(),
            ),
            comment_count,
            created_at: timestamp(article.created_at),
            updated_at: timestamp(article.updated_at),
        }
    }

    pub fn of(found: &ArticleWithCount, settings: &Settings) -> Self {
        ArticleView::new(&found.article, found.approved, settings)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorView {
    pub name: String,
    pub url: Option<String>,
    /// A key for drawing the author's avatar, the same for one email
    /// address (see `comments.avatars`); `null` without an email.
    pub avatar: Option<String>,
    /// Whether the author posted with an account.
    pub registered: bool,
}

/// A comment as anyone reading the thread sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicComment {
    pub id: CommentId,
    pub parent_id: Option<CommentId>,
    /// `null` for a deleted comment kept as a placeholder.
    pub author: Option<AuthorView>,
    pub body: String,
    pub html: String,
    pub deleted: bool,
    pub created_at: String,
    pub edited_at: Option<String>,
}

impl PublicComment {
    pub fn new(c: &Comment, avatars: &Avatars) -> Self {
        let deleted = c.status == CommentStatus::Deleted;
        PublicComment {
            id: c.id,
            parent_id: c.parent_id,
            author: (!deleted).then(|| AuthorView {
                name: c.author_name.clone(),
                url: c.author_url.clone(),
                avatar: avatars.of(c.author_email.as_deref()),
                registered: c.user_id.is_some(),
            }),
            body: c.body.clone(),
            html: c.html.clone(),
            deleted,
            created_at: timestamp(c.created_at),
            edited_at: c.edited_at.map(timestamp),
        }
    }
}

/// A comment as its author sees it right after writing or editing it: with
/// its status (spam shown as pending) and, once, the guest's edit token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorComment {
    #[serde(flatten)]
    pub comment: PublicComment,
    pub article: String,
    pub status: CommentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_token: Option<String>,
    /// For a guest with an email: send it back as `author.token` with
    /// later comments, to be recognised as the same commenter (shown once
    /// per comment; the same for one email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_token: Option<String>,
    /// Until when the author may edit, if they still may.
    pub editable_until: String,
}

/// The secrets a guest gets with a new comment.
#[derive(Default)]
pub struct GuestSecrets {
    pub edit_token: Option<String>,
    pub author_token: Option<String>,
}

impl AuthorComment {
    pub fn new(
        comment: &Comment,
        article_key: &str,
        secrets: GuestSecrets,
        edit_window_ms: i64,
        avatars: &Avatars,
    ) -> Self {
        AuthorComment {
            comment: PublicComment::new(comment, avatars),
            article: article_key.to_string(),
            status: comment.status.as_seen_by_author(),
            edit_token: secrets.edit_token,
            author_token: secrets.author_token,
            editable_until: timestamp(comment.created_at.saturating_add(edit_window_ms)),
        }
    }
}

/// The signed-in user's own account.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: crate::domain::Role,
    pub trusted: bool,
}

impl From<&User> for AccountView {
    fn from(u: &User) -> Self {
        AccountView {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            trusted: u.trusted,
        }
    }
}

impl From<&AuthUser> for AccountView {
    fn from(u: &AuthUser) -> Self {
        AccountView {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            trusted: u.trusted,
        }
    }
}

/// An account in a data export.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportedAccount {
    id: UserId,
    email: String,
    name: String,
    role: crate::domain::Role,
    created_at: String,
}

impl From<&User> for ExportedAccount {
    fn from(user: &User) -> Self {
        ExportedAccount {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            created_at: timestamp(user.created_at),
        }
    }
}

/// A comment in a data export: everything stored that concerns its author.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportedComment {
    id: CommentId,
    article: String,
    parent_id: Option<CommentId>,
    status: CommentStatus,
    body: String,
    author_name: String,
    author_url: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: String,
    edited_at: Option<String>,
}

impl ExportedComment {
    /// As its author may see it: a comment classed as spam shows as pending.
    pub fn all(comments: &[(Comment, Article)]) -> Vec<ExportedComment> {
        comments
            .iter()
            .map(|(c, a)| ExportedComment {
                id: c.id,
                article: a.key.clone(),
                parent_id: c.parent_id,
                status: c.status.as_seen_by_author(),
                body: c.body.clone(),
                author_name: c.author_name.clone(),
                author_url: c.author_url.clone(),
                ip: c.ip.clone(),
                user_agent: c.user_agent.clone(),
                created_at: timestamp(c.created_at),
                edited_at: c.edited_at.map(timestamp),
            })
            .collect()
    }
}
