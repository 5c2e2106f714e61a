//! The `domain` parsers on arbitrary UTF-8 strings.
//!
//! Whatever parses must hold its type's invariants, and parsing the parsed
//! value again must give the same value (the values are stored and later
//! compared, so a second parse must not change them):
//! * `Email`: non-empty, lower-case, no whitespace or controls, one `local@domain`
//!   shape, at most the byte limit;
//! * `AuthorName` / `Title`: trimmed, non-empty, at most the byte limit, no
//!   control or bidi-override characters, no `<` or `>`;
//! * `CommentBody`: at most the byte limit, no NUL, some visible character,
//!   no surrounding blank lines;
//! * `WebUrl`: `http://` or `https://`, at most the byte limit, no controls,
//!   no user name or password;
//! * `ArticleKey`: kept exactly, at most 255 bytes, no controls;
//! * `Password`: accepted exactly when it has at least the minimum number of
//!   characters and at most the maximum number of bytes; kept byte for byte.
//!
//! Refusals must name the field they were asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moderato::domain::{
    ArticleKey, AuthorName, CommentBody, Email, Password, Title, ValidationError, WebUrl,
};

const EMAIL_MAX: usize = 100;
const NAME_MAX: usize = 245;
const BODY_MAX: usize = 65536;
const URL_MAX: usize = 200;
const PASSWORD_MIN: usize = 8;
const PASSWORD_MAX: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    email(s);
    author_name(s);
    title(s);
    comment_body(s);
    web_url(s);
    article_key(s);
    password(s);
});

fn field_is(result: &Result<impl Sized, ValidationError>, field: &str) {
    if let Err(e) = result {
        assert_eq!(e.field, field, "{e}");
    }
}

/// Characters no single-line field may hold (`domain::forbidden_in_line`).
fn forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn email(s: &str) {
    let parsed = Email::parse(s, EMAIL_MAX, "email");
    field_is(&parsed, "email");
    let Ok(e) = parsed else { return };
    let v = e.as_str();
    assert!(!v.is_empty());
    assert_eq!(
        v,
        v.to_lowercase(),
        "Email {v:?} (from {s:?}) is not lower-case"
    );
    assert!(
        !v.chars().any(|c| c.is_whitespace() || forbidden_in_line(c)),
        "Email {v:?} (from {s:?}) holds whitespace or a control"
    );
    assert!(v.contains('@'), "Email {v:?} has no @");
    assert!(
        v.len() <= EMAIL_MAX,
        "Email {v:?} (from {s:?}) is {} bytes, over the {EMAIL_MAX}-byte limit",
        v.len()
    );
    match Email::parse(v, EMAIL_MAX, "email") {
        Ok(again) => assert!(
            again == e,
            "Email not idempotent: {s:?} -> {v:?} -> {:?}",
            again.as_str()
        ),
        Err(err) => panic!("Email not idempotent: {s:?} parses to {v:?}, which is refused: {err}"),
    }
}

fn single_line_invariants(kind: &str, v: &str, s: &str, max: usize) {
    assert!(!v.is_empty(), "{kind} from {s:?} is empty");
    assert_eq!(v, v.trim(), "{kind} {v:?} is not trimmed");
    assert!(v.len() <= max, "{kind} {v:?} over {max} bytes");
    assert!(
        !v.chars().any(forbidden_in_line),
        "{kind} {v:?} holds a control or text-direction character"
    );
    assert!(!v.contains(['<', '>']), "{kind} {v:?} holds < or >");
}

/// Characters that show nothing on their own (`domain::is_invisible`),
/// but for the joiners and emoji selectors names may keep.
fn invisible_in_a_name(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}' | '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0D}' | '\u{FEFF}' | '\u{FFA0}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

