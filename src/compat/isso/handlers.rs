//! The handlers: each reads Isso's request, calls the same service the JSON
//! API calls, and answers in Isso's shape.

use std::collections::HashMap;

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::feed::Feed;
use super::nesting::{self, Sort, ThreadQuery};
use super::views::{ClientConfig, IssoComment, Latest, Shaper, ThreadAnswer, VoteAnswer};
use super::{cookies, uri};
use crate::api::client::client_info;
use crate::api::json::holds_nul;
use crate::cache::{Page as CachedPage, PageKey, PageOf};
use crate::comments::votes::{self, Refusal, Tally, Voter};
use crate::comments::{
    self, outline, ArticleHint, CommentError, EditAuth, GuestAuthor, Submission, MAX_COUNT_KEYS,
};
use crate::db;
use crate::db::models::Comment;
use crate::domain::{ArticleKey, CommentId, CommentStatus};
use crate::error::ApiError;
use crate::services::Services;

type Answer = Result<HttpResponse, ApiError>;

/// A service's refusal, under the statuses Isso's client knows: 400 for
/// bad input (the JSON API's 422), 403 where the JSON API asks to sign in
/// (guests turned away).
fn refused(e: CommentError) -> ApiError {
    let error = ApiError::from(e);
    match actix_web::ResponseError::status_code(&error) {
        StatusCode::UNPROCESSABLE_ENTITY => error.with_status(StatusCode::BAD_REQUEST),
        StatusCode::UNAUTHORIZED => error.with_status(StatusCode::FORBIDDEN),
        _ => error,
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// The query string's parameters; the first of a repeated one counts.
fn query(req: &HttpRequest) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

/// The article the request's `uri` names (see `uri.rs`).
fn article_key(params: &HashMap<String, String>) -> Result<ArticleKey, ApiError> {
    let raw = params
        .get("uri")
        .ok_or_else(|| bad_request("missing uri query"))?;
    uri::article_key(raw).map_err(|e| bad_request(e.to_string()))
}

/// An optional whole number of the query; `what` says what it must be.
fn number<T: std::str::FromStr>(
    params: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| bad_request(format!("{name} should be {what}")))
        })
        .transpose()
}

/// Isso refuses changes from HTML forms (which cannot send JSON) as
/// forged; here every change must say JSON, as Isso's client always does,
/// since a request without a content type is not a form's either but can
/// still be sent across sites without asking.
fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "csrf",
            "changes must be sent with Content-Type: application/json",
        ))
    }
}

fn json(body: &Bytes) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| bad_request("the body is not UTF-8"))?;
    if holds_nul(text) {
        return Err(bad_request("text must not contain NUL characters"));
    }
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}")))
}

fn object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match json(body)? {
        Value::Object(fields) => Ok(fields),
        _ => Err(bad_request("the body must be a JSON object")),
    }
}

/// A field that must be a string or null when given.
fn text_field(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_request(format!("{name} must be a string or null"))),
    }
}

fn edit_window_ms(state: &Services) -> i64 {
    i64::try_from(state.settings.comments.edit_window.as_millis()).unwrap_or(i64::MAX)
}

fn shaper(state: &Services, plain: bool) -> Shaper<'_> {
    Shaper {
        avatars: &state.avatars,
        settings: &state.settings,
        plain,
    }
}

/// A guest's edit proof: the token in their edit cookie for `id`.
fn edit_proof(req: &HttpRequest, state: &Services, id: CommentId) -> Option<String> {
    cookies::edit_token(req, state, id, db::now_millis())
}

/// `GET /config`.
pub async fn config(state: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "config": ClientConfig::of(&state.settings) }))
}

