//! The queue: tabs by status with live counts, filters, keyset pages, and
//! decisions on one comment or many, undone in one step; and one comment's
//! page, with its context, history, a reply and an edit.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::forms::{filled, Form};
use super::views::{encode, status_label, Card, When};
use super::{
    back_to, json_error, ok_page, see_other_with, wants_json, Flash, Layout, PageError, Section,
    Staff,
};
use crate::api::client::client_info;
use crate::comments::{self, Submission};
use crate::domain::{ArticleKey, CommentId, CommentStatus, SortOrder, StatusCounts};
use crate::moderation::decisions::{self, Action};
use crate::moderation::queue::{self, QueueFilter, StatusFilter};
use crate::moderation::{edits, ModerationError};
use crate::services::Services;

/// A tab of the queue.
pub struct Tab {
    pub label: &'static str,
    pub value: &'static str,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

/// The tabs, in the order moderators work through them.
const TABS: [(&str, &str); 5] = [
    ("pending", "Pending"),
    ("spam", "Spam"),
    ("approved", "Approved"),
    ("trash", "Trash"),
    ("all", "All"),
];

fn count_of(counts: &StatusCounts, tab: &str) -> i64 {
    match tab {
        "pending" => counts.pending,
        "spam" => counts.spam,
        "approved" => counts.approved,
        "trash" => counts.trash,
        _ => counts.pending + counts.spam + counts.approved + counts.trash,
    }
}

fn status_filter(tab: &str) -> Option<StatusFilter> {
    match tab {
        "all" => Some(StatusFilter::AllButDeleted),
        other => other.parse().ok().map(StatusFilter::Only),
    }
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    article: Option<String>,
    author: Option<String>,
    q: Option<String>,
    sort: Option<SortOrder>,
    cursor: Option<String>,
}

impl QueueQuery {
    /// The query string of this view, without its cursor.
    fn base(&self, tab: &str) -> Vec<(String, String)> {
        let mut pairs = vec![("status".to_string(), tab.to_string())];
        for (key, value) in [
            ("article", &self.article),
            ("author", &self.author),
            ("q", &self.q),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                pairs.push((key.to_string(), v.to_string()));
            }
        }
        if self.sort == Some(SortOrder::Oldest) {
            pairs.push(("sort".into(), "oldest".into()));
        }
        pairs
    }
}

fn href_of(pairs: &[(String, String)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/admin/?{query}")
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    csrf: String,
    here: String,
    view: &'static str,
    view_label: &'static str,
    tabs: Vec<Tab>,
    cards: Vec<Card>,
    article: String,
    author: String,
    q: String,
    oldest_first: bool,
    next_href: Option<String>,
    first_href: Option<String>,
    newest_pending: i64,
    filtered: bool,
}

/// `GET /admin/`: the queue.
pub async fn queue(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let (view, view_label) = TABS
        .iter()
        .copied()
        .find(|(value, _)| Some(*value) == query.status.as_deref())
        .unwrap_or(TABS[0]);
    let filter = QueueFilter {
        status: status_filter(view),
        article: filled(query.article.clone()),
        author: filled(query.author.clone()),
        q: filled(query.q.clone()),
        order: query.sort,
        cursor: query.cursor.clone(),
        limit: None,
    };
    let (page, pulse) = futures_util::future::try_join(
        queue::list(&services.db, &services.settings, &staff.user, filter),
        queue::pulse(&services.db, &staff.user),
    )
    .await?;
    let base = query.base(view);
    let tabs = TABS
        .iter()
        .map(|(value, label)| {
            let mut pairs = query.base(value);
            pairs.retain(|(k, _)| k != "status");
            pairs.insert(0, ("status".into(), value.to_string()));
            Tab {
                label,
                value,
                count: count_of(&pulse.counts, value),
                href: href_of(&pairs),
                current: *value == view,
            }
        })
        .collect();
    let next_href = page.next_cursor.as_ref().map(|cursor| {
        let mut pairs = base.clone();
        pairs.push(("cursor".into(), cursor.clone()));
        href_of(&pairs)
    });
    let first_href = query.cursor.as_ref().map(|_| href_of(&base));
    let layout = Layout::new(
        &req,
        &staff,
        Section::Queue,
        format!("{view_label} comments"),
    );
    let filtered = [&query.article, &query.author, &query.q]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    let body = QueuePage {
        csrf: staff.csrf.clone(),
        here: layout.here.clone(),
        layout,
        view,
        view_label,
        tabs,
        cards: page.items.iter().map(Card::new).collect(),
        article: query.article.unwrap_or_default(),
        author: query.author.unwrap_or_default(),
        q: query.q.unwrap_or_default(),
        oldest_first: query.sort == Some(SortOrder::Oldest),
        next_href,
        first_href,
        newest_pending: pulse.newest_pending.map_or(0, |id| id.0),
        filtered,
    };
    Ok(ok_page(&req, &body))
}

/// One card, rendered alone (the script swaps it in after a decision).
#[derive(Template)]
#[template(path = "card.html")]
struct CardFragment<'a> {
    c: &'a Card,
    csrf: &'a str,
    view: &'a str,
    here: &'a str,
}

