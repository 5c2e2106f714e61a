//! Row types (what a SELECT returns) and insert forms (what an INSERT takes),
//! kept apart as rows carry database-assigned columns that forms must not.

use diesel::prelude::*;

use super::schema::{articles, comments, sessions, users};
use crate::domain::{
    ArticleId, AuthorName, CommentBody, CommentId, CommentStatus, Email, Role, SessionId, UserId,
    Verdict, WebUrl,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub trusted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub trusted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: UserId,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: ArticleId,
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub comments_open: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle<'a> {
    pub key: &'a str,
    pub title: Option<&'a str>,
    pub url: Option<&'a str>,
    pub comments_open: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Changes to an article; `None` leaves a column as it is, `Some(None)`
/// clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = articles)]
pub struct ArticleUpdate {
    pub title: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub comments_open: Option<bool>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: CommentId,
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub user_id: Option<UserId>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: String,
    pub html: String,
    pub status: CommentStatus,
    pub edit_token_hash: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub status_changed_at: i64,
    pub version: i64,
    pub spam_score: Option<f64>,
    pub spam_report: Option<String>,
    pub verdict: Option<Verdict>,
    pub learned_text: Option<String>,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment {
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub user_id: Option<UserId>,
    pub author_name: AuthorName,
    pub author_email: Option<Email>,
    pub author_url: Option<WebUrl>,
    pub body: CommentBody,
    pub html: String,
    pub status: CommentStatus,
    pub edit_token_hash: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub created_at: i64,
    pub status_changed_at: i64,
    pub spam_score: Option<f64>,
    pub spam_report: Option<String>,
    pub fingerprint: Option<String>,
}
