//! Accepting a new comment: validate, resolve the article and parent,
//! decide the status, store.

use std::net::IpAddr;

use super::{avatar_hash, render, CommentError};
use crate::auth::{token, AuthUser};
use crate::config::{ModerationMode, Settings};
use crate::db::models::{Article, Comment, NewArticle, NewComment};
use crate::db::{self, Db};
use crate::domain::{
    ArticleKey, AuthorName, CommentBody, CommentStatus, Email, Title, ValidationError, WebUrl,
};

/// A new comment as the client sent it, before validation.
#[derive(Debug, Default)]
pub struct Submission {
    pub body: String,
    pub parent_id: Option<i64>,
    pub author: Option<GuestAuthor>,
    pub article: Option<ArticleHint>,
}

#[derive(Debug, Default)]
pub struct GuestAuthor {
    pub name: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// What the page tells about its article, used only when the article is
/// created by its first comment.
#[derive(Debug, Default)]
pub struct ArticleHint {
    pub title: Option<String>,
    pub url: Option<String>,
}

/// Request facts kept with a comment for moderators and spam checks.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
}

/// The stored comment, its article, and for a guest the edit token (shown
/// once, never stored in the clear).
#[derive(Debug)]
pub struct Submitted {
    pub comment: Comment,
    pub article: Article,
    pub edit_token: Option<String>,
}

/// Who wrote the comment, validated.
struct Author {
    user_id: Option<i64>,
    trusted: bool,
    name: String,
    email: Option<String>,
    url: Option<String>,
}

/// What a client may keep of a header: bounded and printable.
const MAX_HEADER_KEPT: usize = 512;

#[tracing::instrument(skip_all, fields(article = %key.as_str()))]
pub async fn submit(
    db: &Db,
    settings: &Settings,
    viewer: Option<&AuthUser>,
    key: ArticleKey,
    submission: Submission,
    client: ClientInfo,
) -> Result<Submitted, CommentError> {
    let limits = &settings.comments;
    let body = CommentBody::parse(&submission.body, limits.max_body_bytes)?;
    let author = resolve_author(settings, viewer, submission.author)?;
    let hint = parse_hint(settings, submission.article)?;
    let parent_id = submission.parent_id;

    // Read what the decision needs, then write in one short transaction.
    let lookup_key = key.clone();
    let (user_id, email) = (author.user_id, author.email.clone());
    let needs_history = settings.moderation.mode == ModerationMode::FirstTime && !author.trusted;
    let (article, parent, approved_before) = db
        .read(move |conn| {
            let article = db::articles::find_by_key(conn, lookup_key.as_str())?;
            let parent = match parent_id {
                Some(id) => db::comments::find(conn, id)?,
                None => None,
            };
            let approved_before =
                needs_history && db::comments::has_approved(conn, user_id, email.as_deref())?;
            Ok::<_, CommentError>((article, parent, approved_before))
        })
        .await?;

    match &article {
        Some(article) if !article.comments_open => return Err(CommentError::Closed),
        Some(_) => {}
        None => check_auto_create(settings, &hint)?,
    }
    if let Some(id) = parent_id {
        let belongs = matches!((&parent, &article), (Some(p), Some(a))
            if p.article_id == a.id && p.status() == CommentStatus::Approved);
        if !belongs {
            return Err(ValidationError::new(
                "parent_id",
                format!("comment {id} is not a published comment of this article"),
            )
            .into());
        }
    }

    let status = match settings.moderation.mode {
        ModerationMode::None => CommentStatus::Approved,
        ModerationMode::All => CommentStatus::Pending,
        ModerationMode::FirstTime if author.trusted || approved_before => CommentStatus::Approved,
        ModerationMode::FirstTime => CommentStatus::Pending,
    };

    let html = render::markdown_to_html(body.as_str());
    let issued = author.user_id.is_none().then(token::issue);
    let edit_token_hash = issued.as_ref().map(|t| t.hash.clone());
    let now = db::now_millis();
    let new_comment = move |article_id: i64| NewComment {
        article_id,
        parent_id,
        user_id: author.user_id,
        avatar_hash: author.email.as_deref().map(avatar_hash),
        author_name: author.name,
        author_email: author.email,
        author_url: author.url,
        body: body.into_inner(),
        html,
        status: status.as_str().to_string(),
        edit_token_hash,
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: client.user_agent.map(|s| bounded(&s)),
        referrer: client.referrer.map(|s| bounded(&s)),
        created_at: now,
        status_changed_at: now,
    };
    let (comment, article) = db
        .write(move |conn| {
            let article = match article {
                Some(found) => {
                    // It may have been closed while we were deciding.
                    let current =
                        db::articles::find(conn, found.id)?.ok_or(CommentError::ArticleNotFound)?;
                    if !current.comments_open {
                        return Err(CommentError::Closed);
                    }
                    current
                }
                None => {
                    let (created, _) = db::articles::find_or_insert(
                        conn,
                        &NewArticle {
                            key: key.as_str(),
                            title: hint.title.as_deref(),
                            url: hint.url.as_deref(),
                            comments_open: true,
                            created_at: now,
                            updated_at: now,
                        },
                    )?;
                    created
                }
            };
            let comment = db::comments::insert(conn, &new_comment(article.id))?;
            Ok((comment, article))
        })
        .await?;
    tracing::info!(comment_id = comment.id, status = %comment.status, "comment stored");
    Ok(Submitted {
        comment,
        article,
        edit_token: issued.map(|t| t.token),
    })
}

