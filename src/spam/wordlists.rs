//! Blocked and suspect words, patterns and IP ranges, matched against the
//! author's name, email and URL, the body, the IP and the user agent.
//! Blocked entries make a comment spam; suspect ones hold it for review.
//! Admins edit the lists through the API; every instance keeps a compiled
//! copy, refreshed when the lists' version in the database changes.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use diesel::Connection;

use super::{Assessment, Candidate, Rule, Scorer, ScorerError};
use crate::auth::{permissions, AuthError, AuthUser};
use crate::db::{self, AnyConnection, Db, DbError};
use crate::domain::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum List {
    Blocked,
    Suspect,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            List::Blocked => "blocked",
            List::Suspect => "suspect",
        }
    }

    pub fn parse(s: &str) -> Option<List> {
        match s {
            "blocked" => Some(List::Blocked),
            "suspect" => Some(List::Suspect),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A word or phrase, matched case-insensitively as whole words.
    Word,
    /// A regular expression (Rust `regex` syntax; linear-time, so no
    /// pattern can stall the server).
    Regex,
    /// An IP address or CIDR range, matched against the client's address.
    Ip,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Word => "word",
            EntryKind::Regex => "regex",
            EntryKind::Ip => "ip",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        match s {
            "word" => Some(EntryKind::Word),
            "regex" => Some(EntryKind::Regex),
            "ip" => Some(EntryKind::Ip),
            _ => None,
        }
    }
}

/// One list entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = WordListEntry)]
pub struct Entry {
    pub id: i64,
    pub list: List,
    pub kind: EntryKind,
    pub pattern: String,
    pub note: Option<String>,
}

pub const MAX_PATTERN_BYTES: usize = 500;
/// Compiled size cap for one regex entry (the regex crate's own limit).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Checks an entry before it is stored; returns the pattern as it will be
/// kept (trimmed; IPs normalised).
pub fn validate(kind: EntryKind, pattern: &str) -> Result<String, ValidationError> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(ValidationError::new("pattern", "must not be empty"));
    }
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(ValidationError::new(
            "pattern",
            format!("must be at most {MAX_PATTERN_BYTES} bytes"),
        ));
    }
    if pattern.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "pattern",
            "must not contain control characters",
        ));
    }
    match kind {
        EntryKind::Word => Ok(pattern.to_string()),
        EntryKind::Regex => compile_regex(pattern)
            .map(|_| pattern.to_string())
            .map_err(|e| {
                ValidationError::new("pattern", format!("is not a valid regular expression: {e}"))
            }),
        EntryKind::Ip => parse_net(pattern).map(|n| n.to_string()).ok_or_else(|| {
            ValidationError::new("pattern", "must be an IP address or a CIDR range")
        }),
    }
}

fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

fn parse_net(pattern: &str) -> Option<IpNet> {
    pattern
        .parse::<IpNet>()
        .ok()
        .or_else(|| pattern.parse::<IpAddr>().ok().map(IpNet::from))
}

/// One list, compiled for matching.
#[derive(Default)]
struct Matcher {
    /// All word entries as one alternation (group 1 is the word matched).
    words: Option<Regex>,
    patterns: Vec<(Regex, String)>,
    nets: Vec<IpNet>,
}

impl Matcher {
    fn build(entries: &[&Entry]) -> Matcher {
        let mut words = Vec::new();
        let mut matcher = Matcher::default();
        for entry in entries {
            match entry.kind {
                EntryKind::Word => words.push(regex::escape(&entry.pattern)),
                EntryKind::Regex => match compile_regex(&entry.pattern) {
                    Ok(re) => matcher.patterns.push((re, entry.pattern.clone())),
                    Err(e) => {
                        tracing::warn!(id = entry.id, error = %e, "skipping a word-list regex that no longer compiles")
                    }
                },
                EntryKind::Ip => match parse_net(&entry.pattern) {
                    Some(net) => matcher.nets.push(net),
                    None => {
                        tracing::warn!(id = entry.id, "skipping an unparsable word-list IP entry")
                    }
                },
            }
        }
        if !words.is_empty() {
            // Longest first, so a phrase wins over a word it contains.
            words.sort_by_key(|w| std::cmp::Reverse(w.len()));
            let alternation = format!(r"(?:^|[^\w])({})(?:[^\w]|$)", words.join("|"));
            matcher.words = RegexBuilder::new(&alternation)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT * 16)
                .build()
                .map_err(|e| tracing::error!(error = %e, "word list too large to compile"))
                .ok();
        }
        matcher
    }

    /// The first entry matching any field, as `(what matched, field)`.
    fn find(
        &self,
        fields: &[(&'static str, &str)],
        ip: Option<IpAddr>,
    ) -> Option<(String, &'static str)> {
        if let Some(ip) = ip {
            if let Some(net) = self.nets.iter().find(|n| n.contains(&ip)) {
                return Some((net.to_string(), "ip"));
            }
        }
        for (field, text) in fields {
            if let Some(words) = &self.words {
                if let Some(found) = words.captures(text).and_then(|c| c.get(1)) {
                    return Some((found.as_str().to_lowercase(), field));
                }
            }
            if let Some((_, pattern)) = self.patterns.iter().find(|(re, _)| re.is_match(text)) {
                return Some((format!("/{pattern}/"), field));
            }
        }
        None
    }
}

#[derive(Default)]
struct Compiled {
    blocked: Matcher,
    suspect: Matcher,
}

/// The compiled lists shared by the scorer, the admin API and the refresher.
pub struct WordLists {
    compiled: RwLock<Arc<Compiled>>,
    version: AtomicI64,
}

/// What matched: the list, the entry and the field it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub list: List,
    pub matched: String,
    pub field: &'static str,
}

