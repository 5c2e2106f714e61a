//! Free-text fields: names, titles and comment bodies.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use super::{find_forbidden_in_line, is_invisible, ValidationError};

/// A person's display name: one line in Unicode NFC, runs of spaces made
/// one, trimmed, with something visible in it and nothing invisible that
/// could make it pass for another name (`Ad\u{200B}min`).
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct AuthorName(String);

impl AuthorName {
    pub fn parse(
        raw: &str,
        max_bytes: usize,
        field: &'static str,
    ) -> Result<Self, ValidationError> {
        let normal: String = raw.nfc().collect();
        let name = single_line(&collapse_spaces(&normal), max_bytes, field)?;
        check_visible(&name, field)?;
        Ok(AuthorName(name))
    }

    /// The name shown for a guest who gave none.
    pub fn anonymous() -> Self {
        AuthorName("Anonymous".to_string())
    }

    /// An account's name as this server stored it, parsed when it was
    /// stored.
    pub fn from_stored(stored: &str) -> Self {
        AuthorName(stored.to_string())
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

/// Every run of white space (of any kind: no-break, ideographic, ...)
/// becomes one ASCII space.
fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() && !c.is_control() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Refuses invisible characters, except where writing needs them: the
/// zero-width (non-)joiner between two non-ASCII characters (Persian and
/// Indic names, emoji sequences) and an emoji variation selector after a
/// non-ASCII character. Refuses a name with nothing visible left.
fn check_visible(name: &str, field: &'static str) -> Result<(), ValidationError> {
    let chars: Vec<char> = name.chars().collect();
    let non_ascii = |i: Option<&char>| i.is_some_and(|c| !c.is_ascii() && !is_invisible(*c));
    for (i, &c) in chars.iter().enumerate() {
        if !is_invisible(c) {
            continue;
        }
        let before = i.checked_sub(1).and_then(|j| chars.get(j));
        let allowed = match c {
            '\u{200C}' | '\u{200D}' => non_ascii(before) && non_ascii(chars.get(i + 1)),
            '\u{FE0E}' | '\u{FE0F}' => non_ascii(before),
            _ => false,
        };
        if !allowed {
            return Err(ValidationError::new(
                field,
                format!(
                    "must not contain invisible characters (found U+{:04X})",
                    c as u32
                ),
            ));
        }
    }
    if !chars
        .iter()
        .any(|c| !c.is_whitespace() && !is_invisible(*c))
    {
        return Err(ValidationError::new(field, "must have visible characters"));
    }
    Ok(())
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
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
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

    /// What the duplicate guard compares (see [`Fingerprint::of`]).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.0)
    }
}

/// A comment text's normalized hash (see [`CommentBody::fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// 128 bits of SHA-256, hex.
    pub hash: String,
    /// Letters and digits in the normalized text: short texts ("Thanks!")
    /// are said by many people and are not matched across articles.
    pub significant_chars: usize,
}

impl Fingerprint {
    /// The text with compatibility forms folded (NFKC), lower-cased, and
    /// only letters and digits kept, so case, punctuation, spacing and
    /// invisible characters make no difference. A text with no letter or
    /// digit is compared as written.
    pub fn of(text: &str) -> Fingerprint {
        let folded: String = text
            .nfkc()
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric())
            .collect();
        let significant_chars = folded.chars().count();
        let hashed = if folded.is_empty() {
            text.trim()
        } else {
            folded.as_str()
        };
        let digest = Sha256::digest(hashed.as_bytes());
        Fingerprint {
            hash: hex::encode(&digest[..16]),
            significant_chars,
        }
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
    fn names_are_normalized_and_spaces_collapsed() {
        // "e" + combining acute is stored as the one character é.
        let name = AuthorName::parse("Zoe\u{301}\u{00A0}\u{3000}Smith", 50, "name").unwrap();
        assert_eq!(name.as_str(), "Zo\u{e9} Smith");
    }

    #[test]
    fn names_refuse_invisible_characters_that_disguise_them() {
        for disguised in [
            "Ad\u{200B}min",
            "Ad\u{200D}min",
            "Admin\u{2060}",
            "\u{FEFF}Admin",
            "A\u{00AD}dmin",
            "Admin\u{E0041}",
        ] {
            let err = AuthorName::parse(disguised, 50, "name").unwrap_err();
            assert!(err.message.contains("invisible"), "{disguised:?}: {err}");
        }
        for blank in [
            "\u{3164}",
            "\u{2800}\u{2800}",
            "\u{115F}\u{1160}",
            " \u{00A0} ",
        ] {
            assert!(AuthorName::parse(blank, 50, "name").is_err(), "{blank:?}");
        }
    }

    #[test]
    fn names_keep_the_joiners_their_scripts_need() {
        // Persian "Mehrnaz" with a zero-width non-joiner; an emoji family.
        assert!(AuthorName::parse(
            "\u{645}\u{647}\u{200C}\u{631}\u{646}\u{627}\u{632}",
            50,
            "n"
        )
        .is_ok());
        assert!(AuthorName::parse("Ann \u{1F469}\u{200D}\u{1F467}", 50, "n").is_ok());
        assert!(AuthorName::parse("Love \u{2764}\u{FE0F}", 50, "n").is_ok());
    }

    #[test]
    fn fingerprints_ignore_case_punctuation_spacing_and_invisible_characters() {
        let fp = |s: &str| CommentBody::parse(s, 1000).unwrap().fingerprint();
        let a = fp("Great post, buy cheap pills at example dot com!");
        assert_eq!(a, fp("great POST buy cheap pills at example dot com"));
        assert_eq!(
            a,
            fp("Great\u{200B} post,  buy cheap pills at example dot com...")
        );
        assert_eq!(
            a,
            fp("Ｇｒｅａｔ post, buy cheap pills at example dot com!")
        );
        assert_ne!(a, fp("Great post, buy cheap pills at example dot org!"));
        assert_eq!(a.significant_chars, 37);
        // Without letters or digits, the text itself is compared.
        assert_ne!(fp("👍"), fp("👎"));
        assert_eq!(fp("👍").significant_chars, 0);
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