fn resolve_author(
    settings: &Settings,
    viewer: Option<&AuthUser>,
    given: Option<GuestAuthor>,
) -> Result<Author, CommentError> {
    let limits = &settings.comments;
    let url = given
        .as_ref()
        .and_then(|g| g.url.as_deref())
        .filter(|u| !u.trim().is_empty())
        .map(|u| WebUrl::parse(u, limits.max_url_bytes, "author.url"))
        .transpose()?
        .map(WebUrl::into_inner);

    if let Some(user) = viewer {
        return Ok(Author {
            user_id: Some(user.id),
            trusted: user.trusted || user.role.can_moderate(),
            name: user.name.clone(),
            email: Some(user.email.clone()),
            url,
        });
    }
    if !limits.allow_guests {
        return Err(CommentError::GuestsNotAllowed);
    }
    let given = given.unwrap_or_default();
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (name, email) = (present(&given.name), present(&given.email));
    if limits.require_name_email {
        if name.is_none() {
            return Err(ValidationError::new("author.name", "is required").into());
        }
        if email.is_none() {
            return Err(ValidationError::new("author.email", "is required").into());
        }
    }
    let name = match name {
        Some(n) => AuthorName::parse(&n, limits.max_name_bytes, "author.name")?.into_inner(),
        None => "Anonymous".to_string(),
    };
    let email = email
        .map(|e| Email::parse(&e, limits.max_email_bytes, "author.email"))
        .transpose()?
        .map(Email::into_inner);
    Ok(Author {
        user_id: None,
        trusted: false,
        name,
        email,
        url,
    })
}

struct Hint {
    title: Option<String>,
    url: Option<String>,
}

fn parse_hint(settings: &Settings, hint: Option<ArticleHint>) -> Result<Hint, CommentError> {
    let hint = hint.unwrap_or_default();
    let title = hint
        .title
        .filter(|t| !t.trim().is_empty())
        .map(|t| Title::parse(&t, "article.title"))
        .transpose()?
        .map(Title::into_inner);
    let url = hint
        .url
        .filter(|u| !u.trim().is_empty())
        .map(|u| WebUrl::parse(&u, settings.comments.max_url_bytes.max(2048), "article.url"))
        .transpose()?
        .map(WebUrl::into_inner);
    Ok(Hint { title, url })
}

fn check_auto_create(settings: &Settings, hint: &Hint) -> Result<(), CommentError> {
    let rules = &settings.articles;
    if !rules.auto_create {
        return Err(CommentError::ArticleNotFound);
    }
    if rules.auto_create_url_prefixes.is_empty() {
        return Ok(());
    }
    let allowed = hint.url.as_deref().is_some_and(|url| {
        rules
            .auto_create_url_prefixes
            .iter()
            .any(|p| url.starts_with(p.as_str()))
    });
    if allowed {
        Ok(())
    } else {
        Err(CommentError::ArticleNotFound)
    }
}

/// Keeps at most `MAX_HEADER_KEPT` bytes of a header value, cut on a
/// character boundary.
fn bounded(value: &str) -> String {
    if value.len() <= MAX_HEADER_KEPT {
        return value.to_string();
    }
    let mut end = MAX_HEADER_KEPT;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}
