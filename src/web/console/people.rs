//! Commenters (found by name, email or address; their record, comments and
//! bans; trust) and bans (made, listed, lifted).

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use ipnet::IpNet;
use serde::Deserialize;

use super::forms::{filled, Form};
use super::views::{encode, Card, When};
use super::{back_to, ok_page, see_other_with, Flash, Layout, PageError, Section, Staff};
use crate::api::views::{ExportedAccount, ExportedComment};
use crate::db::bans::Ban;
use crate::domain::{BanId, BanKind, StatusCounts, UserId};
use crate::moderation::bans::{self, NewBanRequest};
use crate::moderation::commenters::{self, AccountChange, Commenter};
use crate::moderation::data;
use crate::moderation::queue::{self, QueueFilter, StatusFilter};
use crate::services::Services;

/// A commenter as a row of the list.
pub struct CommenterRow {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub trusted: bool,
    pub banned: bool,
    pub counts: StatusCounts,
    pub last_seen: Option<When>,
    pub href: String,
}

impl CommenterRow {
    fn new(c: &Commenter) -> Self {
        CommenterRow {
            name: c.name.clone(),
            email: c.email.clone(),
            role: c.user.as_ref().map_or("guest", |u| u.role.as_str()),
            trusted: c.user.as_ref().is_some_and(|u| u.trusted),
            banned: c.banned,
            counts: c.counts,
            last_seen: c.last_seen.map(When::at),
            href: format!("/admin/commenter?email={}", encode(&c.email)),
        }
    }
}