#[derive(Deserialize)]
pub struct DecideForm {
    csrf: String,
    action: Action,
    #[serde(default)]
    id: Vec<CommentId>,
    /// The version the moderator saw (one comment at a time).
    version: Option<i64>,
    /// The tab the decision was made on.
    view: Option<String>,
    return_to: Option<String>,
}

/// What the script is told after a decision.
#[derive(Serialize)]
struct Decided {
    notice: String,
    comments: Vec<CardState>,
}

#[derive(Serialize)]
struct CardState {
    id: i64,
    status: CommentStatus,
    /// The card as it now is, or `None` when it leaves the tab.
    card: Option<String>,
}

fn described(action: Action, count: usize) -> String {
    let what = if count == 1 {
        "1 comment".to_string()
    } else {
        format!("{count} comments")
    };
    match action {
        Action::Approve => format!("Approved {what}."),
        Action::Spam => format!("Marked {what} as spam."),
        Action::NotSpam => format!("Marked {what} as not spam and published."),
        Action::Trash => format!("Moved {what} to the trash."),
        Action::Restore => format!("Restored {what} from the trash."),
    }
}

/// `POST /admin/decide`: one comment (with the version seen) or the
/// checked ones.
pub async fn decide(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<DecideForm>,
) -> HttpResponse {
    let json = wants_json(&req);
    let form = form.0;
    // A forged post is refused outright, not turned into a notice.
    if let Err(refused) = staff.check(&req, &services, &form.csrf) {
        return if json {
            json_error(refused)
        } else {
            actix_web::ResponseError::error_response(&refused)
        };
    }
    let back = back_to(form.return_to.as_deref(), "/admin/");
    let view = form.view.clone().unwrap_or_else(|| "pending".into());
    let outcome = decide_form(&services, &staff, &form).await;
    match (outcome, json) {
        (Ok(decided), true) => {
            let mut comments = Vec::with_capacity(decided.len());
            for comment in &decided {
                match card_state(&services, &staff, comment.id, &view).await {
                    Ok(state) => comments.push(state),
                    Err(e) => return json_error(e),
                }
            }
            HttpResponse::Ok().json(Decided {
                notice: described(form.action, decided.len()),
                comments,
            })
        }
        (Ok(decided), false) => see_other_with(
            &back,
            Flash {
                text: described(form.action, decided.len()),
                undo: true,
                error: false,
            },
        ),
        (Err(PageError::Api(e)), true) if e.status() == StatusCode::CONFLICT => {
            // Someone else acted first: say so, and show where it is now.
            let mut answer = serde_json::json!({
                "error": {"code": e.code(), "message": format!("Another moderator acted first: {}", e.message())},
            });
            if let [id] = form.id[..] {
                if let Ok(state) = card_state(&services, &staff, id, &view).await {
                    answer["comments"] = serde_json::json!([state]);
                }
            }
            HttpResponse::Conflict().json(answer)
        }
        (Err(e), true) => json_error(e),
        (Err(PageError::Api(e)), false) if e.status().is_client_error() => see_other_with(
            &back,
            Flash::warning(match e.status() {
                StatusCode::CONFLICT => format!(
                    "Another moderator acted first; nothing was changed: {}",
                    e.message()
                ),
                _ => e.message().to_string(),
            }),
        ),
        (Err(e), false) => actix_web::ResponseError::error_response(&e),
    }
}

