//! The audit log, the overview with its chart, and the admins' pages: word
//! lists and articles.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::forms::{filled, Form};
use super::views::{status_label, When};
use super::{ok_page, see_other_with, Flash, Layout, PageError, Section, Staff};
use crate::comments::articles::{self as article_rules, ArticleChanges};
use crate::domain::{ArticleKey, LogAction, StatusCounts, UserId, WordId, WordKind, WordList};
use crate::moderation::commenters;
use crate::moderation::queue::{self, LogFilter};
use crate::services::Services;
use crate::spam::admin;

/// A choice in a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A log entry as a row.
pub struct LogRow {
    pub when: When,
    pub by: String,
    pub action: String,
    pub comment: Option<i64>,
    pub change: String,
    pub subject: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    layout: Layout,
    moderators: Vec<Choice>,
    actions: Vec<Choice>,
    rows: Vec<LogRow>,
    next_href: Option<String>,
    first_href: Option<String>,
}

#[derive(Deserialize)]
pub struct LogQuery {
    moderator: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
}

/// `GET /admin/log`: every decision and change, newest first, by whom.
pub async fn log(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let moderator = filled(query.moderator.clone())
        .map(|m| m.parse::<UserId>())
        .transpose()
        .map_err(|_| {
            crate::error::ApiError::bad_request("invalid_query", "moderator must be an account id")
        })?;
    let action = filled(query.action.clone())
        .map(|a| a.parse::<LogAction>())
        .transpose()
        .map_err(|_| crate::error::ApiError::bad_request("invalid_query", "no such action"))?;
    let names = commenters::staff_names(&services, &staff.user).await?;
    let page = queue::log(
        &services.db,
        &services.settings,
        &staff.user,
        LogFilter {
            moderator,
            comment: None,
            action,
        },
        query.cursor.clone(),
        None,
    )
    .await?;
    let rows = page
        .items
        .iter()
        .map(|e| LogRow {
            when: When::at(e.created_at),
            by: e
                .moderator_id
                .map(|m| {
                    names
                        .get(&m)
                        .cloned()
                        .unwrap_or_else(|| format!("account {m}"))
                })
                .unwrap_or_else(|| "the server".into()),
            action: e.action.to_string(),
            comment: e.comment_id.map(|c| c.0),
            change: match (e.from_status, e.to_status) {
                (Some(from), Some(to)) => format!(
                    "{} → {}",
                    status_label(from).to_lowercase(),
                    status_label(to).to_lowercase()
                ),
                _ => String::new(),
            },
            subject: e.subject.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
        })
        .collect();
    let base: Vec<(&str, String)> = [
        ("moderator", filled(query.moderator.clone())),
        ("action", filled(query.action.clone())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let href = |cursor: Option<&String>| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        serializer.extend_pairs(base.iter().map(|(k, v)| (*k, v.as_str())));
        if let Some(cursor) = cursor {
            serializer.append_pair("cursor", cursor);
        }
        format!("/admin/log?{}", serializer.finish())
    };
    let moderators = names
        .iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name.clone(),
            selected: moderator == Some(*id),
        })
        .collect();
    let actions = LogAction::ALL
        .iter()
        .map(|a| Choice {
            value: a.as_str().to_string(),
            label: a.as_str().replace('_', " "),
            selected: action == Some(*a),
        })
        .collect();
    let body = LogPage {
        layout: Layout::new(&req, &staff, Section::Log, "Audit log"),
        moderators,
        actions,
        rows,
        next_href: page.next_cursor.as_ref().map(|c| href(Some(c))),
        first_href: query.cursor.as_ref().map(|_| href(None)),
    };
    Ok(ok_page(&req, &body))
}

/// A word-list entry as a row.
pub struct WordRow {
    pub id: i64,
    pub list: &'static str,
    pub kind: &'static str,
    pub pattern: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "words.html")]
struct WordsPage {
    layout: Layout,
    rows: Vec<WordRow>,
}

