//! Accepting a new comment, in four steps: parse what the client sent,
//! read what the decision needs in one round trip ([`Context`]), check the
//! rules and score it, then store it in one transaction that also decides
//! the guards (flood, rate limits, duplicates; see `guards.rs`).

use std::net::IpAddr;
use std::sync::Arc;

use super::guards::{Action, Actor, Guards};
use super::{render, CommentError};
use crate::auth::{token, AuthUser};
use crate::cache;
use crate::config::{CommentSettings, Settings};
use crate::db::bans::Ban;
use crate::db::comments::Writer;
use crate::db::models::{Article, Comment, NewArticle, NewComment};
use crate::db::{self};
use crate::domain::{
    ArticleId, ArticleKey, AuthorName, CommentBody, CommentId, CommentStatus, Email, StatusCounts,
    Title, UserId, ValidationError, WebUrl,
};
use crate::metrics::METRICS;
use crate::services::Services;
use crate::spam::{AccountFacts, ArticleFacts, Candidate, Decision, Policy};
use crate::webhooks;

/// A new comment as the client sent it, before validation.
#[derive(Debug, Default)]
pub struct Submission {
    pub body: String,
    pub parent_id: Option<CommentId>,
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
    /// The author token a guest was given with an earlier comment: proof
    /// that they are the one who used this email here before.
    pub token: Option<String>,
}

/// The longest author token accepted (those issued are 43 characters).
const MAX_AUTHOR_TOKEN_CHARS: usize = 100;

impl GuestAuthor {
    /// Every field given must be valid, whoever sends the block (a
    /// signed-in writer's is otherwise ignored): refused, not passed over.
    fn check(&self, limits: &CommentSettings) -> Result<(), ValidationError> {
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(name) = present(&self.name) {
            AuthorName::parse(&name, limits.max_name_bytes, "author.name")?;
        }
        if let Some(email) = present(&self.email) {
            Email::parse(&email, limits.max_email_bytes, "author.email")?;
        }
        if self
            .token
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_AUTHOR_TOKEN_CHARS)
        {
            return Err(ValidationError::new(
                "author.token",
                format!("must be at most {MAX_AUTHOR_TOKEN_CHARS} characters"),
            ));
        }
        Ok(())
    }
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

/// The stored comment, its article, and for a guest the secrets shown
/// once: the edit token (stored only as a hash) and the author token.
#[derive(Debug)]
pub struct Submitted {
    pub comment: Comment,
    pub article: Article,
    pub edit_token: Option<String>,
    pub author_token: Option<String>,
}

/// Who wrote the comment, validated.
pub(super) struct Author {
    pub user_id: Option<UserId>,
    pub account: Option<AccountFacts>,
    pub trusted: bool,
    pub name: AuthorName,
    pub email: Option<Email>,
    pub url: Option<WebUrl>,
    /// An account, or a guest who showed the author token of their email:
    /// only then does the history of comments under that email count as
    /// theirs (for `first_time` moderation and for the spam scorers).
    pub proven: bool,
}

impl Author {
    pub(super) fn writer(&self) -> Writer {
        match (self.user_id, &self.email) {
            (Some(id), _) => Writer::Account(id),
            (None, Some(email)) => Writer::Guest(email.as_str().to_string()),
            (None, None) => Writer::Anonymous(self.name.as_str().to_string()),
        }
    }
}

/// What a client may keep of a header: bounded and printable.
const MAX_HEADER_KEPT: usize = 512;

/// Everything read before deciding, in one database round trip.
struct Context {
    article: Option<Article>,
    parent: Option<Comment>,
    history: StatusCounts,
    ban: Option<Ban>,
}