async fn decide_form(
    services: &Services,
    staff: &Staff,
    form: &DecideForm,
) -> Result<Vec<crate::db::models::Comment>, PageError> {
    let decided = match (&form.id[..], form.version) {
        ([], _) => {
            return Err(PageError::Api(crate::error::ApiError::bad_request(
                "nothing_selected",
                "Select at least one comment first.",
            )))
        }
        ([id], Some(version)) => vec![
            decisions::decide(services, &staff.user, *id, form.action, None, Some(version)).await?,
        ],
        (ids, _) => {
            decisions::decide_bulk(services, &staff.user, ids.to_vec(), form.action, None).await?
        }
    };
    Ok(decided)
}

async fn card_state(
    services: &Services,
    staff: &Staff,
    id: CommentId,
    view: &str,
) -> Result<CardState, PageError> {
    let detail = queue::get(&services.db, &staff.user, id).await?;
    let status = detail.item.comment.status;
    let stays = view == "all" || view == status.as_str();
    let card = if stays {
        let card = Card::new(&detail.item);
        let fragment = CardFragment {
            c: &card,
            csrf: &staff.csrf,
            view,
            here: "/admin/",
        };
        Some(
            fragment
                .render()
                .map_err(|e| PageError::Api(crate::error::ApiError::internal(e)))?,
        )
    } else {
        None
    };
    Ok(CardState {
        id: id.0,
        status,
        card,
    })
}

#[derive(Deserialize)]
pub struct UndoForm {
    csrf: String,
    return_to: Option<String>,
}

/// `POST /admin/undo`: takes back this moderator's last decision.
pub async fn undo(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<UndoForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let back = back_to(form.return_to.as_deref(), "/admin/");
    let flash = match decisions::undo_last(&services, &staff.user).await {
        Ok(undone) => Flash::notice(match undone.len() {
            1 => "Undone: the comment is back where it was.".to_string(),
            n => format!("Undone: {n} comments are back where they were."),
        }),
        Err(ModerationError::NothingToUndo) => {
            Flash::warning("There is nothing of yours left to undo.")
        }
        Err(ModerationError::Conflict { id, current }) => Flash::warning(format!(
            "Cannot undo: comment {id} was changed since by someone else (it is now {}).",
            status_label(current).to_lowercase()
        )),
        Err(e) => return Err(e.into()),
    };
    Ok(see_other_with(&back, flash))
}

#[derive(Serialize)]
struct PulseView {
    pending: i64,
    spam: i64,
    approved: i64,
    trash: i64,
    all: i64,
    newest_pending: i64,
}

/// `GET /admin/pulse`: the counts and the newest held comment, which the
/// script polls to show new comments without a reload.
pub async fn pulse(services: web::Data<Services>, staff: Staff) -> Result<HttpResponse, PageError> {
    let pulse = queue::pulse(&services.db, &staff.user).await?;
    let c = &pulse.counts;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PulseView {
            pending: c.pending,
            spam: c.spam,
            approved: c.approved,
            trash: c.trash,
            all: count_of(c, "all"),
            newest_pending: pulse.newest_pending.map_or(0, |id| id.0),
        }))
}

/// A log entry as the comment page lists it.
pub struct HistoryLine {
    pub when: When,
    pub what: String,
    pub by: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "comment.html")]
struct CommentPage {
    layout: Layout,
    csrf: String,
    here: String,
    view: &'static str,
    c: Card,
    body: String,
    parent_html: Option<String>,
    parent_author: String,
    history: Vec<HistoryLine>,
    max_body_bytes: usize,
}

