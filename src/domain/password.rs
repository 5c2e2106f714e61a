use std::fmt;

use super::ValidationError;

/// A password as typed. Never printed: `Debug` shows only its length class.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Length is the only rule (NIST SP 800-63B): at least `min_chars`
    /// characters, and at most `max_bytes` bytes to bound the work a request
    /// can cause.
    pub fn parse(raw: String, min_chars: usize, max_bytes: usize) -> Result<Self, ValidationError> {
        if raw.chars().count() < min_chars {
            return Err(ValidationError::new(
                "password",
                format!("must be at least {min_chars} characters"),
            ));
        }
        if raw.len() > max_bytes {
            return Err(ValidationError::new(
                "password",
                format!("must be at most {max_bytes} bytes"),
            ));
        }
        Ok(Password(raw))
    }

    /// For login: any length is checked against the stored hash (the length
    /// rules are for new passwords), but the upper bound still applies.
    pub fn for_login(raw: String, max_bytes: usize) -> Result<Self, ValidationError> {
        Self::parse(raw, 0, max_bytes)
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(Password::parse("short".into(), 8, 64).is_err());
        assert!(Password::parse("long enough".into(), 8, 64).is_ok());
        assert!(Password::parse("x".repeat(65), 8, 64).is_err());
        assert!(Password::for_login("x".into(), 64).is_ok());
    }

    #[test]
    fn never_printed() {
        let p = Password::parse("hunter2hunter2".into(), 8, 64).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
