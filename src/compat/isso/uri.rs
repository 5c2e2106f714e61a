//! Isso names a thread by its `uri`: the page's `location.pathname`, or
//! whatever the page gives as `data-isso-id`. Here it becomes the article
//! key of the JSON API, so one article has one thread whichever API
//! reads it.
//!
//! The mapping, applied to the value of the `uri` query parameter (which
//! the client sends through `encodeURIComponent`, so the value is the path
//! as the browser holds it):
//!
//! - a fragment (`#...`) is dropped: browsers never send one, and Isso's
//!   comment counter strips `#isso-thread`;
//! - the query (`?...`) is kept: `/?p=42` and `/?p=43` are two pages;
//! - trailing slashes are kept: `/post` and `/post/` are two threads in
//!   Isso too, so threads keep the names Isso gave them;
//! - percent escapes of letters, digits, `-`, `.`, `_`, `~` and of non-ASCII
//!   letters and marks are decoded (`/caf%C3%A9/` is `/café/`, as native
//!   API keys are written); every other escape is kept, in upper case
//!   (`%2F` stays, as `/a%2Fb` is not `/a/b`);
//! - a character article keys do not allow (a space, a quote, `<`, an
//!   emoji) is percent-encoded, so no page path is refused for its
//!   characters.
//!
//! A `uri` that is empty, holds a control character or a malformed escape
//! (`%G1`, a lone `%`), or is longer than an article key once mapped
//! (255 bytes), cannot be mapped and is refused. Mapping a key again
//! gives the same key.

use crate::domain::{ArticleKey, ValidationError};

const FIELD: &str = "uri";

/// The article key for an Isso `uri`.
pub fn article_key(uri: &str) -> Result<ArticleKey, ValidationError> {
    let without_fragment = uri.split('#').next().unwrap_or_default();
    if without_fragment.chars().any(char::is_control) {
        return Err(ValidationError::new(
            FIELD,
            "uri must not contain control characters",
        ));
    }
    let mut key = String::with_capacity(without_fragment.len());
    let bytes = without_fragment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // A run of escapes, decoded together: one character may take
            // several.
            let mut decoded = Vec::new();
            while bytes.get(i) == Some(&b'%') {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or_else(|| {
                        ValidationError::new(FIELD, "uri has a malformed percent escape")
                    })?;
                decoded.push(byte);
                i += 3;
            }
            push_decoded(&mut key, &decoded);
        } else {
            let c = without_fragment[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            if c == '#' || !kept_as_is(c) {
                push_escaped(&mut key, c.encode_utf8(&mut [0; 4]).as_bytes());
            } else {
                key.push(c);
            }
            i += c.len_utf8();
        }
    }
    if key.is_empty() {
        return Err(ValidationError::new(FIELD, "uri must not be empty"));
    }
    if key.len() > ArticleKey::MAX_BYTES {
        return Err(ValidationError::new(
            FIELD,
            format!(
                "uri must be at most {} bytes as an article key",
                ArticleKey::MAX_BYTES
            ),
        ));
    }
    ArticleKey::parse(&key).map_err(|e| ValidationError::new(FIELD, e.message))
}

/// Decodes the characters worth decoding from a run of escaped bytes and
/// keeps the rest escaped (bytes that are no UTF-8 included).
fn push_decoded(key: &mut String, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(text) => text,
            Err(e) if e.valid_up_to() > 0 => {
                std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(e) => {
                let bad = e.error_len().unwrap_or(rest.len());
                push_escaped(key, &rest[..bad]);
                rest = &rest[bad..];
                continue;
            }
        };
        for c in valid.chars() {
            if decoded_from_escape(c) {
                key.push(c);
            } else {
                push_escaped(key, c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        rest = &rest[valid.len()..];
    }
}

fn push_escaped(key: &mut String, bytes: &[u8]) {
    for b in bytes {
        key.push_str(&format!("%{b:02X}"));
    }
}

/// An escaped character that means the same written plainly: the unreserved
/// ones of RFC 3986, and letters and marks of any script.
fn decoded_from_escape(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "-._~".contains(c)
    } else {
        kept_as_is(c)
    }
}

/// A character an article key may hold as it is.
fn kept_as_is(c: char) -> bool {
    c != '%' && ArticleKey::parse(c.encode_utf8(&mut [0; 4])).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> String {
        article_key(uri)
            .unwrap_or_else(|e| panic!("{uri:?}: {e}"))
            .as_str()
            .to_string()
    }

    #[test]
    fn page_paths_are_kept_as_the_page_names_them() {
        assert_eq!(key("/blog/hello-world/"), "/blog/hello-world/");
        assert_eq!(key("/blog/hello-world"), "/blog/hello-world");
        assert_eq!(key("/?p=42"), "/?p=42");
        assert_eq!(key("post-42"), "post-42");
        assert_eq!(key("/blog/post/#isso-thread"), "/blog/post/");
    }

    #[test]
    fn letters_are_decoded_and_delimiters_stay_escaped() {
        assert_eq!(key("/caf%C3%A9/"), "/café/");
        assert_eq!(key("/%62%6c%6f%67/"), "/blog/");
        assert_eq!(key("/a%2fb"), "/a%2Fb");
        assert_eq!(key("/100%25"), "/100%25");
        assert_eq!(key("/a%20b"), "/a%20b");
        // An invisible character and bytes that are no UTF-8 stay escaped.
        assert_eq!(key("/a%E2%80%8Bb"), "/a%E2%80%8Bb");
        assert_eq!(key("/x%FFy"), "/x%FFy");
    }

    #[test]
    fn characters_keys_refuse_are_escaped_not_refused() {
        assert_eq!(key("/it's-here/"), "/it%27s-here/");
        assert_eq!(key("/a b\"<c>"), "/a%20b%22%3Cc%3E");
        assert_eq!(key("/😀/"), "/%F0%9F%98%80/");
        assert_eq!(key("/über/"), "/über/");
    }

    #[test]
    fn mapping_a_key_again_changes_nothing() {
        for uri in [
            "/caf%C3%A9/",
            "/it's-here/",
            "/a%2fb",
            "/x%FFy",
            "/😀/?q=1",
            "/a%E2%80%8Bb",
        ] {
            let once = key(uri);
            assert_eq!(key(&once), once, "{uri}");
        }
    }

    #[test]
    fn what_cannot_be_a_key_is_refused() {
        for bad in [
            "",
            "#only-a-fragment",
            "/a%G1",
            "/a%",
            "/a%4",
            "/a\nb",
            "/a\u{7f}",
        ] {
            let e = article_key(bad).expect_err(bad);
            assert_eq!(e.field, "uri", "{bad}");
        }
        assert!(article_key(&format!("/{}", "a".repeat(254))).is_ok());
        assert!(article_key(&format!("/{}", "a".repeat(255))).is_err());
        // Escaping can make a short path too long.
        assert!(article_key(&format!("/{}", "'".repeat(90))).is_err());
    }
}
