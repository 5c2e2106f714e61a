use super::{find_forbidden_in_line, ValidationError};

/// The blog's own identifier for an article: its slug or path, e.g.
/// `2024/hello-world` or `/posts/hello/`. Compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArticleKey(String);

impl ArticleKey {
    pub const MAX_BYTES: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "key";
        if raw.is_empty() || raw.trim().is_empty() {
            return Err(ValidationError::new(FIELD, "article key must not be empty"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(
                FIELD,
                format!("article key must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        if find_forbidden_in_line(raw).is_some() {
            return Err(ValidationError::new(
                FIELD,
                "article key must not contain control characters",
            ));
        }
        Ok(ArticleKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_kept_exactly() {
        assert_eq!(
            ArticleKey::parse("/posts/hello/").unwrap().as_str(),
            "/posts/hello/"
        );
        assert_eq!(ArticleKey::parse("über-uns").unwrap().as_str(), "über-uns");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(ArticleKey::parse("").is_err());
        assert!(ArticleKey::parse("  ").is_err());
        assert!(ArticleKey::parse("a\nb").is_err());
        assert!(ArticleKey::parse(&"k".repeat(256)).is_err());
    }
}