/// `GET /admin/comments/{id}`: everything about one comment.
pub async fn detail(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    id: web::Path<CommentId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let detail = queue::get(&services.db, &staff.user, id).await?;
    let names = crate::moderation::commenters::staff_names(&services, &staff.user).await?;
    let history = detail
        .history
        .iter()
        .map(|e| HistoryLine {
            when: When::at(e.created_at),
            what: match (e.from_status, e.to_status) {
                (Some(from), Some(to)) if from != to => format!(
                    "{}: {} → {}",
                    e.action,
                    status_label(from).to_lowercase(),
                    status_label(to).to_lowercase()
                ),
                _ => e.action.to_string(),
            },
            by: e
                .moderator_id
                .and_then(|m| names.get(&m).cloned())
                .unwrap_or_else(|| "—".into()),
            reason: e.reason.clone(),
        })
        .collect();
    let layout = Layout::new(&req, &staff, Section::Queue, format!("Comment {id}"));
    let body = CommentPage {
        csrf: staff.csrf.clone(),
        here: layout.here.clone(),
        layout,
        view: "all",
        body: detail.item.comment.body.clone(),
        c: Card::new(&detail.item),
        parent_html: detail.parent.as_ref().map(|p| p.html.clone()),
        parent_author: detail
            .parent
            .as_ref()
            .map(|p| p.author_name.clone())
            .unwrap_or_default(),
        history,
        max_body_bytes: services.settings.comments.max_body_bytes,
    };
    Ok(ok_page(&req, &body))
}

#[derive(Deserialize)]
pub struct ReplyForm {
    csrf: String,
    body: String,
    /// Approve the (held) comment with the reply: replies go under
    /// published comments only.
    approve: Option<String>,
    /// The version the moderator saw, for the approval.
    version: Option<i64>,
}

/// `POST /admin/comments/{id}/reply`: the moderator answers, published at
/// once (moderators are trusted; the word lists still apply). A held
/// comment is approved first when the form says so, as replies go under
/// published comments only.
pub async fn reply(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    id: web::Path<CommentId>,
    form: Form<ReplyForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let back = format!("/admin/comments/{id}");
    let detail = queue::get(&services.db, &staff.user, id).await?;
    let key = ArticleKey::parse(&detail.item.article.key)?;
    if form.approve.is_some() && detail.item.comment.status == CommentStatus::Pending {
        if let Err(e) = decisions::decide(
            &services,
            &staff.user,
            id,
            Action::Approve,
            None,
            form.version,
        )
        .await
        {
            return Ok(see_other_with(
                &back,
                Flash::refused("Nothing was posted", e)?,
            ));
        }
    }
    let submission = Submission {
        body: form.body,
        parent_id: Some(id),
        author: None,
        article: None,
        honeypot: None,
    };
    let client = client_info(&req, &services);
    match comments::submit(&services, Some(&staff.user), key, submission, client).await {
        Ok(submitted) => {
            let status = submitted.comment.status;
            Ok(see_other_with(
                &format!("/admin/comments/{}", submitted.comment.id),
                Flash {
                    text: if status == CommentStatus::Approved {
                        "Your reply is published.".into()
                    } else {
                        format!(
                            "Your reply was stored but is {} (a word list matched it).",
                            status_label(status).to_lowercase()
                        )
                    },
                    undo: false,
                    error: status != CommentStatus::Approved,
                },
            ))
        }
        Err(e) => Ok(see_other_with(
            &back,
            Flash::refused("The reply was not posted", e)?,
        )),
    }
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    body: String,
    reason: Option<String>,
    version: Option<i64>,
}

/// `POST /admin/comments/{id}/edit`: corrects a comment's text (logged,
/// with the reason given).
pub async fn edit(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    id: web::Path<CommentId>,
    form: Form<EditForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let back = format!("/admin/comments/{id}");
    let outcome = edits::edit_body(
        &services,
        &staff.user,
        id,
        &form.body,
        filled(form.reason),
        form.version,
    )
    .await;
    let flash = match outcome {
        Ok(_) => Flash::notice("The new text is saved."),
        Err(e) => Flash::refused("The text was not changed", e)?,
    };
    Ok(see_other_with(&back, flash))
}

/// The queue filtered to one commenter, for links from elsewhere.
pub fn queue_href_for_author(author: &str) -> String {
    format!("/admin/?status=all&author={}", encode(author))
}
