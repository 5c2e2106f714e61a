use std::fmt;

use super::{find_forbidden_in_line, ValidationError};

/// An email address as used for identity: trimmed and lower-cased, so one
/// person is one commenter however they type it.
#[derive(Clone, PartialEq, Eq, Hash, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Email(String);

impl Email {
    /// Accepts the usual `local@domain.tld` shape (including non-ASCII
    /// letters), not every form RFC 5322 allows: quoted local parts and IP
    /// literals are refused, as comment forms never need them.
    pub fn parse(
        raw: &str,
        max_bytes: usize,
        field: &'static str,
    ) -> Result<Email, ValidationError> {
        let err = |msg: &str| ValidationError::new(field, msg);
        // Lower-case first and check what is kept: lower-casing can lengthen
        // a string ('İ' becomes 'i' and a combining dot) and bring in
        // characters the rules below refuse, so checking the raw input
        // would let through a value that is over the limit or that a
        // second parse refuses.
        let lowered = raw.trim().to_lowercase();
        let value = lowered.as_str();
        if value.is_empty() {
            return Err(err("is required"));
        }
        if value.len() > max_bytes {
            return Err(err(&format!("must be at most {max_bytes} bytes")));
        }
        if find_forbidden_in_line(value).is_some() || value.chars().any(char::is_whitespace) {
            return Err(err("must not contain spaces or control characters"));
        }
        let (local, domain) = value
            .rsplit_once('@')
            .ok_or_else(|| err("must be an email address like name@example.com"))?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                !matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']'
                )
            });
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(err("must be an email address like name@example.com"));
        }
        Ok(Email(lowered))
    }

    /// An account's email as this server stored it, parsed when it was
    /// stored.
    pub fn from_stored(stored: &str) -> Self {
        Email(stored.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Emails are personal data: logs show only the domain.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        write!(f, "Email(***@{domain})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Email, ValidationError> {
        Email::parse(s, 100, "email")
    }

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        assert_eq!(
            parse("  Ada.Lovelace@Example.ORG ").unwrap().as_str(),
            "ada.lovelace@example.org"
        );
        assert!(parse("a+tag@sub.example.co.uk").is_ok());
        assert!(parse("jürgen@bücher.de").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            ".a@b.com",
            "a..b@c.com",
            "a@b.c\u{0}m",
            "<a>@b.com",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn checks_the_lower_cased_form_that_is_kept() {
        // 'İ' (2 bytes) lower-cases to 'i' + U+0307 (3 bytes): 34 of them
        // are 68 bytes as typed, 102 once lower-cased.
        let grows = format!("{}@b.co", "İ".repeat(34));
        assert!(grows.len() <= 100);
        let err = parse(&grows).unwrap_err();
        assert!(err.message.contains("at most 100 bytes"), "{err}");
        // The combining dot is not a letter, so such a domain is refused
        // rather than stored in a form a second parse would refuse.
        assert!(parse("a@İ.com").is_err());
        let kept = parse("Ünïcode@Bücher.DE").unwrap();
        assert_eq!(kept.as_str(), "ünïcode@bücher.de");
        assert!(parse(kept.as_str()).unwrap() == kept);
    }

    #[test]
    fn enforces_the_byte_limit_and_names_the_field() {
        let long = format!("{}@example.com", "a".repeat(60));
        let err = Email::parse(&long, 40, "author.email").unwrap_err();
        assert_eq!(err.field, "author.email");
        assert!(err.message.contains("40"));
    }

    #[test]
    fn debug_output_hides_the_local_part() {
        let e = parse("secret.person@example.com").unwrap();
        let shown = format!("{e:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("example.com"));
    }
}