#[derive(Template)]
#[template(path = "commenters.html")]
struct CommentersPage {
    layout: Layout,
    q: String,
    rows: Vec<CommenterRow>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /admin/commenters`: accounts and guests, searched.
pub async fn commenters(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let q = filled(query.into_inner().q);
    let list = commenters::list(&services, &staff.user, q.clone()).await?;
    let body = CommentersPage {
        layout: Layout::new(&req, &staff, Section::Commenters, "Commenters"),
        q: q.unwrap_or_default(),
        rows: list.iter().map(CommenterRow::new).collect(),
    };
    Ok(ok_page(&req, &body))
}

/// A ban as a row.
pub struct BanRow {
    pub id: i64,
    pub kind: &'static str,
    pub value: String,
    pub shadow: bool,
    pub reason: Option<String>,
    pub created: When,
    pub ends: String,
    pub active: bool,
}

impl BanRow {
    fn new(b: &Ban, now: i64) -> Self {
        let active = b.is_active(now);
        BanRow {
            id: b.id.0,
            kind: match b.kind {
                BanKind::User => "Account",
                BanKind::Email => "Email",
                BanKind::Ip => "IP range",
            },
            value: b.value.clone(),
            shadow: b.shadow,
            reason: b.reason.clone(),
            created: When::at(b.created_at),
            ends: match (b.lifted_at, b.expires_at) {
                (Some(at), _) => format!("lifted {}", When::at(at).text),
                (None, Some(at)) if at <= now => format!("ended {}", When::at(at).text),
                (None, Some(at)) => format!("until {}", When::at(at).text),
                (None, None) => "for good".into(),
            },
            active,
        }
    }
}

/// What the ban form offers for one commenter.
pub struct BanTarget {
    pub kind: &'static str,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "commenter.html")]
struct CommenterPage {
    layout: Layout,
    csrf: String,
    here: String,
    view: &'static str,
    name: String,
    email: Option<String>,
    ip: Option<String>,
    account: Option<i64>,
    role: &'static str,
    trusted: bool,
    banned: bool,
    counts: StatusCounts,
    first_seen: Option<When>,
    last_seen: Option<When>,
    cards: Vec<Card>,
    all_href: String,
    bans: Vec<BanRow>,
    targets: Vec<BanTarget>,
    /// Export and erasure, for admins, of a commenter known by email.
    data_controls: bool,
    export_href: String,
    on_delete: &'static str,
}

#[derive(Deserialize)]
pub struct CommenterQuery {
    email: Option<String>,
    ip: Option<String>,
}

/// How many of a commenter's comments their page shows.
const RECENT: u32 = 20;

/// `GET /admin/commenter?email=…` (or `?ip=…` for comments with no
/// email): a commenter's record, recent comments and bans, with trust and
/// ban controls.
pub async fn commenter(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    query: web::Query<CommenterQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let email = filled(query.email).map(|e| e.trim().to_lowercase());
    let ip = filled(query.ip).map(|i| i.trim().to_string());
    let found: Option<Commenter> = match &email {
        Some(email) => commenters::list(&services, &staff.user, Some(email.clone()))
            .await?
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email)),
        None => None,
    };
    let author = match (&found, &email, &ip) {
        (Some(c), _, _) => match &c.user {
            Some(user) => format!("user:{}", user.id),
            None => c.email.clone(),
        },
        (None, Some(email), _) => email.clone(),
        (None, None, Some(ip)) => ip.clone(),
        (None, None, None) => {
            return Err(PageError::Api(crate::error::ApiError::bad_request(
                "invalid_query",
                "Name a commenter by email or by IP address.",
            )))
        }
    };
    let page = queue::list(
        &services.db,
        &services.settings,
        &staff.user,
        QueueFilter {
            status: Some(StatusFilter::AllButDeleted),
            author: Some(author.clone()),
            limit: Some(RECENT),
            ..QueueFilter::default()
        },
    )
    .await?;
    let latest_ip = ip
        .clone()
        .or_else(|| page.items.iter().find_map(|item| item.comment.ip.clone()));
    let now = crate::db::now_millis();
    let all_bans = bans::list(&services, &staff.user).await?;
    let account = found.as_ref().and_then(|c| c.user.as_ref());
    let latest_net: Option<IpAddr> = latest_ip.as_deref().and_then(|i| i.parse().ok());
    let concerns = |b: &&Ban| match b.kind {
        BanKind::User => account.is_some_and(|u| b.value == u.id.to_string()),
        BanKind::Email => email.as_deref() == Some(b.value.as_str()),
        BanKind::Ip => match (b.value.parse::<IpNet>(), latest_net) {
            (Ok(net), Some(addr)) => net.contains(&addr),
            _ => false,
        },
    };
    let bans: Vec<BanRow> = all_bans
        .iter()
        .filter(concerns)
        .map(|b| BanRow::new(b, now))
        .collect();
    let mut targets = Vec::new();
    if let Some(user) = account {
        targets.push(BanTarget {
            kind: "user",
            label: format!("Account {} ({})", user.id, user.email),
            value: user.id.to_string(),
        });
    }
    if let Some(email) = &email {
        targets.push(BanTarget {
            kind: "email",
            label: format!("Email {email}"),
            value: email.clone(),
        });
    }
    if let Some(ip) = &latest_ip {
        targets.push(BanTarget {
            kind: "ip",
            label: format!("IP address {ip} (or a range around it)"),
            value: ip.clone(),
        });
    }
    let name = found
        .as_ref()
        .map(|c| c.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| page.items.first().map(|i| i.comment.author_name.clone()))
        .unwrap_or_else(|| author.clone());
    let data_controls = staff.is_admin() && email.is_some();
    let export_href = format!(
        "/admin/commenter/export?email={}",
        encode(email.as_deref().unwrap_or_default())
    );
    let layout = Layout::new(&req, &staff, Section::Commenters, name.clone());
    let body = CommenterPage {
        csrf: staff.csrf.clone(),
        here: layout.here.clone(),
        layout,
        view: "all",
        name,
        email,
        ip: latest_ip,
        account: account.map(|u| u.id.0),
        role: account.map_or("guest", |u| u.role.as_str()),
        trusted: account.is_some_and(|u| u.trusted),
        banned: found.as_ref().is_some_and(|c| c.banned) || bans.iter().any(|b| b.active),
        counts: found.as_ref().map(|c| c.counts).unwrap_or_default(),
        first_seen: found.as_ref().and_then(|c| c.first_seen).map(When::at),
        last_seen: found.as_ref().and_then(|c| c.last_seen).map(When::at),
        cards: page.items.iter().map(Card::new).collect(),
        all_href: super::queue::queue_href_for_author(&author),
        bans,
        targets,
        data_controls,
        export_href,
        on_delete: services.settings.accounts.on_delete.label(),
    };
    Ok(ok_page(&req, &body))
}

#[derive(Deserialize)]
pub struct TrustForm {
    csrf: String,
    user: UserId,
    trusted: bool,
    return_to: Option<String>,
}

/// `POST /admin/commenter/trust`: trusts an account (its comments skip
/// review) or takes the trust back.
pub async fn trust(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<TrustForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let change = AccountChange {
        trusted: Some(form.trusted),
        role: None,
    };
    let user = commenters::update_account(&services, &staff.user, form.user, change).await?;
    let back = back_to(form.return_to.as_deref(), "/admin/commenters");
    Ok(see_other_with(
        &back,
        Flash::notice(if user.trusted {
            format!("{} is trusted: their comments skip review.", user.name)
        } else {
            format!("{} is no longer trusted.", user.name)
        }),
    ))
}

#[derive(Template)]
#[template(path = "bans.html")]
struct BansPage {
    layout: Layout,
    active: Vec<BanRow>,
    ended: Vec<BanRow>,
}

/// `GET /admin/bans`: bans in force, then those that ended.
pub async fn bans(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    let now = crate::db::now_millis();
    let (active, ended): (Vec<BanRow>, Vec<BanRow>) = bans::list(&services, &staff.user)
        .await?
        .iter()
        .map(|b| BanRow::new(b, now))
        .partition(|b| b.active);
    let body = BansPage {
        layout: Layout::new(&req, &staff, Section::Bans, "Bans"),
        active,
        ended,
    };
    Ok(ok_page(&req, &body))
}

#[derive(Deserialize)]
pub struct BanForm {
    csrf: String,
    kind: BanKind,
    value: String,
    /// How long, e.g. `7days`; empty for good.
    duration: Option<String>,
    shadow: Option<String>,
    trash_existing: Option<String>,
    reason: Option<String>,
    return_to: Option<String>,
}

/// `POST /admin/bans`: bans an account, an email or an IP range.
pub async fn ban(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<BanForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let back = back_to(form.return_to.as_deref(), "/admin/bans");
    let request = NewBanRequest {
        kind: form.kind,
        value: form.value.trim().to_string(),
        reason: filled(form.reason),
        expires_at: None,
        duration: filled(form.duration),
        shadow: form.shadow.is_some(),
        trash_existing: form.trash_existing.is_some(),
    };
    let flash = match bans::create(&services, &staff.user, request).await {
        Ok((ban, trashed)) => Flash::notice(format!(
            "Banned {} {}{}{}.",
            ban.kind,
            ban.value,
            if ban.shadow { " (shadow ban)" } else { "" },
            match trashed {
                0 => String::new(),
                n => format!("; {n} of their comments moved to the trash"),
            }
        )),
        Err(e) => Flash::refused("No ban was made", e)?,
    };
    Ok(see_other_with(&back, flash))
}

#[derive(Deserialize)]
pub struct LiftForm {
    csrf: String,
    return_to: Option<String>,
}

/// `POST /admin/bans/{id}/lift`.
pub async fn lift(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    id: web::Path<BanId>,
    form: Form<LiftForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    let ban = bans::lift(&services, &staff.user, id.into_inner()).await?;
    let back = back_to(form.return_to.as_deref(), "/admin/bans");
    Ok(see_other_with(
        &back,
        Flash::notice(format!("Lifted the ban on {} {}.", ban.kind, ban.value)),
    ))
}

#[derive(Deserialize)]
pub struct EmailQuery {
    email: String,
}

/// Everything stored about one commenter, as a download.
#[derive(serde::Serialize)]
struct DataExport {
    email: String,
    account: Option<ExportedAccount>,
    comments: Vec<ExportedComment>,
}

/// `GET /admin/commenter/export?email=…`: a commenter's data as a JSON
/// file (admins).
pub async fn export(
    services: web::Data<Services>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, PageError> {
    let data = data::export(&services, &staff.user, &query.email).await?;
    let export = DataExport {
        email: data.email.clone(),
        account: data.account.as_ref().map(ExportedAccount::from),
        comments: ExportedComment::all(&data.comments),
    };
    let body = serde_json::to_vec_pretty(&export)
        .map_err(|e| PageError::Api(crate::error::ApiError::internal(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"commenter-data.json\"",
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Deserialize)]
pub struct EraseForm {
    csrf: String,
    email: String,
    /// The box saying the admin means it.
    confirm: Option<String>,
    return_to: Option<String>,
}

/// `POST /admin/commenter/erase`: erases a commenter's data (admins).
pub async fn erase(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<EraseForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    staff.check(&req, &services, &form.csrf)?;
    if form.confirm.is_none() {
        let back = back_to(form.return_to.as_deref(), "/admin/commenters");
        return Ok(see_other_with(
            &back,
            Flash::warning("Nothing was erased: tick the box to confirm first."),
        ));
    }
    let erased = data::erase(&services, &staff.user, &form.email).await?;
    Ok(see_other_with(
        "/admin/commenters",
        Flash::notice(format!(
            "Erased: {} comments {}{}.",
            erased.comments,
            erased.mode.label(),
            if erased.account_removed {
                ", and the account removed"
            } else {
                ""
            }
        )),
    ))
}
