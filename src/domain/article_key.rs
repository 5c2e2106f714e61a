use super::{is_invisible, ValidationError};

/// The blog's own identifier for an article: its slug or path, e.g.
/// `2024/hello-world` or `/posts/hello/`. Compared exactly.
///
/// What a URL path may hold and nothing more: ASCII letters, digits and
/// the URL punctuation below, and letters, digits and marks of any script
/// (`über-uns`, `博客`). No spaces, controls, invisible characters or the
/// characters markup is made of, since keys are echoed into pages.
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
        if let Some(c) = raw.chars().find(|c| !allowed(*c)) {
            return Err(ValidationError::new(
                FIELD,
                format!(
                    "article key may hold letters, digits and - . _ ~ / : @ ! $ & ( ) * + , ; = % # ? [ ] only (found U+{:04X})",
                    c as u32
                ),
            ));
        }
        Ok(ArticleKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn allowed(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || "-._~/:@!$&()*+,;=%#?[]".contains(c);
    }
    !is_invisible(c) && (c.is_alphanumeric() || is_mark(c))
}

/// Combining marks (Unicode category M), which many scripts write words
/// with; `char` has no direct test for them.
fn is_mark(c: char) -> bool {
    use unicode_normalization::char::is_combining_mark;
    is_combining_mark(c)
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
        for bad in [
            "<script>",
            "a b",
            "a\"b",
            "a'b",
            "a`b",
            "a\\b",
            "a{b}",
            "a|b",
            "a\u{200B}b",
            "a\u{202E}b",
            "a\u{0}b",
            "a\u{3000}b",
        ] {
            assert!(ArticleKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_and_slugs_of_any_script_are_keys() {
        for good in [
            "/2024/01/hello-world/",
            "post?id=7&lang=en",
            "https://blog.example/p/1#comments",
            "/wiki/%C3%BCber",
            "café-au-lait",
            "/博客/第一篇",
            "हिन्दी-लेख",
        ] {
            assert!(ArticleKey::parse(good).is_ok(), "{good:?}");
        }
    }
}