fn author_name(s: &str) {
    let parsed = AuthorName::parse(s, NAME_MAX, "name");
    field_is(&parsed, "name");
    let Ok(n) = parsed else { return };
    let v = n.as_str();
    single_line_invariants("AuthorName", v, s, NAME_MAX);
    assert!(
        !v.contains("  ") && !v.chars().any(|c| c.is_whitespace() && c != ' '),
        "AuthorName {v:?} (from {s:?}) keeps a run of spaces or an odd space"
    );
    assert!(
        !v.chars().any(invisible_in_a_name),
        "AuthorName {v:?} (from {s:?}) holds an invisible character"
    );
    assert!(
        v.chars().any(|c| !c.is_whitespace() && !matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE0E}' | '\u{FE0F}')),
        "AuthorName {v:?} (from {s:?}) shows nothing"
    );
    assert_eq!(
        AuthorName::parse(n.as_str(), NAME_MAX, "name").as_ref(),
        Ok(&n),
        "AuthorName not idempotent"
    );
}

fn title(s: &str) {
    let parsed = Title::parse(s, "title");
    field_is(&parsed, "title");
    let Ok(t) = parsed else { return };
    let v = t.clone().into_inner();
    single_line_invariants("Title", &v, s, Title::MAX_BYTES);
    assert_eq!(v, s.trim(), "Title must be the trimmed input");
    assert_eq!(Title::parse(&v, "title"), Ok(t), "Title not idempotent");
}

fn comment_body(s: &str) {
    let parsed = CommentBody::parse(s, BODY_MAX);
    field_is(&parsed, "body");
    let Ok(b) = parsed else { return };
    let v = b.as_str();
    assert!(v.len() <= BODY_MAX && v.len() <= s.len());
    assert!(!v.contains('\0'), "CommentBody {v:?} holds NUL");
    assert!(
        !v.starts_with(['\n', '\r']) && !v.ends_with(['\n', '\r']),
        "CommentBody {v:?} keeps surrounding blank lines"
    );
    assert!(s.contains(v), "CommentBody {v:?} is not part of the input");
    assert_eq!(
        CommentBody::parse(v, BODY_MAX).as_ref(),
        Ok(&b),
        "CommentBody not idempotent"
    );
}

fn web_url(s: &str) {
    let parsed = WebUrl::parse(s, URL_MAX, "url");
    field_is(&parsed, "url");
    let Ok(u) = parsed else { return };
    let v = u.as_str();
    assert!(
        v.starts_with("http://") || v.starts_with("https://"),
        "WebUrl {v:?} (from {s:?}) is not http(s)"
    );
    assert!(v.len() <= URL_MAX, "WebUrl {v:?} over {URL_MAX} bytes");
    assert!(
        !v.chars().any(|c| c.is_whitespace() || forbidden_in_line(c)),
        "WebUrl {v:?} holds whitespace or a control"
    );
    match WebUrl::parse(v, URL_MAX, "url") {
        Ok(again) => assert_eq!(again, u, "WebUrl not idempotent: {s:?} -> {v:?}"),
        Err(err) => panic!("WebUrl not idempotent: {s:?} parses to {v:?}, which is refused: {err}"),
    }
}

fn article_key(s: &str) {
    let parsed = ArticleKey::parse(s);
    field_is(&parsed, "key");
    let Ok(k) = parsed else { return };
    let v = k.as_str();
    assert_eq!(v, s, "ArticleKey must be kept exactly");
    assert!(v.len() <= ArticleKey::MAX_BYTES);
    assert!(!v.trim().is_empty());
    assert!(!v.chars().any(forbidden_in_line), "ArticleKey {v:?}");
    assert_eq!(
        ArticleKey::parse(v).as_ref(),
        Ok(&k),
        "ArticleKey not idempotent"
    );
}

fn password(s: &str) {
    let parsed = Password::parse(s.to_string(), PASSWORD_MIN, PASSWORD_MAX);
    field_is(&parsed, "password");
    let in_bounds = s.chars().count() >= PASSWORD_MIN && s.len() <= PASSWORD_MAX;
    assert_eq!(
        parsed.is_ok(),
        in_bounds,
        "Password of {} characters, {} bytes",
        s.chars().count(),
        s.len()
    );
    if let Ok(p) = parsed {
        assert_eq!(p.expose(), s.as_bytes());
    }
}
