//! Accepting a new comment: validate, guard against floods and duplicates,
//! resolve the article and parent, score for spam, store.

use std::net::IpAddr;

use super::{avatar_hash, render, CommentError};
use crate::auth::{token, AuthUser};
use crate::cache;
use crate::config::Settings;
use crate::db::models::{Article, Comment, NewArticle, NewComment};
use crate::db::moderation::Ban;
use crate::db::{self};
use crate::domain::{
    ArticleKey, AuthorName, CommentBody, CommentStatus, Email, Title, ValidationError, WebUrl,
};
use crate::metrics::METRICS;
use crate::moderation::bans;
use crate::ratelimit::{self, Rule};
use crate::spam::{self, AccountFacts, ArticleFacts, Candidate, History, Policy};
use crate::state::AppState;
use crate::webhooks;

/// A new comment as the client sent it, before validation.
#[derive(Debug, Default)]
pub struct Submission {
    pub body: String,
    pub parent_id: Option<i64>,
    pub author: Option<GuestAuthor>,
    pub article: Option<ArticleHint>,
    /// The value of the honeypot field, when the form sent one.
    pub honeypot: Option<String>,
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
pub(super) struct Author {
    pub user_id: Option<i64>,
    pub account: Option<AccountFacts>,
    pub trusted: bool,
    pub name: String,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// What a client may keep of a header: bounded and printable.
const MAX_HEADER_KEPT: usize = 512;

/// Everything read before deciding, in one database round trip.
struct Context {
    article: Option<Article>,
    parent: Option<Comment>,
    history: History,
    last_from_ip: Option<i64>,
    last_from_user: Option<i64>,
    duplicate: bool,
    ban: Option<Ban>,
}

#[tracing::instrument(skip_all, fields(article = %key.as_str()))]
pub async fn submit(
    state: &AppState,
    viewer: Option<&AuthUser>,
    key: ArticleKey,
    submission: Submission,
    client: ClientInfo,
) -> Result<Submitted, CommentError> {
    let (db, settings, spam) = (&state.db, state.settings.as_ref(), state.spam.as_ref());
    let limits = &settings.comments;
    let body = CommentBody::parse(&submission.body, limits.max_body_bytes)?;
    let author = resolve_author(settings, viewer, submission.author)?;
    let hint = parse_hint(settings, submission.article)?;
    let parent_id = submission.parent_id;

    let context = {
        let key = key.clone();
        let (user_id, email, name) = (author.user_id, author.email.clone(), author.name.clone());
        let ip = client.ip.map(|ip| ip.to_string());
        let text = body.as_str().to_string();
        let check_duplicates = settings.guards.refuse_duplicates;
        let client_ip = client.ip;
        db.read(move |conn| {
            let article = db::articles::find_by_key(conn, key.as_str())?;
            let parent = match parent_id {
                Some(id) => db::comments::find(conn, id)?,
                None => None,
            };
            let history = history_from(db::comments::history(conn, user_id, email.as_deref())?);
            let last_from_ip = match &ip {
                Some(ip) => db::comments::latest_from_ip(conn, ip)?,
                None => None,
            };
            let last_from_user = match user_id {
                Some(id) => db::comments::latest_from_user(conn, id)?,
                None => None,
            };
            let duplicate = match (&article, check_duplicates) {
                (Some(a), true) => db::comments::duplicate_exists(
                    conn,
                    a.id,
                    user_id,
                    email.as_deref(),
                    &name,
                    &text,
                )?,
                _ => false,
            };
            let ban = bans::find_active(conn, user_id, email.as_deref(), client_ip)?;
            Ok::<_, CommentError>(Context {
                article,
                parent,
                history,
                last_from_ip,
                last_from_user,
                duplicate,
                ban,
            })
        })
        .await?
    };

    let now = db::now_millis();
    if let Some(ban) = context.ban.as_ref().filter(|b| !b.shadow) {
        return Err(CommentError::Banned {
            until: ban.expires_at,
        });
    }
    check_flood(settings, &author, &context, now)?;
    if context.duplicate {
        return Err(CommentError::Duplicate);
    }
    match &context.article {
        Some(article) if !super::articles::is_open(article, settings, now) => {
            return Err(CommentError::Closed)
        }
        Some(_) => {}
        None => check_auto_create(settings, &hint)?,
    }
    if let Some(id) = parent_id {
        let belongs = matches!((&context.parent, &context.article), (Some(p), Some(a))
            if p.article_id == a.id && p.status() == CommentStatus::Approved);
        if !belongs {
            return Err(ValidationError::new(
                "parent_id",
                format!("comment {id} is not a published comment of this article"),
            )
            .into());
        }
    }

    let candidate = Candidate {
        body: body.as_str().to_string(),
        author_name: author.name.clone(),
        author_email: author.email.clone(),
        author_url: author.url.clone(),
        account: author.account.clone(),
        history: context.history,
        article: match &context.article {
            Some(a) => ArticleFacts {
                key: a.key.clone(),
                title: a.title.clone(),
                url: a.url.clone(),
            },
            None => ArticleFacts {
                key: key.as_str().to_string(),
                title: hint.title.clone(),
                url: hint.url.clone(),
            },
        },
        ip: client.ip,
        user_agent: client.user_agent.as_deref().map(bounded),
        referrer: client.referrer.as_deref().map(bounded),
        honeypot: submission.honeypot,
        is_edit: false,
        created_at: now,
        prior_scores: Vec::new(),
    };
    let policy = Policy {
        mode: settings.moderation.mode,
        trusted: author.trusted,
        approved_before: context.history.approved > 0,
    };
    let mut decision = spam.pipeline.evaluate(&candidate, policy).await;
    if let Some(ban) = &context.ban {
        // A shadow ban: stored as spam, which its author is shown as
        // pending, so the troll keeps talking to nobody.
        decision.status = CommentStatus::Spam;
        decision.report.decision = CommentStatus::Spam;
        decision
            .report
            .held_because
            .insert(0, format!("shadow ban #{}", ban.id));
    }
    let report = serde_json::to_string(&decision.report)
        .map_err(|e| CommentError::Internal(e.to_string()))?;

    let html = render::markdown_to_html(body.as_str());
    let issued = author.user_id.is_none().then(token::issue);
    let edit_token_hash = issued.as_ref().map(|t| t.hash.clone());
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
        status: decision.status.as_str().to_string(),
        edit_token_hash,
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: candidate.user_agent,
        referrer: candidate.referrer,
        created_at: now,
        status_changed_at: now,
        spam_score: Some(decision.report.score),
        spam_report: Some(report),
    };
    let known_article = context.article;
    let hooks = state.webhooks.clone();
    let open_rules = (settings.articles.clone(), now);
    let limit = &settings.comments.rate_limit;
    let mut rules = Vec::with_capacity(2);
    if let Some(ip) = client.ip {
        rules.push(Rule {
            key: format!("comment:ip:{ip}"),
            limit: limit.per_ip,
            window: limit.window,
        });
    }
    if let Some(user_id) = author.user_id.filter(|_| !author.trusted) {
        rules.push(Rule {
            key: format!("comment:user:{user_id}"),
            limit: limit.per_account,
            window: limit.window,
        });
    }
    let (comment, article, queued) = db
        .write(move |conn| {
            // Counted in the same transaction as the insert: a refused
            // comment rolls its own hit back.
            if let Some(retry_after_secs) = ratelimit::hit_in(conn, &rules, now)? {
                return Err(CommentError::RateLimited { retry_after_secs });
            }
            let article = match known_article {
                Some(found) => {
                    // It may have been closed while we were deciding.
                    let current =
                        db::articles::find(conn, found.id)?.ok_or(CommentError::ArticleNotFound)?;
                    if !super::articles::is_open_with(&current, &open_rules.0, open_rules.1) {
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
            let data = webhooks::comment_data(&comment, &article.key);
            let mut queued = hooks.enqueue(conn, webhooks::COMMENT_CREATED, data.clone())?;
            match comment.status() {
                CommentStatus::Pending => {
                    queued += hooks.enqueue(conn, webhooks::COMMENT_HELD, data)?
                }
                CommentStatus::Spam => {
                    queued += hooks.enqueue(conn, webhooks::COMMENT_SPAM, data)?
                }
                // Only a published comment changes what readers see.
                CommentStatus::Approved => cache::notify_in(conn, Some(&article.key))?,
                _ => {}
            }
            Ok((comment, article, queued))
        })
        .await?;
    if comment.status() == CommentStatus::Approved {
        state.cache.invalidate(&article.key);
    }
    // Each wake is a poll of the outbox table: under a burst of comments
    // with no webhook to tell, that was a query per comment for nothing.
    if queued > 0 {
        state.outbox.wake();
    }
    METRICS
        .comments
        .with_label_values(&[comment.status.as_str()])
        .inc();
    tracing::info!(comment_id = comment.id, status = %comment.status, score = comment.spam_score, "comment stored");
    Ok(Submitted {
        comment,
        article,
        edit_token: issued.map(|t| t.token),
    })
}

/// Counts per status into a [`History`].
pub(super) fn history_from(rows: Vec<(String, i64)>) -> History {
    let mut history = History::default();
    for (status, count) in rows {
        match status.parse::<CommentStatus>() {
            Ok(CommentStatus::Approved) => history.approved = count,
            Ok(CommentStatus::Pending) => history.pending = count,
            Ok(CommentStatus::Spam) => history.spam = count,
            Ok(CommentStatus::Trash) => history.trash = count,
            _ => {}
        }
    }
    history
}

fn check_flood(
    settings: &Settings,
    author: &Author,
    context: &Context,
    now: i64,
) -> Result<(), CommentError> {
    let interval = i64::try_from(settings.guards.flood_interval.as_millis()).unwrap_or(i64::MAX);
    if interval == 0 || author.trusted {
        return Ok(());
    }
    let last = context.last_from_ip.max(context.last_from_user);
    match last {
        Some(at) if now - at < interval => {
            let wait_ms = interval - (now - at);
            Err(CommentError::Flood {
                retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
            })
        }
        _ => Ok(()),
    }
}

pub(super) fn resolve_author(
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
        let trusted = user.trusted || user.role.can_moderate();
        return Ok(Author {
            user_id: Some(user.id),
            account: Some(AccountFacts {
                id: user.id,
                role: user.role.as_str().to_string(),
                trusted,
                created_at: user.created_at,
            }),
            trusted,
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
        account: None,
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
pub(super) fn bounded(value: &str) -> String {
    if value.len() <= MAX_HEADER_KEPT {
        return value.to_string();
    }
    let mut end = MAX_HEADER_KEPT;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

/// Rebuilds the candidate a stored comment was (or would now be) scored as.
pub fn candidate_from(comment: &Comment, article: &Article, history: History) -> Candidate {
    Candidate {
        body: comment.body.clone(),
        author_name: comment.author_name.clone(),
        author_email: comment.author_email.clone(),
        author_url: comment.author_url.clone(),
        account: None,
        history,
        article: ArticleFacts {
            key: article.key.clone(),
            title: article.title.clone(),
            url: article.url.clone(),
        },
        ip: comment.ip.as_deref().and_then(|ip| ip.parse().ok()),
        user_agent: comment.user_agent.clone(),
        referrer: comment.referrer.clone(),
        honeypot: None,
        is_edit: false,
        created_at: comment.created_at,
        prior_scores: comment
            .spam_report
            .as_deref()
            .and_then(|r| serde_json::from_str::<spam::Report>(r).ok())
            .map(|r| {
                r.scorers
                    .into_iter()
                    .filter_map(|s| s.score.map(|v| (s.kind, v)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