/// `GET /?uri=...`: the thread, Isso's way.
pub async fn thread(req: HttpRequest, state: web::Data<Services>) -> Answer {
    let params = query(&req);
    let key = article_key(&params)?;
    let sort = match params.get("sort").map(String::as_str) {
        None | Some("") | Some("oldest") => Sort::Oldest,
        Some("newest") => Sort::Newest,
        Some("upvotes") => Sort::Upvotes,
        Some(_) => {
            return Err(bad_request(
                "Invalid sort option. Must be one of: 'newest', 'oldest', 'upvotes'",
            ))
        }
    };
    let after_ms = number::<f64>(&params, "after", "a number")?
        .filter(|s| s.is_finite())
        .map(|seconds| (seconds * 1000.0) as i64);
    // Isso's client asks for every top-level comment unless the page says
    // otherwise; a page holds at most comments.max_page_size of them, and
    // of replies under each, and the client offers the rest through its
    // "N Hidden" link (hidden_replies).
    let most = usize::try_from(state.settings.comments.max_page_size).unwrap_or(usize::MAX);
    let bounded = |n: Option<usize>| Some(n.unwrap_or(most).min(most));
    let query = ThreadQuery {
        parent: number::<i64>(&params, "parent", "integer")?.map(CommentId),
        sort,
        limit: bounded(number::<usize>(&params, "limit", "a whole number")?),
        offset: number::<usize>(&params, "offset", "a whole number")?.unwrap_or(0),
        nested_limit: bounded(number::<usize>(&params, "nested_limit", "a whole number")?),
        after_ms,
    };
    let plain = params.get("plain").is_some_and(|p| p != "0");
    // Cached beside the JSON API's pages of the same article, and dropped
    // with them whenever the thread changes (votes included): the answer
    // depends on nothing else than the stored thread and this query.
    let page = PageKey {
        article: key.as_str().to_string(),
        page: PageOf::Named(format!("isso:{query:?}:{plain}").into()),
    };
    let body = state
        .cache
        .page_or_fill(&page, db::now_millis(), || {
            let (state, key) = (state.clone(), key.clone());
            async move {
                let answer = thread_answer(&state, key, query, plain).await?;
                let body = serde_json::to_vec(&answer)
                    .map_err(|e| refused(CommentError::Internal(e.to_string())))?;
                Ok::<_, ApiError>(CachedPage {
                    body: Bytes::from(body),
                    valid_until: None,
                })
            }
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// A thread as Isso shows it, read from the database.
async fn thread_answer(
    state: &Services,
    key: ArticleKey,
    query: ThreadQuery,
    plain: bool,
) -> Result<ThreadAnswer, ApiError> {
    let config = ClientConfig::of(&state.settings);
    let Some(outline) = outline::outline(&state.db, key).await.map_err(refused)? else {
        return Ok(ThreadAnswer {
            id: query.parent,
            total_replies: 0,
            hidden_replies: 0,
            replies: Vec::new(),
            config,
        });
    };
    let all_tallies = if query.sort == Sort::Upvotes {
        Some(
            votes::tallies_of_article(&state.db, outline.article.id)
                .await
                .map_err(refused)?,
        )
    } else {
        None
    };
    let karma = all_tallies
        .as_ref()
        .map(|t| t.iter().map(|(id, tally)| (*id, tally.karma())).collect())
        .unwrap_or_default();
    let arranged = nesting::arrange(&outline.entries, &query, &karma);
    let ids = arranged.ids();
    let rows = outline::shown_comments(&state.db, outline.article.id, ids.clone())
        .await
        .map_err(refused)?;
    let tallies = match all_tallies {
        Some(all) => all,
        None => votes::tallies(&state.db, ids).await.map_err(refused)?,
    };
    let rows: HashMap<CommentId, Comment> = rows.into_iter().map(|c| (c.id, c)).collect();
    let shaper = shaper(state, plain);
    let shape = |listed: &nesting::Listed| -> Option<IssoComment> {
        let row = rows.get(&listed.id)?;
        let tally = tallies.get(&listed.id).copied().unwrap_or_default();
        Some(shaper.comment(row, listed.parent, tally))
    };
    let replies = arranged
        .listed
        .iter()
        .filter_map(|listed| {
            let mut comment = shape(listed)?;
            if let Some(under) = &listed.replies {
                comment.total_replies = Some(under.total);
                comment.hidden_replies = Some(under.hidden);
                comment.replies = Some(under.listed.iter().filter_map(&shape).collect());
            }
            Some(comment)
        })
        .collect();
    Ok(ThreadAnswer {
        id: arranged.root,
        total_replies: arranged.total,
        hidden_replies: arranged.hidden,
        replies,
        config,
    })
}

/// Isso takes `example.com/me` for a website and makes it
/// `http://example.com/me`; the rules of the JSON API apply after that.
fn website(raw: Option<String>) -> Option<String> {
    let raw = raw?.trim().to_string();
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Some(raw)
    } else {
        Some(format!("http://{raw}"))
    }
}

/// The page's URL, for the article a first comment creates: the request's
/// origin followed by the thread's path. Kept only when that origin is the
/// blog's, as with the JSON API's `article.url`.
fn page_url(req: &HttpRequest, key: &ArticleKey) -> Option<String> {
    if !key.as_str().starts_with('/') {
        return None;
    }
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
    let parsed = url::Url::parse(origin).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    Some(format!(
        "{}{}",
        parsed.origin().ascii_serialization(),
        key.as_str()
    ))
}

/// `POST /new?uri=...`: 201 with the comment when it is published, 202
/// when it waits for a moderator; both edit cookies.
pub async fn create(req: HttpRequest, state: web::Data<Services>, body: Bytes) -> Answer {
    require_json(&req)?;
    let params = query(&req);
    let key = article_key(&params)?;
    let mut fields = object(&body)?;
    let honeypot = match &state.spam.honeypot_field {
        Some(name) => fields.remove(name).and_then(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }),
        None => None,
    };
    let text = match fields.get("text") {
        Some(Value::String(text)) => text.clone(),
        None | Some(Value::Null) => return Err(bad_request("text is missing")),
        Some(_) => return Err(bad_request("text must be a string")),
    };
    let parent = match fields.get("parent") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            // Isso's client sends no parent as null; 0 has meant none too.
            Some(0) => None,
            Some(id) => Some(CommentId(id)),
            None => return Err(bad_request("parent must be an integer or null")),
        },
        Some(_) => return Err(bad_request("parent must be an integer or null")),
    };
    let author = text_field(&fields, "author")?;
    let email = text_field(&fields, "email")?;
    let url = website(text_field(&fields, "website")?);
    let title = text_field(&fields, "title")?;
    let client = client_info(&req, &state);

    if let (Some(parent), false) = (parent, state.settings.isso.reply_to_self) {
        let token = edit_proof(&req, &state, parent);
        let auth = EditAuth {
            viewer: None,
            edit_token: token.as_deref(),
        };
        match comments::authorship(&state, auth, parent, client.ip).await {
            Ok(whose) if whose.by_caller && whose.editable => {
                return Err(ApiError::forbidden(
                    "reply_to_self",
                    "you may reply to your own comment once you can no longer edit it",
                ))
            }
            // An unknown parent is the submission's to refuse.
            Ok(_) | Err(CommentError::NotFound) => {}
            Err(other) => return Err(refused(other)),
        }
    }

    let submission = Submission {
        body: text,
        parent_id: parent,
        author: Some(GuestAuthor {
            name: author,
            email,
            url,
            token: None,
        }),
        article: Some(ArticleHint {
            title,
            url: page_url(&req, &key),
        }),
        honeypot,
    };
    let submitted = comments::submit(&state, None, key, submission, client)
        .await
        .map_err(refused)?;
    let comment = &submitted.comment;
    let view = shaper(&state, false).comment(comment, comment.parent_id, Tally::default());
    let mut answer = if comment.status == CommentStatus::Approved {
        HttpResponse::Created()
    } else {
        HttpResponse::Accepted()
    };
    cookies::set(
        &mut answer,
        &state,
        comment.id,
        submitted.edit_token.as_deref(),
        comment.created_at.saturating_add(edit_window_ms(&state)),
        db::now_millis(),
    );
    Ok(answer.json(view))
}