#[tracing::instrument(skip_all, fields(article = %key.as_str()))]
pub async fn submit(
    services: &Services,
    viewer: Option<&AuthUser>,
    key: ArticleKey,
    submission: Submission,
    client: ClientInfo,
) -> Result<Submitted, CommentError> {
    let settings = services.settings.as_ref();
    let now = db::now_millis();
    let body = CommentBody::parse(&submission.body, settings.comments.max_body_bytes)?;
    let author = resolve_author(services, viewer, submission.author)?;
    let hint = parse_hint(settings, submission.article)?;
    let parent_id = submission.parent_id;
    let writer = author.writer();
    let fingerprint = body.fingerprint();
    let guards = Guards::new(
        settings,
        Action::Comment,
        &Actor {
            writer: &writer,
            trusted: author.trusted,
            ip: client.ip,
        },
        &fingerprint,
        None,
        now,
    );

    let context = load_context(services, &key, &author, parent_id, client.ip, &guards, now).await?;
    check(settings, &context, &hint, parent_id, now)?;

    let candidate = Arc::new(Candidate {
        body: body.as_str().to_string(),
        author_name: author.name.as_str().to_string(),
        author_email: author.email.as_ref().map(|e| e.as_str().to_string()),
        author_url: author.url.as_ref().map(|u| u.as_str().to_string()),
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
    });
    let policy = Policy {
        mode: settings.moderation.mode,
        trusted: author.trusted,
        approved_before: context.history.approved > 0,
    };
    let decision = score(services, candidate.clone(), policy, context.ban.as_ref()).await;
    let report = serde_json::to_string(&decision.report)
        .map_err(|e| CommentError::Internal(e.to_string()))?;
    let (body, html) = render::on_pool(&services.cpu, body)
        .await
        .map_err(|e| CommentError::Internal(e.to_string()))?;

    let issued = author.user_id.is_none().then(token::issue);
    let author_token = match (author.user_id, &author.email) {
        (None, Some(email)) => Some(services.keyring.author_token(email.as_str())),
        _ => None,
    };
    let edit_token_hash = issued.as_ref().map(|t| t.hash.clone());
    let new_comment = move |article_id| NewComment {
        article_id,
        parent_id,
        user_id: author.user_id,
        author_name: author.name,
        author_email: author.email,
        author_url: author.url,
        body,
        html,
        status: decision.status,
        edit_token_hash,
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: candidate.user_agent.clone(),
        referrer: candidate.referrer.clone(),
        created_at: now,
        status_changed_at: now,
        spam_score: Some(decision.report.score),
        spam_report: Some(report),
        fingerprint: Some(fingerprint.hash),
    };
    let placing = Placing {
        key,
        known: context.article,
        hint,
    };
    let (comment, article, queued) = store(services, guards, placing, new_comment, now).await?;
    if comment.status == CommentStatus::Approved {
        services.cache.invalidate(&article.key);
    }
    // Each wake is a poll of the outbox table: under a burst of comments
    // with no webhook to tell, that was a query per comment for nothing.
    if queued > 0 {
        services.outbox.wake();
    }
    METRICS
        .comments
        .with_label_values(&[comment.status.as_str()])
        .inc();
    tracing::info!(comment_id = %comment.id, status = %comment.status, score = comment.spam_score, "comment stored");
    Ok(Submitted {
        comment,
        article,
        edit_token: issued.map(|t| t.token),
        author_token,
    })
}

/// Runs the spam pipeline; a shadow-banned writer's comment is spam
/// whatever it scores, which its author is shown as pending, so the troll
/// keeps talking to nobody.
async fn score(
    services: &Services,
    candidate: Arc<Candidate>,
    policy: Policy,
    shadow_ban: Option<&Ban>,
) -> Decision {
    let mut decision = services.spam.pipeline.evaluate(candidate, policy).await;
    if let Some(ban) = shadow_ban {
        decision.status = CommentStatus::Spam;
        decision.report.decision = CommentStatus::Spam;
        decision
            .report
            .held_because
            .insert(0, format!("shadow ban #{}", ban.id));
    }
    decision
}

async fn load_context(
    services: &Services,
    key: &ArticleKey,
    author: &Author,
    parent_id: Option<CommentId>,
    ip: Option<IpAddr>,
    guards: &Guards,
    now: i64,
) -> Result<Context, CommentError> {
    let key = key.clone();
    let (user_id, email) = (author.user_id, author.email.clone());
    let email = email.map(Email::into_inner);
    let proven = author.proven;
    let guards = guards.clone();
    services
        .db
        .read(move |conn| {
            let article = db::articles::find_by_key(conn, key.as_str())?;
            let parent = match parent_id {
                Some(id) => db::comments::find(conn, id)?,
                None => None,
            };
            let history = if proven {
                db::stats::history(conn, user_id, email.as_deref())?
            } else {
                StatusCounts::default()
            };
            let ban = db::bans::find_active(conn, user_id, email.as_deref(), ip, now)?;
            if ban.as_ref().is_none_or(|b| b.shadow) {
                // Fail fast on what the transaction will decide anyway.
                guards.peek(conn, article.as_ref().map(|a| a.id), now)?;
            }
            Ok::<_, CommentError>(Context {
                article,
                parent,
                history,
                ban,
            })
        })
        .await
}

/// The rules that need no scoring: bans, closed articles, creating an
/// article, and what may be replied to.
fn check(
    settings: &Settings,
    context: &Context,
    hint: &Hint,
    parent_id: Option<CommentId>,
    now: i64,
) -> Result<(), CommentError> {
    if let Some(ban) = context.ban.as_ref().filter(|b| !b.shadow) {
        return Err(CommentError::Banned {
            until: ban.expires_at,
        });
    }
    match &context.article {
        Some(article) if !super::articles::is_open(article, settings, now) => {
            return Err(CommentError::Closed)
        }
        Some(_) => {}
        None => check_auto_create(settings, hint)?,
    }
    if let Some(id) = parent_id {
        let belongs = matches!((&context.parent, &context.article), (Some(p), Some(a))
            if p.article_id == a.id && p.status == CommentStatus::Approved);
        if !belongs {
            return Err(ValidationError::new(
                "parent_id",
                format!("comment {id} is not a published comment of this article"),
            )
            .into());
        }
    }
    Ok(())
}

