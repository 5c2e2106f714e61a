use super::{find_forbidden_in_line, ValidationError};

/// An absolute `http` or `https` URL, as given by a commenter for their
/// website or by an admin for an article. Any other scheme (`javascript:`,
/// `data:`, `file:`) is refused, so the value is safe in an `href`.
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse(
        raw: &str,
        max_bytes: usize,
        field: &'static str,
    ) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if value.len() > max_bytes {
            return Err(ValidationError::new(
                field,
                format!("must be at most {max_bytes} bytes"),
            ));
        }
        if find_forbidden_in_line(value).is_some() {
            return Err(ValidationError::new(
                field,
                "must not contain control characters",
            ));
        }
        let parsed = url::Url::parse(value).map_err(|_| {
            ValidationError::new(field, "must be an absolute http:// or https:// URL")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ValidationError::new(
                field,
                "must be an absolute http:// or https:// URL",
            ));
        }
        if parsed.password().is_some() || !parsed.username().is_empty() {
            return Err(ValidationError::new(
                field,
                "must not contain a user name or password",
            ));
        }
        // The normalised form: punycode host, escaped path. It can be longer
        // than what was typed, so the limit is checked again.
        let normalised = parsed.to_string();
        if normalised.len() > max_bytes {
            return Err(ValidationError::new(
                field,
                format!("must be at most {max_bytes} bytes"),
            ));
        }
        Ok(WebUrl(normalised))
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
    fn accepts_web_urls() {
        assert_eq!(
            WebUrl::parse(" https://example.com/a?b=c ", 200, "url")
                .unwrap()
                .as_str(),
            "https://example.com/a?b=c"
        );
        assert!(WebUrl::parse("http://blog.example.org", 200, "url").is_ok());
    }

    #[test]
    fn refuses_dangerous_and_malformed_urls() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "//example.com",
            "example.com",
            "https://user:pw@example.com",
            "http://exa mple.com",
            "https://example.com/\u{0}",
        ] {
            assert!(
                WebUrl::parse(bad, 200, "url").is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn enforces_the_limit() {
        let long = format!("https://example.com/{}", "a".repeat(200));
        assert!(WebUrl::parse(&long, 200, "url").is_err());
    }
}
