//! Validated values. Request bodies are parsed into these types once, at the
//! edge; code past the edge cannot hold an invalid email, an empty comment or
//! a `javascript:` author URL.

mod article_key;
mod counts;
mod email;
mod enums;
mod ids;
mod page;
mod password;
mod text;
mod time;
mod web_url;

pub use article_key::ArticleKey;
pub use counts::StatusCounts;
pub use email::Email;
pub use enums::{
    BanKind, CommentStatus, LogAction, Role, UnknownVariant, Verdict, WordKind, WordList,
};
pub use ids::{ArticleId, BanId, CommentId, LogEntryId, SessionId, UserId, WordId};
pub use page::{Page, PageRequest, PageSizes, SortOrder};
pub use password::Password;
pub use text::{AuthorName, CommentBody, Fingerprint, Title};
pub use time::{now_millis, timestamp};
pub use web_url::WebUrl;

/// Validated text types are written to the database as their text, so
/// insert and update forms hold them instead of plain strings. (Rows read
/// back hold `String`: what is stored was validated on the way in.)
macro_rules! written_as_text {
    ($($name:ty),+) => {$(
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }
    )+};
}

written_as_text!(Email, WebUrl, AuthorName, CommentBody);

/// Why a field was refused; `field` names it as the client sent it
/// (e.g. `author.email`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            field,
            message: message.into(),
        }
    }
}

/// Characters refused in every single-line field: controls (including NUL,
/// which PostgreSQL cannot store in text) and the bidirectional overrides
/// and isolates that make a name read differently from what it is.
fn forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing (or nothing but a gap) on their own: soft
/// hyphen, zero-width spaces and joiners, direction marks, word joiners,
/// the byte-order mark, Hangul and Braille blanks, variation selectors,
/// tag characters and other default-ignorable code points.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// The first character that has no place in a single-line field, if any.
fn find_forbidden_in_line(s: &str) -> Option<char> {
    s.chars().find(|c| forbidden_in_line(*c))
}