impl WordLists {
    pub fn empty() -> Self {
        WordLists {
            compiled: RwLock::new(Arc::new(Compiled::default())),
            version: AtomicI64::new(-1),
        }
    }

    /// Replaces the compiled lists with these entries, at this version.
    pub fn replace(&self, entries: &[Entry], version: i64) {
        let blocked: Vec<&Entry> = entries.iter().filter(|e| e.list == List::Blocked).collect();
        let suspect: Vec<&Entry> = entries.iter().filter(|e| e.list == List::Suspect).collect();
        let compiled = Arc::new(Compiled {
            blocked: Matcher::build(&blocked),
            suspect: Matcher::build(&suspect),
        });
        match self.compiled.write() {
            Ok(mut slot) => *slot = compiled,
            Err(poisoned) => *poisoned.into_inner() = compiled,
        }
        self.version.store(version, Ordering::Release);
    }

    /// The database version these lists were built from (-1: never loaded).
    pub fn version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// The most serious hit: a blocked entry before a suspect one.
    pub fn check(&self, candidate: &Candidate) -> Option<Hit> {
        let compiled = match self.compiled.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let ip_text = candidate.ip.map(|ip| ip.to_string());
        let mut fields: Vec<(&'static str, &str)> = vec![
            ("author name", &candidate.author_name),
            ("body", &candidate.body),
        ];
        fields.extend(
            candidate
                .author_email
                .as_deref()
                .map(|e| ("author email", e)),
        );
        fields.extend(candidate.author_url.as_deref().map(|u| ("author URL", u)));
        fields.extend(candidate.user_agent.as_deref().map(|u| ("user agent", u)));
        fields.extend(ip_text.as_deref().map(|ip| ("ip", ip)));
        for (list, matcher) in [
            (List::Blocked, &compiled.blocked),
            (List::Suspect, &compiled.suspect),
        ] {
            if let Some((matched, field)) = matcher.find(&fields, candidate.ip) {
                return Some(Hit {
                    list,
                    matched,
                    field,
                });
            }
        }
        None
    }
}

