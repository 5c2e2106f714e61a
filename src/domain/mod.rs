//! Validated values. Request bodies are parsed into these types once, at the
//! edge; code past the edge cannot hold an invalid email, an empty comment or
//! a `javascript:` author URL.

mod article_key;
mod email;
mod enums;
mod password;
mod text;
mod web_url;

pub use article_key::ArticleKey;
pub use email::Email;
pub use enums::{CommentStatus, Role, UnknownVariant};
pub use password::Password;
pub use text::{AuthorName, CommentBody, Title};
pub use web_url::WebUrl;

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

/// The first character that has no place in a single-line field, if any.
fn find_forbidden_in_line(s: &str) -> Option<char> {
    s.chars().find(|c| forbidden_in_line(*c))
}