/// One comment as its author sees it, with its tally.
async fn authors_view(
    state: &Services,
    comment: &Comment,
    plain: bool,
) -> Result<IssoComment, ApiError> {
    let tally = votes::tallies(&state.db, vec![comment.id])
        .await
        .map_err(refused)?
        .remove(&comment.id)
        .unwrap_or_default();
    Ok(shaper(state, plain).comment(comment, comment.parent_id, tally))
}

/// `GET /id/{id}`: a comment its author holds the edit cookie of (the
/// client reads the markdown back with `plain=1` to edit it).
pub async fn view(req: HttpRequest, state: web::Data<Services>, id: web::Path<i64>) -> Answer {
    let id = CommentId(id.into_inner());
    let plain = query(&req).get("plain").is_some_and(|p| p != "0");
    let token = edit_proof(&req, &state, id);
    let auth = EditAuth {
        viewer: None,
        edit_token: token.as_deref(),
    };
    let comment = comments::own(&state, auth, id)
        .await
        .map_err(refused)?
        .comment;
    let view = authors_view(&state, &comment, plain).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `PUT /id/{id}` `{"text": ...}`: an edit, with the edit cookie. Isso's
/// `author` and `website` are not changed by an edit here.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<Services>,
    id: web::Path<i64>,
    body: Bytes,
) -> Answer {
    require_json(&req)?;
    let id = CommentId(id.into_inner());
    let fields = object(&body)?;
    let text = match fields.get("text") {
        Some(Value::String(text)) => text.clone(),
        _ => return Err(bad_request("text is missing")),
    };
    let token = edit_proof(&req, &state, id);
    let auth = EditAuth {
        viewer: None,
        edit_token: token.as_deref(),
    };
    let client = client_info(&req, &state);
    let edited = comments::edit(&state, auth, id, &text, client)
        .await
        .map_err(refused)?;
    let view = authors_view(&state, &edited.comment, false).await?;
    let mut answer = HttpResponse::Ok();
    cookies::set(
        &mut answer,
        &state,
        id,
        token.as_deref(),
        edited
            .comment
            .created_at
            .saturating_add(edit_window_ms(&state)),
        db::now_millis(),
    );
    Ok(answer.json(view))
}

