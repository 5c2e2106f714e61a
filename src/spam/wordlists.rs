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
use serde::Serialize;

use super::{Assessment, Candidate, Rule, Scorer, ScorerError};
use crate::db::{self, AnyConnection, DbError};
use crate::domain::{ValidationError, WordId, WordKind, WordList};

/// One list entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = WordListEntry)]
pub struct Entry {
    pub id: WordId,
    pub list: WordList,
    pub kind: WordKind,
    pub pattern: String,
    pub note: Option<String>,
}

pub const MAX_PATTERN_BYTES: usize = 500;

/// Reads every entry from the database.
pub fn load(conn: &mut AnyConnection) -> Result<Vec<Entry>, DbError> {
    Ok(db::spam::words(conn)?
        .into_iter()
        .map(|row| Entry {
            id: row.id,
            list: row.list,
            kind: row.kind,
            pattern: row.pattern,
            note: row.note,
        })
        .collect())
}
/// Compiled size cap for one regex entry (the regex crate's own limit).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Checks an entry before it is stored; returns the pattern as it will be
/// kept (trimmed; IPs normalised).
pub fn validate(kind: WordKind, pattern: &str) -> Result<String, ValidationError> {
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
        WordKind::Word => Ok(pattern.to_string()),
        WordKind::Regex => compile_regex(pattern)
            .map(|_| pattern.to_string())
            .map_err(|e| {
                ValidationError::new("pattern", format!("is not a valid regular expression: {e}"))
            }),
        WordKind::Ip => parse_net(pattern).map(|n| n.to_string()).ok_or_else(|| {
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
                WordKind::Word => words.push(regex::escape(&entry.pattern)),
                WordKind::Regex => match compile_regex(&entry.pattern) {
                    Ok(re) => matcher.patterns.push((re, entry.pattern.clone())),
                    Err(e) => {
                        tracing::warn!(id = %entry.id, error = %e, "skipping a word-list regex that no longer compiles")
                    }
                },
                WordKind::Ip => match parse_net(&entry.pattern) {
                    Some(net) => matcher.nets.push(net),
                    None => {
                        tracing::warn!(id = %entry.id, "skipping an unparsable word-list IP entry")
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
    pub list: WordList,
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
        let blocked: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.list == WordList::Blocked)
            .collect();
        let suspect: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.list == WordList::Suspect)
            .collect();
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
            (WordList::Blocked, &compiled.blocked),
            (WordList::Suspect, &compiled.suspect),
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
                score: if hit.list == WordList::Blocked {
                    1.0
                } else {
                    0.5
                },
                reasons: vec![format!(
                    "{} entry \"{}\" in the {}",
                    hit.list.as_str(),
                    hit.matched,
                    hit.field
                )],
                rule: Some(if hit.list == WordList::Blocked {
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

    fn entry(id: i64, list: WordList, kind: WordKind, pattern: &str) -> Entry {
        Entry {
            id: WordId(id),
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
                entry(1, WordList::Blocked, WordKind::Word, "viagra"),
                entry(2, WordList::Blocked, WordKind::Word, "cheap pills"),
                entry(3, WordList::Suspect, WordKind::Word, "casino"),
                entry(4, WordList::Blocked, WordKind::Regex, r"\bfree\s+money\b"),
                entry(5, WordList::Blocked, WordKind::Ip, "203.0.113.0/24"),
                entry(6, WordList::Suspect, WordKind::Word, "$$$"),
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
            WordList::Blocked
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
        assert_eq!(
            lists.check(&body("a casino.")).unwrap().list,
            WordList::Suspect
        );
        assert_eq!(
            lists.check(&body("make $$$ fast")).unwrap().list,
            WordList::Suspect
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
            WordList::Blocked
        );
    }

    #[test]
    fn entries_are_validated() {
        assert!(validate(WordKind::Regex, "(unclosed").is_err());
        assert!(validate(WordKind::Ip, "300.1.1.1").is_err());
        assert_eq!(validate(WordKind::Ip, " 10.0.0.1 ").unwrap(), "10.0.0.1/32");
        assert!(validate(WordKind::Word, "  ").is_err());
        assert!(validate(WordKind::Word, &"x".repeat(501)).is_err());
        assert!(
            validate(WordKind::Regex, "a{1000}{1000}").is_err(),
            "over the size limit"
        );
    }
}