/// `GET /admin/words`: the word lists (admins).
pub async fn words(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    let entries = admin::list_entries(&services.db, &staff.user).await?;
    let body = WordsPage {
        layout: Layout::new(&req, &staff, Section::Words, "Word lists"),
        rows: entries
            .iter()
            .map(|e| WordRow {
                id: e.id.0,
                list: e.list.as_str(),
                kind: e.kind.as_str(),
                pattern: e.pattern.clone(),
                note: e.note.clone().unwrap_or_default(),
            })
            .collect(),
    };
    Ok(ok_page(&req, &body))
}

#[derive(Deserialize)]
pub struct WordForm {
    csrf: String,
    list: WordList,
    kind: WordKind,
    pattern: String,
    note: Option<String>,
}

/// `POST /admin/words`: adds an entry (admins).
pub async fn add_word(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<WordForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let added = admin::add_entry(
        &services.db,
        &services.spam.wordlists,
        &staff.user,
        form.list,
        form.kind,
        &form.pattern,
        filled(form.note),
    )
    .await;
    let flash = match added {
        Ok(entry) => Flash::notice(format!(
            "Added “{}” to the {} list.",
            entry.pattern, entry.list
        )),
        Err(e) => Flash::refused("Nothing was added", e)?,
    };
    Ok(see_other_with("/admin/words", flash))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /admin/words/{id}/remove` (admins).
pub async fn remove_word(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    id: web::Path<WordId>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    staff.check(&req, &services, &form.0.csrf)?;
    admin::remove_entry(
        &services.db,
        &services.spam.wordlists,
        &staff.user,
        id.into_inner(),
    )
    .await?;
    Ok(see_other_with(
        "/admin/words",
        Flash::notice("Removed the entry."),
    ))
}

/// An article as a row, with its comments by status.
pub struct ArticleRow {
    pub key: String,
    pub title: String,
    pub url: String,
    pub open: bool,
    /// Closed by age (`articles.close_after_days`) though its switch is on.
    pub closed_by_age: bool,
    pub counts: StatusCounts,
    pub queue_href: String,
}

#[derive(Template)]
#[template(path = "articles.html")]
struct ArticlesPage {
    layout: Layout,
    rows: Vec<ArticleRow>,
}

/// `GET /admin/articles`: articles with comments, most waiting first
/// (admins).
pub async fn articles(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    crate::auth::permissions::require_admin(&staff.user)?;
    let summary = queue::summary(&services.db, &staff.user).await?;
    let now = crate::db::now_millis();
    let rows = summary
        .articles
        .iter()
        .map(|(a, counts)| ArticleRow {
            key: a.key.clone(),
            title: a.title.clone().unwrap_or_default(),
            url: a.url.clone().unwrap_or_default(),
            open: a.comments_open,
            closed_by_age: a.comments_open && !article_rules::is_open(a, &services.settings, now),
            counts: *counts,
            queue_href: format!(
                "/admin/?status=all&article={}",
                super::views::encode(&a.key)
            ),
        })
        .collect();
    let body = ArticlesPage {
        layout: Layout::new(&req, &staff, Section::Articles, "Articles"),
        rows,
    };
    Ok(ok_page(&req, &body))
}

#[derive(Deserialize)]
pub struct ArticleForm {
    csrf: String,
    key: String,
    title: Option<String>,
    url: Option<String>,
    open: Option<String>,
}

/// `POST /admin/articles`: sets an article's title, URL and whether it
/// takes comments (admins).
pub async fn save_article(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<ArticleForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let key = ArticleKey::parse(&form.key)?;
    let changes = ArticleChanges {
        title: Some(filled(form.title)),
        url: Some(filled(form.url)),
        comments_open: Some(form.open.is_some()),
    };
    let saved = article_rules::put(
        &services.db,
        &services.settings,
        &services.cache,
        &staff.user,
        key,
        changes,
    )
    .await;
    let flash = match saved {
        Ok((found, _)) => Flash::notice(format!(
            "Saved {}: comments are {}.",
            found.article.key,
            if found.article.comments_open {
                "open"
            } else {
                "closed"
            }
        )),
        Err(e) => Flash::refused("Nothing was saved", e)?,
    };
    Ok(see_other_with("/admin/articles", flash))
}

/// One day's bar in the chart: a rectangle per status, stacked.
pub struct Bar {
    pub x: u32,
    pub label: String,
    pub segments: Vec<Segment>,
}

pub struct Segment {
    pub class: &'static str,
    pub y: u32,
    pub height: u32,
}

/// One day in the table under the chart.
pub struct DayRow {
    pub day: String,
    pub counts: StatusCounts,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    counts: StatusCounts,
    held_today: i64,
    spam_today: i64,
    bars: Vec<Bar>,
    days: Vec<DayRow>,
    chart_width: u32,
    chart_height: u32,
    peak: i64,
    total: i64,
}

/// The chart's drawing area, in SVG units.
const CHART_HEIGHT: u32 = 160;
const BAR_PITCH: u32 = 20;
const BAR_WIDTH: u32 = 14;
const CHART_DAYS: u32 = 30;

/// `GET /admin/overview`: counts, today's catch, and comments per day by
/// status over the last 30 days.
pub async fn overview(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    let now = crate::db::now_millis();
    let (activity, pulse) = futures_util::future::try_join(
        queue::activity(&services.db, &staff.user, CHART_DAYS, now),
        queue::pulse(&services.db, &staff.user),
    )
    .await?;
    let peak = activity
        .days
        .iter()
        .map(|d| visible_total(&d.counts))
        .max()
        .unwrap_or(0);
    let bars = activity
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| bar(i as u32, d.day.to_string(), &d.counts, peak))
        .collect();
    let total = activity.days.iter().map(|d| visible_total(&d.counts)).sum();
    let body = OverviewPage {
        layout: Layout::new(&req, &staff, Section::Overview, "Overview"),
        counts: pulse.counts,
        held_today: activity.held_today,
        spam_today: activity.spam_today,
        bars,
        days: activity
            .days
            .iter()
            .rev()
            .map(|d| DayRow {
                day: d.day.to_string(),
                counts: d.counts,
            })
            .collect(),
        chart_width: BAR_PITCH * CHART_DAYS,
        chart_height: CHART_HEIGHT,
        peak,
        total,
    };
    Ok(ok_page(&req, &body))
}

fn visible_total(c: &StatusCounts) -> i64 {
    c.approved + c.pending + c.spam + c.trash
}

/// Stacks a day's counts from the bottom: approved, pending, spam, trash,
/// scaled so the busiest day fills the chart.
fn bar(index: u32, day: String, counts: &StatusCounts, peak: i64) -> Bar {
    let mut segments = Vec::new();
    let mut top = CHART_HEIGHT;
    for (class, count) in [
        ("approved", counts.approved),
        ("pending", counts.pending),
        ("spam", counts.spam),
        ("trash", counts.trash),
    ] {
        if count <= 0 || peak <= 0 {
            continue;
        }
        let height = ((count as f64 / peak as f64) * CHART_HEIGHT as f64)
            .round()
            .max(1.0) as u32;
        let height = height.min(top);
        top -= height;
        segments.push(Segment {
            class,
            y: top,
            height,
        });
    }
    Bar {
        x: index * BAR_PITCH + (BAR_PITCH - BAR_WIDTH) / 2,
        label: format!(
            "{day}: {} approved, {} pending, {} spam, {} trash",
            counts.approved, counts.pending, counts.spam, counts.trash
        ),
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_day_fills_the_chart_and_others_scale() {
        let busiest = StatusCounts {
            approved: 6,
            pending: 2,
            spam: 2,
            ..StatusCounts::default()
        };
        let full = bar(0, "2026-12-01".into(), &busiest, 10);
        let heights: u32 = full.segments.iter().map(|s| s.height).sum();
        assert_eq!(heights, CHART_HEIGHT);
        assert_eq!(full.segments[0].class, "approved");
        assert_eq!(full.segments.last().unwrap().y, 0);
        let half = bar(
            3,
            "2026-12-04".into(),
            &StatusCounts {
                approved: 5,
                ..StatusCounts::default()
            },
            10,
        );
        assert_eq!(half.segments[0].height, CHART_HEIGHT / 2);
        assert_eq!(half.x, 3 * BAR_PITCH + 3);
        assert!(bar(1, "d".into(), &StatusCounts::default(), 0)
            .segments
            .is_empty());
    }
}
