//! The moderators' API: queue, decisions and undoing them, editing a
//! comment's text, log, summary, activity, commenters, bans.

use super::json::Json;
use super::openapi::errors;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::extract::SignedIn;
use super::views::{AccountView, ExportedAccount, ExportedComment, PublicComment};
use crate::db::bans::Ban;
use crate::db::models::{Article, Comment};
use crate::db::moderation::LogEntry;
use crate::domain::SortOrder;
use crate::domain::{now_millis, timestamp};
use crate::domain::{
    BanId, BanKind, CommentId, CommentStatus, LogAction, LogEntryId, Role, StatusCounts, UserId,
    Verdict,
};
use crate::error::ApiError;
use crate::moderation::bans::{self, NewBanRequest};
use crate::moderation::commenters::{self, AccountChange, Commenter};
use crate::moderation::data;
use crate::moderation::decisions::{self, Action};
use crate::moderation::edits;
use crate::moderation::queue::{
    self, AuthorRecord, LogFilter, QueueFilter, QueueItem, StatusFilter,
};
use crate::services::Services;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ArticleRef {
    key: String,
    title: Option<String>,
    url: Option<String>,
}

impl From<&Article> for ArticleRef {
    fn from(a: &Article) -> Self {
        ArticleRef {
            key: a.key.clone(),
            title: a.title.clone(),
            url: a.url.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorDetail {
    name: String,
    email: Option<String>,
    url: Option<String>,
    user_id: Option<UserId>,
    avatar: Option<String>,
    approved: i64,
    pending: i64,
    spam: i64,
    trash: i64,
    first_seen: Option<String>,
    banned: bool,
}

/// A comment as a moderator sees it: everything, including why it was held.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ModerationComment {
    id: CommentId,
    article: ArticleRef,
    parent_id: Option<CommentId>,
    status: CommentStatus,
    /// Pass back with a decision to detect a concurrent change.
    version: i64,
    verdict: Option<Verdict>,
    author: AuthorDetail,
    ip: Option<String>,
    user_agent: Option<String>,
    referrer: Option<String>,
    body: String,
    html: String,
    score: Option<f64>,
    held_because: Vec<String>,
    /// The spam pipeline's full report: every scorer's score, reasons,
    /// time taken and error.
    #[schema(value_type = Option<Object>)]
    report: Option<Box<RawValue>>,
    created_at: String,
    edited_at: Option<String>,
    status_changed_at: String,
}

impl ModerationComment {
    fn new(
        comment: &Comment,
        article: &Article,
        author: &AuthorRecord,
        avatars: &crate::comments::Avatars,
    ) -> Self {
        // The report is passed through as stored (checked to be JSON, not
        // rebuilt as a tree and written out again: that was most of a
        // queue page's cost); only its reasons are read out of it.
        #[derive(Deserialize)]
        struct Reasons {
            #[serde(default)]
            held_because: Vec<String>,
        }
        let report: Option<Box<RawValue>> = comment
            .spam_report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let held_because = report
            .as_ref()
            .and_then(|r| serde_json::from_str::<Reasons>(r.get()).ok())
            .map(|r| r.held_because)
            .unwrap_or_default();
        ModerationComment {
            id: comment.id,
            article: ArticleRef::from(article),
            parent_id: comment.parent_id,
            status: comment.status,
            version: comment.version,
            verdict: comment.verdict,
            author: AuthorDetail {
                name: comment.author_name.clone(),
                email: comment.author_email.clone(),
                url: comment.author_url.clone(),
                user_id: comment.user_id,
                avatar: avatars.of(comment.author_email.as_deref()),
                approved: author.counts.approved,
                pending: author.counts.pending,
                spam: author.counts.spam,
                trash: author.counts.trash,
                first_seen: author.first_seen.map(timestamp),
                banned: author.banned,
            },
            ip: comment.ip.clone(),
            user_agent: comment.user_agent.clone(),
            referrer: comment.referrer.clone(),
            body: comment.body.clone(),
            html: comment.html.clone(),
            score: comment.spam_score,
            held_because,
            report,
            created_at: timestamp(comment.created_at),
            edited_at: comment.edited_at.map(timestamp),
            status_changed_at: timestamp(comment.status_changed_at),
        }
    }

    fn from_item(item: &QueueItem, avatars: &crate::comments::Avatars) -> Self {
        Self::new(&item.comment, &item.article, &item.author, avatars)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LogView {
    id: LogEntryId,
    comment_id: Option<CommentId>,
    moderator_id: Option<UserId>,
    action: LogAction,
    from_status: Option<CommentStatus>,
    to_status: Option<CommentStatus>,
    reason: Option<String>,
    subject: Option<String>,
    created_at: String,
    /// A decision's: the comment's verdict before it.
    from_verdict: Option<Verdict>,
    /// A decision's: when an undo took it back.
    undone_at: Option<String>,
}

impl From<&LogEntry> for LogView {
    fn from(e: &LogEntry) -> Self {
        LogView {
            id: e.id,
            comment_id: e.comment_id,
            moderator_id: e.moderator_id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason.clone(),
            subject: e.subject.clone(),
            created_at: timestamp(e.created_at),
            from_verdict: e.from_verdict,
            undone_at: e.undone_at.map(timestamp),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    status: Option<CommentStatus>,
    article: Option<String>,
    author: Option<String>,
    q: Option<String>,
    /// Newest first unless asked.
    #[param(inline)]
    sort: Option<SortOrder>,
    cursor: Option<String>,
    /// Page size (the default page size when absent; at most the maximum).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The moderation queue. Moderators and admins.
#[utoipa::path(get, path = "/api/v1/moderation/comments", tag = "moderation",
    params(QueueQuery),
    responses((status = 200, body = QueueView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = QueueFilter {
        status: q.status.map(StatusFilter::Only),
        article: q.article,
        author: q.author,
        q: q.q,
        order: q.sort,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = queue::list(&state.db, &state.settings, &user.0, filter).await?;
    Ok(HttpResponse::Ok().json(QueueView {
        comments: page
            .items
            .iter()
            .map(|item| ModerationComment::from_item(item, &state.avatars))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One comment with its parent and its history of decisions.
#[utoipa::path(get, path = "/api/v1/moderation/comments/{id}", tag = "moderation",
    params(("id" = i64, Path, description = "Comment id")),
    responses((status = 200, body = DetailView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<CommentId>,
) -> Result<HttpResponse, ApiError> {
    let detail = queue::get(&state.db, &user.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(DetailView {
        comment: ModerationComment::from_item(&detail.item, &state.avatars),
        parent: detail
            .parent
            .as_ref()
            .map(|p| PublicComment::new(p, &state.avatars)),
        history: detail.history.iter().map(LogView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    action: Action,
    reason: Option<String>,
    /// The `version` the moderator saw; a comment changed since then is a
    /// conflict (409) unless it is already where this action puts it.
    version: Option<i64>,
}

/// Decides on one comment.
#[utoipa::path(post, path = "/api/v1/moderation/comments/{id}/decision", tag = "moderation",
    params(("id" = i64, Path, description = "Comment id")), request_body = DecisionBody,
    responses((status = 200, body = ModerationComment), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn decide(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<CommentId>,
    body: Json<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let comment = decisions::decide(
        &state,
        &user.0,
        id.into_inner(),
        body.action,
        body.reason,
        body.version,
    )
    .await?;
    let detail = queue::get(&state.db, &user.0, comment.id).await?;
    Ok(HttpResponse::Ok().json(ModerationComment::from_item(&detail.item, &state.avatars)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModeratorEditBody {
    /// The new text, in markdown.
    #[schema(min_length = 1, max_length = 65536)]
    body: String,
    /// Why, for the audit log.
    reason: Option<String>,
    /// The `version` the moderator saw; a comment changed since then is a
    /// conflict (409).
    version: Option<i64>,
}

/// Changes a comment's text: no edit window, not scored for spam, its
/// status unchanged; written to the audit log.
#[utoipa::path(patch, path = "/api/v1/moderation/comments/{id}", tag = "moderation",
    params(("id" = i64, Path, description = "Comment id")), request_body = ModeratorEditBody,
    responses((status = 200, body = ModerationComment), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn edit(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<CommentId>,
    body: Json<ModeratorEditBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let comment = edits::edit_body(
        &state,
        &user.0,
        id.into_inner(),
        &body.body,
        body.reason,
        body.version,
    )
    .await?;
    let detail = queue::get(&state.db, &user.0, comment.id).await?;
    Ok(HttpResponse::Ok().json(ModerationComment::from_item(&detail.item, &state.avatars)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<CommentId>,
    action: Action,
    reason: Option<String>,
}

/// Decides on many comments at once: all or none.
#[utoipa::path(post, path = "/api/v1/moderation/decisions", tag = "moderation",
    request_body = BulkBody,
    responses((status = 200, body = BulkView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn decide_bulk(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<BulkBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let decided =
        decisions::decide_bulk(&state, &user.0, body.ids, body.action, body.reason).await?;
    Ok(HttpResponse::Ok().json(BulkView {
        decided: decided.iter().map(DecidedView::from).collect(),
    }))
}

/// Takes back the caller's latest decision (on one comment, or a bulk
/// one) not yet taken back: its comments go back to their status and
/// verdict before it. Called again, takes back the decision before. 404
/// `nothing_to_undo` when none is left; 409 when someone acted on one of
/// its comments since (then nothing changes).
#[utoipa::path(post, path = "/api/v1/moderation/undo", tag = "moderation",
    responses((status = 200, body = UndoView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::Unavailable), security(("bearer" = [])))]
pub async fn undo(state: web::Data<Services>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let undone = decisions::undo_last(&state, &user.0).await?;
    Ok(HttpResponse::Ok().json(UndoView {
        undone: undone.iter().map(DecidedView::from).collect(),
    }))
}

/// Counts per status, overall and per article.
#[utoipa::path(get, path = "/api/v1/moderation/summary", tag = "moderation",
    responses((status = 200, body = SummaryView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Unavailable), security(("bearer" = [])))]
pub async fn summary(state: web::Data<Services>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let summary = queue::summary(&state.db, &user.0).await?;
    Ok(HttpResponse::Ok().json(SummaryView {
        overall: summary.overall,
        articles: summary
            .articles
            .iter()
            .map(|(a, c)| ArticleCountsView {
                article: ArticleRef::from(a),
                counts: *c,
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// How many days, today included (30 unless given).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// Comments created per UTC day over the last days, by their status now.
#[utoipa::path(get, path = "/api/v1/moderation/activity", tag = "moderation",
    params(ActivityQuery),
    responses((status = 200, body = ActivityView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn activity(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = query
        .into_inner()
        .days
        .unwrap_or(queue::DEFAULT_ACTIVITY_DAYS);
    let activity = queue::activity(&state.db, &user.0, days, now_millis()).await?;
    Ok(HttpResponse::Ok().json(ActivityView {
        days: activity
            .days
            .iter()
            .map(|d| DayView {
                day: d.day.to_string(),
                counts: d.counts,
            })
            .collect(),
        held_today: activity.held_today,
        spam_today: activity.spam_today,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    moderator: Option<UserId>,
    comment: Option<CommentId>,
    /// Only entries of this action.
    #[param(inline)]
    action: Option<LogAction>,
    cursor: Option<String>,
    /// Page size (the default page size when absent; at most the maximum).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/moderation/log", tag = "moderation",
    params(LogQuery),
    responses((status = 200, body = LogPageView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn log(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = LogFilter {
        moderator: q.moderator,
        comment: q.comment,
        action: q.action,
    };
    let page = queue::log(
        &state.db,
        &state.settings,
        &user.0,
        filter,
        q.cursor,
        q.limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(LogPageView {
        entries: page.items.iter().map(LogView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentersQuery {
    q: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommenterView {
    kind: &'static str,
    account: Option<AccountView>,
    email: String,
    name: String,
    approved: i64,
    pending: i64,
    spam: i64,
    trash: i64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    banned: bool,
}

impl From<&Commenter> for CommenterView {
    fn from(c: &Commenter) -> Self {
        CommenterView {
            kind: if c.user.is_some() { "account" } else { "guest" },
            account: c.user.as_ref().map(AccountView::from),
            email: c.email.clone(),
            name: c.name.clone(),
            approved: c.counts.approved,
            pending: c.counts.pending,
            spam: c.counts.spam,
            trash: c.counts.trash,
            first_seen: c.first_seen.map(timestamp),
            last_seen: c.last_seen.map(timestamp),
            banned: c.banned,
        }
    }
}

/// Accounts and guest identities (by email) with their records.
#[utoipa::path(get, path = "/api/v1/moderation/commenters", tag = "moderation",
    params(CommentersQuery),
    responses((status = 200, body = CommentersView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn commenters(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<CommentersQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = commenters::list(&state, &user.0, query.into_inner().q).await?;
    Ok(HttpResponse::Ok().json(CommentersView {
        commenters: list.iter().map(CommenterView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommenterQuery {
    /// The account's email, or the one a guest wrote under.
    email: String,
}

/// Everything stored about one commenter.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommenterExportView {
    email: String,
    /// `null` for a guest.
    account: Option<ExportedAccount>,
    comments: Vec<ExportedComment>,
}

/// Everything stored about a commenter, by email (admins).
#[utoipa::path(get, path = "/api/v1/moderation/commenters/export", tag = "moderation",
    params(CommenterQuery),
    responses((status = 200, body = CommenterExportView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn export_commenter(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<CommenterQuery>,
) -> Result<HttpResponse, ApiError> {
    let data = data::export(&state, &user.0, &query.email).await?;
    Ok(HttpResponse::Ok().json(CommenterExportView {
        email: data.email.clone(),
        account: data.account.as_ref().map(ExportedAccount::from),
        comments: ExportedComment::all(&data.comments),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    email: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErasedView {
    comments_affected: usize,
    account_removed: bool,
    /// `anonymized` or `deleted`, as `accounts.on_delete` says.
    comments: &'static str,
}

/// Erases a commenter's data, by email (admins): their account goes, their
/// comments are anonymized or deleted as `accounts.on_delete` says.
#[utoipa::path(post, path = "/api/v1/moderation/commenters/erase", tag = "moderation",
    request_body = EraseBody,
    responses((status = 200, body = ErasedView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn erase_commenter(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<EraseBody>,
) -> Result<HttpResponse, ApiError> {
    let erased = data::erase(&state, &user.0, &body.email).await?;
    Ok(HttpResponse::Ok().json(ErasedView {
        comments_affected: erased.comments,
        account_removed: erased.account_removed,
        comments: erased.mode.label(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    trusted: Option<bool>,
    role: Option<Role>,
}

/// Trusts or distrusts an account (moderators) or changes its role (admins).
#[utoipa::path(patch, path = "/api/v1/moderation/users/{id}", tag = "moderation",
    params(("id" = i64, Path, description = "Account id")), request_body = AccountBody,
    responses((status = 200, body = AccountView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn update_account(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<UserId>,
    body: Json<AccountBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let change = AccountChange {
        trusted: body.trusted,
        role: body.role,
    };
    let updated = commenters::update_account(&state, &user.0, id.into_inner(), change).await?;
    Ok(HttpResponse::Ok().json(AccountView::from(&updated)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BanView {
    id: BanId,
    kind: BanKind,
    value: String,
    shadow: bool,
    reason: Option<String>,
    expires_at: Option<String>,
    created_by: Option<UserId>,
    created_at: String,
    lifted_at: Option<String>,
    active: bool,
}

impl From<&Ban> for BanView {
    fn from(b: &Ban) -> Self {
        let now = crate::db::now_millis();
        BanView {
            id: b.id,
            kind: b.kind,
            value: b.value.clone(),
            shadow: b.shadow,
            reason: b.reason.clone(),
            expires_at: b.expires_at.map(timestamp),
            created_by: b.created_by,
            created_at: timestamp(b.created_at),
            lifted_at: b.lifted_at.map(timestamp),
            active: b.is_active(now),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanBody {
    kind: BanKind,
    value: String,
    reason: Option<String>,
    /// RFC 3339 time the ban ends.
    expires_at: Option<String>,
    /// Or how long it lasts, e.g. "7days".
    duration: Option<String>,
    #[serde(default)]
    shadow: bool,
    #[serde(default)]
    trash_existing: bool,
}

/// Bans an account, email or IP range.
#[utoipa::path(post, path = "/api/v1/moderation/bans", tag = "moderation",
    request_body = BanBody,
    responses((status = 201, body = BanCreatedView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable), security(("bearer" = [])))]
pub async fn create_ban(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<BanBody>,
) -> Result<HttpResponse, ApiError> {
    // Who may ban is settled before the request's details are looked at.
    crate::auth::permissions::require_moderator(&user.0)?;
    let body = body.into_inner();
    let request = NewBanRequest {
        kind: body.kind,
        value: body.value,
        reason: body.reason,
        expires_at: body.expires_at,
        duration: body.duration,
        shadow: body.shadow,
        trash_existing: body.trash_existing,
    };
    let (ban, trashed) = bans::create(&state, &user.0, request).await?;
    Ok(HttpResponse::Created().json(BanCreatedView {
        ban: BanView::from(&ban),
        comments_trashed: trashed,
    }))
}

/// Every ban, newest first.
#[utoipa::path(get, path = "/api/v1/moderation/bans", tag = "moderation",
    responses((status = 200, body = BansView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Unavailable), security(("bearer" = [])))]
pub async fn list_bans(
    state: web::Data<Services>,
    user: SignedIn,
) -> Result<HttpResponse, ApiError> {
    let list = bans::list(&state, &user.0).await?;
    Ok(HttpResponse::Ok().json(BansView {
        bans: list.iter().map(BanView::from).collect(),
    }))
}

/// Lifts a ban.
#[utoipa::path(delete, path = "/api/v1/moderation/bans/{id}", tag = "moderation",
    params(("id" = i64, Path, description = "Ban id")),
    responses((status = 200, body = BanView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable), security(("bearer" = [])))]
pub async fn lift_ban(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<BanId>,
) -> Result<HttpResponse, ApiError> {
    let ban = bans::lift(&state, &user.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(BanView::from(&ban)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueView {
    comments: Vec<ModerationComment>,
    /// Pass back as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DetailView {
    comment: ModerationComment,
    /// The comment replied to, as the public sees it.
    parent: Option<PublicComment>,
    /// Every logged decision about this comment, oldest first.
    history: Vec<LogView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecidedView {
    id: CommentId,
    status: CommentStatus,
    version: i64,
}

impl From<&Comment> for DecidedView {
    fn from(c: &Comment) -> Self {
        DecidedView {
            id: c.id,
            status: c.status,
            version: c.version,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkView {
    decided: Vec<DecidedView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UndoView {
    /// Each comment the undo put back, as it now is.
    undone: Vec<DecidedView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ArticleCountsView {
    article: ArticleRef,
    counts: StatusCounts,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SummaryView {
    overall: StatusCounts,
    /// Articles with comments, most pending first.
    articles: Vec<ArticleCountsView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DayView {
    /// The UTC day, as `YYYY-MM-DD`.
    day: String,
    /// Comments created that day, by their status now.
    #[serde(flatten)]
    counts: StatusCounts,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    /// Every day asked for, oldest first, today last.
    days: Vec<DayView>,
    /// Comments created since midnight UTC that are pending now.
    held_today: i64,
    /// Comments created since midnight UTC that are spam now.
    spam_today: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LogPageView {
    entries: Vec<LogView>,
    next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentersView {
    commenters: Vec<CommenterView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BanCreatedView {
    ban: BanView,
    comments_trashed: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BansView {
    bans: Vec<BanView>,
}