/// Where the comment goes: the article as read (it may change meanwhile),
/// or the key and page facts to create it with.
struct Placing {
    key: ArticleKey,
    known: Option<Article>,
    hint: Hint,
}

/// The write: in one transaction, decide the guards, settle the article
/// (still open, or created now), store the comment and queue its events.
/// Returns the comment, its article and how many webhook messages were
/// queued.
async fn store(
    services: &Services,
    guards: Guards,
    placing: Placing,
    new_comment: impl FnOnce(ArticleId) -> NewComment + Send + 'static,
    now: i64,
) -> Result<(Comment, Article, usize), CommentError> {
    let hooks = services.webhooks.clone();
    let rules = services.settings.articles.clone();
    services
        .db
        .write(move |conn| {
            guards.count(conn, now)?;
            let article = match placing.known {
                Some(found) => {
                    // It may have been closed while we were deciding.
                    let current =
                        db::articles::find(conn, found.id)?.ok_or(CommentError::ArticleNotFound)?;
                    if !super::articles::is_open_with(&current, &rules, now) {
                        return Err(CommentError::Closed);
                    }
                    current
                }
                None => {
                    let (created, _) = db::articles::find_or_insert(
                        conn,
                        &NewArticle {
                            key: placing.key.as_str(),
                            title: placing.hint.title.as_deref(),
                            url: placing.hint.url.as_deref(),
                            comments_open: true,
                            created_at: now,
                            updated_at: now,
                        },
                    )?;
                    created
                }
            };
            guards.check_duplicate(conn, Some(article.id))?;
            let comment = db::comments::insert(conn, &new_comment(article.id))?;
            let data = webhooks::comment_data(&comment, &article.key);
            let mut queued = hooks.enqueue(conn, webhooks::COMMENT_CREATED, data.clone())?;
            match comment.status {
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
        .await
}

pub(super) fn resolve_author(
    services: &Services,
    viewer: Option<&AuthUser>,
    given: Option<GuestAuthor>,
) -> Result<Author, CommentError> {
    let limits = &services.settings.comments;
    if let Some(given) = &given {
        given.check(limits)?;
    }
    let url = given
        .as_ref()
        .and_then(|g| g.url.as_deref())
        .filter(|u| !u.trim().is_empty())
        .map(|u| WebUrl::parse(u, limits.max_url_bytes, "author.url"))
        .transpose()?;

    if let Some(user) = viewer {
        let trusted = user.trusted || user.role.can_moderate();
        return Ok(Author {
            user_id: Some(user.id),
            account: Some(AccountFacts {
                id: user.id,
                role: user.role,
                trusted,
                created_at: user.created_at,
            }),
            trusted,
            name: AuthorName::from_stored(&user.name),
            email: Some(Email::from_stored(&user.email)),
            url,
            proven: true,
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
        Some(n) => AuthorName::parse(&n, limits.max_name_bytes, "author.name")?,
        None => AuthorName::anonymous(),
    };
    let email = email
        .map(|e| Email::parse(&e, limits.max_email_bytes, "author.email"))
        .transpose()?;
    let proven = match (&email, given.token.as_deref()) {
        (Some(email), Some(token)) => services.keyring.is_author_token(email.as_str(), token),
        _ => false,
    };
    Ok(Author {
        user_id: None,
        account: None,
        trusted: false,
        name,
        email,
        url,
        proven,
    })
}

#[derive(Default)]
struct Hint {
    title: Option<String>,
    url: Option<String>,
}

/// The page's title and URL, validated; kept only when the URL is on the
/// blog (see [`is_on_the_blog`]), since anyone can send any.
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
    if url.as_deref().is_some_and(|u| is_on_the_blog(settings, u)) {
        Ok(Hint { title, url })
    } else {
        Ok(Hint::default())
    }
}

/// Whether a page URL belongs to the blog: under one of
/// `articles.auto_create_url_prefixes`, or when there are none, on one of
/// `server.cors_origins` or `server.public_url`.
fn is_on_the_blog(settings: &Settings, url: &str) -> bool {
    let prefixes = &settings.articles.auto_create_url_prefixes;
    if !prefixes.is_empty() {
        return prefixes.iter().any(|p| url.starts_with(p.as_str()));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let origin = parsed.origin().ascii_serialization();
    let server = &settings.server;
    server.cors_origins.iter().any(|o| o.as_str() == origin)
        || server
            .public_url
            .as_ref()
            .is_some_and(|o| o.as_str() == origin)
}

fn check_auto_create(settings: &Settings, hint: &Hint) -> Result<(), CommentError> {
    let rules = &settings.articles;
    if !rules.auto_create {
        return Err(CommentError::ArticleNotFound);
    }
    if rules.auto_create_url_prefixes.is_empty() || hint.url.is_some() {
        // With prefixes configured, a kept hint is one under them.
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