/// `DELETE /id/{id}`: `null` when the comment is gone, or the comment as a
/// placeholder (mode 4) while a reply to it is shown; both cookies expire.
pub async fn delete(req: HttpRequest, state: web::Data<Services>, id: web::Path<i64>) -> Answer {
    require_json(&req)?;
    let id = CommentId(id.into_inner());
    let token = edit_proof(&req, &state, id);
    let auth = EditAuth {
        viewer: None,
        edit_token: token.as_deref(),
    };
    comments::delete(&state, auth, id).await.map_err(refused)?;
    let kept = outline::placeholder(&state.db, id)
        .await
        .map_err(refused)?
        .map(|c| shaper(&state, false).comment(&c, c.parent_id, Tally::default()));
    let mut answer = HttpResponse::Ok();
    cookies::clear(&mut answer, &state, id);
    Ok(answer.json(kept))
}

/// `POST /id/{id}/like`.
pub async fn like(req: HttpRequest, state: web::Data<Services>, id: web::Path<i64>) -> Answer {
    cast(req, state, CommentId(id.into_inner()), true).await
}

/// `POST /id/{id}/dislike`.
pub async fn dislike(req: HttpRequest, state: web::Data<Services>, id: web::Path<i64>) -> Answer {
    cast(req, state, CommentId(id.into_inner()), false).await
}

/// A vote from the client's address; one that does not count still
/// answers 200 with the tally, as Isso does.
async fn cast(req: HttpRequest, state: web::Data<Services>, id: CommentId, like: bool) -> Answer {
    require_json(&req)?;
    if !state.settings.isso.vote {
        return Err(ApiError::forbidden("votes_off", "this site takes no votes"));
    }
    let ip = client_info(&req, &state)
        .ip
        .ok_or_else(|| bad_request("the client's address is unknown"))?;
    let token = edit_proof(&req, &state, id);
    let auth = EditAuth {
        viewer: None,
        edit_token: token.as_deref(),
    };
    let voted = votes::vote(&state, id, Voter::Address(ip), like, auth)
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(VoteAnswer {
        likes: voted.tally.likes,
        dislikes: voted.tally.dislikes,
        message: voted.refused.map(|why| match why {
            Refusal::OwnComment => "you cannot vote on your own comment",
            Refusal::AlreadyVoted => "a vote from this address was counted already",
        }),
    }))
}