/// Reads every entry from the database (rows the code does not understand
/// are skipped with a warning rather than failing the load).
pub fn load(conn: &mut AnyConnection) -> Result<Vec<Entry>, DbError> {
    Ok(db::spam::words(conn)?
        .into_iter()
        .filter_map(|row| {
            let entry =
                List::parse(&row.list)
                    .zip(EntryKind::parse(&row.kind))
                    .map(|(list, kind)| Entry {
                        id: row.id,
                        list,
                        kind,
                        pattern: row.pattern.clone(),
                        note: row.note.clone(),
                    });
            if entry.is_none() {
                tracing::warn!(
                    id = row.id,
                    "skipping a word-list row of unknown list or kind"
                );
            }
            entry
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("this entry is already on the list")]
    Duplicate,
    #[error("no such entry")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::Db(DbError::from(e))
    }
}

/// Every entry (admins only).
pub async fn list_entries(db: &Db, viewer: Option<&AuthUser>) -> Result<Vec<Entry>, AdminError> {
    permissions::require_admin(viewer)?;
    Ok(db.read(load).await?)
}

/// Adds an entry (admins only) and applies it to this instance at once.
pub async fn add_entry(
    db: &Db,
    lists: &WordLists,
    viewer: Option<&AuthUser>,
    list: List,
    kind: EntryKind,
    pattern: &str,
    note: Option<String>,
) -> Result<Entry, AdminError> {
    permissions::require_admin(viewer)?;
    let pattern = validate(kind, pattern)?;
    let note = note
        .map(|n| n.trim().chars().take(500).collect::<String>())
        .filter(|n| !n.is_empty());
    let now = db::now_millis();
    let (entry, all, version) = db
        .write(move |conn| {
            let new = db::spam::NewWord {
                list: list.as_str(),
                kind: kind.as_str(),
                pattern: &pattern,
                note: note.as_deref(),
                created_at: now,
            };
            let row = match conn.transaction(|c| db::spam::insert_word(c, &new)) {
                Ok(row) => row,
                Err(e) if db::is_unique_violation(&e) => return Err(AdminError::Duplicate),
                Err(e) => return Err(e.into()),
            };
            let version = db::spam::bump_version(conn, db::spam::WORDLISTS)?;
            let all = load(conn)?;
            let entry = Entry {
                id: row.id,
                list,
                kind,
                pattern: row.pattern,
                note: row.note,
            };
            Ok((entry, all, version))
        })
        .await?;
    lists.replace(&all, version);
    Ok(entry)
}

/// Removes an entry (admins only) and applies the change at once.
pub async fn remove_entry(
    db: &Db,
    lists: &WordLists,
    viewer: Option<&AuthUser>,
    id: i64,
) -> Result<(), AdminError> {
    permissions::require_admin(viewer)?;
    let (all, version) = db
        .write(move |conn| {
            if db::spam::delete_word(conn, id)? == 0 {
                return Err(AdminError::NotFound);
            }
            let version = db::spam::bump_version(conn, db::spam::WORDLISTS)?;
            Ok((load(conn)?, version))
        })
        .await?;
    lists.replace(&all, version);
    Ok(())
}

/// The scorer over the shared lists.
pub struct WordListScorer {
    lists: Arc<WordLists>,
}

impl WordListScorer {
    pub fn new(lists: Arc<WordLists>) -> Self {
        WordListScorer { lists }
    }
}

#[async_trait]
impl Scorer for WordListScorer {
    fn kind(&self) -> &'static str {
        "wordlists"
    }

    fn computes_only(&self) -> bool {
        true
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        Ok(match self.lists.check(candidate) {
            Some(hit) => Assessment {
                score: if hit.list == List::Blocked { 1.0 } else { 0.5 },
                reasons: vec![format!(
                    "{} entry \"{}\" in the {}",
                    hit.list.as_str(),
                    hit.matched,
                    hit.field
                )],
                rule: Some(if hit.list == List::Blocked {
                    Rule::Spam
                } else {
                    Rule::Hold
                }),
            },
            None => Assessment::neutral(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, list: List, kind: EntryKind, pattern: &str) -> Entry {
        Entry {
            id,
            list,
            kind,
            pattern: pattern.into(),
            note: None,
        }
    }

    fn lists() -> WordLists {
        let lists = WordLists::empty();
        lists.replace(
            &[
                entry(1, List::Blocked, EntryKind::Word, "viagra"),
                entry(2, List::Blocked, EntryKind::Word, "cheap pills"),
                entry(3, List::Suspect, EntryKind::Word, "casino"),
                entry(4, List::Blocked, EntryKind::Regex, r"\bfree\s+money\b"),
                entry(5, List::Blocked, EntryKind::Ip, "203.0.113.0/24"),
                entry(6, List::Suspect, EntryKind::Word, "$$$"),
            ],
            7,
        );
        lists
    }

    fn body(text: &str) -> Candidate {
        Candidate {
            body: text.into(),
            author_name: "Someone".into(),
            ..Candidate::default()
        }
    }

    #[test]
    fn words_match_whole_words_case_insensitively() {
        let lists = lists();
        assert_eq!(
            lists.check(&body("Buy VIAGRA now")).unwrap().list,
            List::Blocked
        );
        assert_eq!(
            lists.check(&body("no cheap   pills")),
            None,
            "phrases match as written"
        );
        assert_eq!(
            lists.check(&body("cheap pills!")).unwrap().matched,
            "cheap pills"
        );
        assert_eq!(
            lists.check(&body("Scunthorpe casinos")),
            None,
            "whole words only"
        );
        assert_eq!(lists.check(&body("a casino.")).unwrap().list, List::Suspect);
        assert_eq!(
            lists.check(&body("make $$$ fast")).unwrap().list,
            List::Suspect
        );
        assert_eq!(lists.version(), 7);
    }

    #[test]
    fn regexes_ips_and_other_fields_match() {
        let lists = lists();
        assert_eq!(
            lists.check(&body("get FREE   money")).unwrap().field,
            "body"
        );
        let mut c = body("hello");
        c.ip = Some("203.0.113.77".parse().unwrap());
        assert_eq!(lists.check(&c).unwrap().field, "ip");
        let mut c = body("hello");
        c.author_email = Some("viagra@example.com".into());
        assert_eq!(lists.check(&c).unwrap().field, "author email");
        let mut c = body("hello");
        c.user_agent = Some("CasinoBot/1.0 casino".into());
        assert_eq!(lists.check(&c).unwrap().field, "user agent");
    }

    #[test]
    fn blocked_wins_over_suspect() {
        assert_eq!(
            lists().check(&body("casino viagra")).unwrap().list,
            List::Blocked
        );
    }

    #[test]
    fn entries_are_validated() {
        assert!(validate(EntryKind::Regex, "(unclosed").is_err());
        assert!(validate(EntryKind::Ip, "300.1.1.1").is_err());
        assert_eq!(
            validate(EntryKind::Ip, " 10.0.0.1 ").unwrap(),
            "10.0.0.1/32"
        );
        assert!(validate(EntryKind::Word, "  ").is_err());
        assert!(validate(EntryKind::Word, &"x".repeat(501)).is_err());
        assert!(
            validate(EntryKind::Regex, "a{1000}{1000}").is_err(),
            "over the size limit"
        );
    }
}
