//! Free-text fields: names, titles and comment bodies.

use super::{find_forbidden_in_line, ValidationError};

/// A person's display name: one line, trimmed, not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorName(String);

impl AuthorName {
    pub fn parse(
        raw: &str,
        max_bytes: usize,
        field: &'static str,
    ) -> Result<Self, ValidationError> {
        single_line(raw, max_bytes, field).map(AuthorName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An article title: one line, trimmed, not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_BYTES: usize = 500;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, ValidationError> {
        single_line(raw, Self::MAX_BYTES, field).map(Title)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn single_line(
    raw: &str,
    max_bytes: usize,
    field: &'static str,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if value.len() > max_bytes {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_bytes} bytes"),
        ));
    }
    // Names and titles are plain text that pages show beside comments; a
    // page that forgets to escape them must still not run markup from them.
    if value.contains(['<', '>']) {
        return Err(ValidationError::new(field, "must not contain < or >"));
    }
    if let Some(c) = find_forbidden_in_line(value) {
        return Err(ValidationError::new(
            field,
            format!(
                "must not contain control or text-direction characters (found U+{:04X})",
                c as u32
            ),
        ));
    }
    Ok(value.to_string())
}

/// A comment's markdown source. Kept exactly as written (no trimming inside,
/// so code blocks survive), but it must have visible content and no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(raw: &str, max_bytes: usize) -> Result<Self, ValidationError> {
        const FIELD: &str = "body";
        if raw.len() > max_bytes {
            return Err(ValidationError::new(
                FIELD,
                format!("must be at most {max_bytes} bytes"),
            ));
        }
        if raw.contains('\0') {
            return Err(ValidationError::new(
                FIELD,
                "must not contain NUL characters",
            ));
        }
        let visible = raw.chars().any(|c| {
            !c.is_whitespace() && !matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        });
        if !visible {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        // Surrounding blank lines carry no meaning in markdown; dropping them
        // keeps duplicates detectable and storage tidy.
        Ok(CommentBody(
            raw.trim_matches(|c| c == '\n' || c == '\r').to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            AuthorName::parse("  Ada  ", 10, "name").unwrap().as_str(),
            "Ada"
        );
        assert!(AuthorName::parse("", 10, "name").is_err());
        assert!(AuthorName::parse("   ", 10, "name").is_err());
        assert!(AuthorName::parse("abcdefghijk", 10, "name").is_err());
        // Multi-byte characters count in bytes, as the limit says.
        assert!(AuthorName::parse("ééééé", 10, "name").is_ok());
        assert!(AuthorName::parse("éééééé", 10, "name").is_err());
    }

    #[test]
    fn names_refuse_markup_characters() {
        assert!(AuthorName::parse("<script>alert(1)</script>", 50, "name").is_err());
        assert!(AuthorName::parse("a<b", 50, "name").is_err());
        assert!(Title::parse("<img src=x onerror=alert(1)>", "title").is_err());
        assert!(AuthorName::parse("O'Brien & \"Sons\"", 50, "name").is_ok());
    }

    #[test]
    fn names_refuse_controls_and_direction_overrides() {
        assert!(AuthorName::parse("Ada\u{202E}nimda", 50, "name").is_err());
        assert!(AuthorName::parse("Ada\nLovelace", 50, "name").is_err());
        assert!(AuthorName::parse("Ada\0", 50, "name").is_err());
        // Ordinary right-to-left text and emoji are names like any other.
        assert!(AuthorName::parse("مريم", 50, "name").is_ok());
        assert!(AuthorName::parse("Zoë 🦀", 50, "name").is_ok());
    }

    #[test]
    fn bodies_keep_their_inner_text_exactly() {
        let md = "line one\n\n    code block\n\n'; DROP TABLE comments; --";
        assert_eq!(CommentBody::parse(md, 1000).unwrap().as_str(), md);
        assert_eq!(CommentBody::parse("\n\nhi\n", 1000).unwrap().as_str(), "hi");
    }

    #[test]
    fn bodies_must_have_visible_content() {
        assert!(CommentBody::parse("", 100).is_err());
        assert!(CommentBody::parse(" \n\t ", 100).is_err());
        assert!(CommentBody::parse("\u{200B}\u{FEFF}", 100).is_err());
        assert!(CommentBody::parse("a\0b", 100).is_err());
        assert!(CommentBody::parse(&"x".repeat(101), 100).is_err());
    }
}