/// `POST /preview` `{"text": ...}`: the markdown rendered and sanitized as
/// a comment would be.
pub async fn preview(state: web::Data<Services>, body: Bytes) -> Answer {
    let fields = object(&body)?;
    let Some(Value::String(text)) = fields.get("text") else {
        return Err(bad_request("no text given"));
    };
    let html = comments::preview(&state, text).await.map_err(refused)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "text": html })))
}

/// `POST /count` `["/a/", "/b/"]`: published comments per thread, in the
/// order asked (a uri that names no possible thread counts 0).
pub async fn count(state: web::Data<Services>, body: Bytes) -> Answer {
    let Value::Array(uris) = json(&body)? else {
        return Err(bad_request("JSON must be a list of URLs"));
    };
    let mut keys: Vec<Option<String>> = Vec::with_capacity(uris.len());
    for value in uris {
        let Value::String(uri) = value else {
            return Err(bad_request("JSON must be a list of URLs"));
        };
        keys.push(uri::article_key(&uri).ok().map(|k| k.as_str().to_string()));
    }
    let mut distinct: Vec<String> = keys.iter().flatten().cloned().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > MAX_COUNT_KEYS {
        return Err(bad_request(format!(
            "at most {MAX_COUNT_KEYS} threads per request"
        )));
    }
    let counts = if distinct.is_empty() {
        HashMap::new()
    } else {
        comments::counts(&state.db, &state.cache, distinct)
            .await
            .map_err(refused)?
    };
    let answer: Vec<i64> = keys
        .iter()
        .map(|key| {
            key.as_ref()
                .and_then(|k| counts.get(k).copied())
                .unwrap_or(0)
        })
        .collect();
    Ok(HttpResponse::Ok().json(answer))
}

/// `GET /feed?uri=...`: the thread's Atom feed, when `isso.feed_base` is
/// set.
pub async fn feed(req: HttpRequest, state: web::Data<Services>) -> Answer {
    let isso = &state.settings.isso;
    let Some(base) = isso.feed_base() else {
        return Err(ApiError::not_found(
            "feed_off",
            "this site has no comment feeds (isso.feed_base)",
        ));
    };
    let params = query(&req);
    let key = article_key(&params)?;
    let limit = number::<u32>(&params, "limit", "a whole number")?
        .unwrap_or(isso.feed_limit)
        .clamp(1, isso.feed_limit);
    let found = outline::newest(&state.db, key.clone(), limit)
        .await
        .map_err(refused)?;
    let (article, comments) = match &found {
        Some((article, comments)) => (Some(article), comments.as_slice()),
        None => (None, &[][..]),
    };
    let xml = Feed {
        base,
        key: key.as_str(),
        article,
        comments,
    }
    .to_xml();
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(xml))
}

/// `GET /latest?limit=N`: the newest published comments of every thread,
/// oldest of them first as Isso lists them, each with its thread's `uri`;
/// when `isso.latest` is on.
pub async fn latest(req: HttpRequest, state: web::Data<Services>) -> Answer {
    if !state.settings.isso.latest {
        return Err(ApiError::not_found(
            "latest_off",
            "this site does not list its latest comments (isso.latest)",
        ));
    }
    let limit = number::<u32>(&query(&req), "limit", "a whole number above 0")?
        .filter(|n| *n > 0)
        .ok_or_else(|| bad_request("Query parameter 'limit' is mandatory (integer, >0)"))?
        .min(state.settings.comments.max_page_size);
    let mut newest = outline::newest_anywhere(&state.db, limit)
        .await
        .map_err(refused)?;
    newest.reverse();
    let tallies = votes::tallies(&state.db, newest.iter().map(|(c, _)| c.id).collect())
        .await
        .map_err(refused)?;
    let shaper = shaper(&state, false);
    let answer: Vec<Latest> = newest
        .iter()
        .map(|(comment, key)| Latest {
            comment: shaper.comment(
                comment,
                comment.parent_id,
                tallies.get(&comment.id).copied().unwrap_or_default(),
            ),
            uri: key.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(answer))
}
