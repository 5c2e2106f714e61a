//! Moderato's learned spam scorer: Robinson/Fisher chi-square combining of
//! per-token spam probabilities (the SpamBayes scheme), over word unigrams,
//! bigrams and trigrams plus a few normalised token kinds.
//!
//! Pure `std`, no I/O. The whole model is
//!
//! * two global scalars ([`Globals`]): how many comments were learned as spam
//!   and as ham, and
//! * one row per feature ([`Row`]): `key` (FNV-1a 64 of the feature string,
//!   as `i64`), `a` = number of spam comments that contained the feature,
//!   `b` = number of ham comments that contained it.
//!
//! Because the state is plain counts, learning is an exact, commutative
//! increment (order of verdicts does not matter, concurrent instances can
//! apply deltas with `a = a + ?`), and a reversed verdict is undone exactly by
//! [`Model::unlearn`] (subtract) — see [`Model::reverse`].
//!
//! Scoring (per comment):
//! 1. [`features`] turns the text into a deduplicated set of features.
//! 2. Each feature with counts (spam `a`, ham `b`) gets Robinson's smoothed
//!    probability `f = (s·x + n·p) / (s + n)` where `n = a + b` and
//!    `p = (a/Nspam) / (a/Nspam + b/Nham)`; unseen features get `f = x`.
//! 3. Features with `|f − 0.5| >= MIN_DEVIATION` are clues; the
//!    `MAX_CLUES` most extreme are combined with Fisher's method:
//!    `S = 1 − Q(−2 Σ ln(1−f), 2k)`, `H = 1 − Q(−2 Σ ln f, 2k)`,
//!    `p = (1 + S − H) / 2`, with `Q` the chi-square survival function.
//! 4. While either class has fewer than [`WARMUP_EXAMPLES`] learned comments
//!    the model is not yet *mature* ([`Scored::mature`]); the learned scorer
//!    then keeps its score away from the extremes, so a young model never
//!    hides a comment on one-sided evidence. Thresholds are the pipeline's
//!    (`spam.review_threshold`, `spam.spam_threshold`), not this module's.
//!
//! The method was chosen by measurement on the YouTube Spam Collection
//! against multinomial naive Bayes and an FTRL logistic regression over
//! hashed word and character n-grams; see `docs/SPAM.md`.
//!
//! Scores are deterministic: same model rows and text → same probability and
//! reasons (ties are broken by feature key, never by hash-map order).

use std::collections::HashMap;

// ------------------------------------------------------------------ constants

/// Robinson's `s`: how many comments' worth of weight the prior `x` has when
/// estimating a feature's spam probability (SpamBayes default 0.45).
pub const UNKNOWN_WORD_STRENGTH: f64 = 0.45;
/// Robinson's `x`: spam probability assumed for a feature never seen before.
pub const UNKNOWN_WORD_PROB: f64 = 0.5;
/// A feature is used as a clue only if `|f − 0.5|` is at least this.
pub const MIN_DEVIATION: f64 = 0.1;
/// At most this many most-extreme clues are combined per comment.
pub const MAX_CLUES: usize = 150;
/// Learned comments of each class needed before the model is *mature*.
pub const WARMUP_EXAMPLES: f64 = 5.0;
/// At most this many reasons are returned with a score.
pub const MAX_REASONS: usize = 5;
/// A reason's text is cut to this many characters (plus `…`).
pub const MAX_REASON_CHARS: usize = 60;

/// Version of the feature extraction. Feature keys (and so stored rows and
/// exact unlearning) are only meaningful for the version that produced them;
/// bump this whenever [`features`] changes and rebuild the model by replaying
/// the stored verdicts.
pub const FEATURE_VERSION: u32 = 1;

/// Top-level domains recognised in bare `name.tld/...` links (links with a
/// scheme or `www.` are recognised whatever their TLD).
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "co", "me", "tv", "ly", "gl", "io", "us", "uk", "de", "ru",
    "br", "fr", "it", "es", "pl", "in", "be", "to", "cc", "xyz", "nl", "ca", "au", "eu",
];

// ------------------------------------------------------------------ hashing

/// FNV-1a 64-bit hash of `bytes` (offset basis 0xcbf29ce484222325,
/// prime 0x100000001b3). Stable across platforms and releases.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_continue(0xcbf2_9ce4_8422_2325, bytes)
}

fn fnv1a64_continue(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Key of the feature string `"{kind}:{part0} {part1} ..."` (parts joined by
/// single spaces), e.g. `"w:subscribe"` or `"b:check out"`, hashed without
/// building the string.
fn feature_key<'a>(kind: &str, parts: impl IntoIterator<Item = &'a str>) -> i64 {
    let mut h = fnv1a64_continue(fnv1a64(kind.as_bytes()), b":");
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            h = fnv1a64_continue(h, b" ");
        }
        h = fnv1a64_continue(h, p.as_bytes());
    }
    h as i64
}

// Std's randomly keyed SipHash maps: feature keys come from untrusted text, so
// a keyed hash avoids crafted-collision slowdowns. Nothing observable depends
// on their iteration order (features keep text order, rows are sorted).
type KeyMap<V> = HashMap<i64, V>;
type KeySet = std::collections::HashSet<i64>;

// ------------------------------------------------------------------ features

/// One feature of a comment: its stable key and the text of the comment it
/// came from (for explanations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    /// FNV-1a 64 of the normalised feature string, reinterpreted as `i64`.
    pub key: i64,
    /// The comment's own text for this feature (first occurrence).
    pub text: String,
}

/// Extract the deduplicated features of a comment (first occurrence wins).
///
/// Normalisation: `U+FEFF` and no-break spaces become spaces; HTML entities
/// are decoded and tags dropped (an `href` target is kept as text); words are
/// runs of alphanumerics, lowercased, apostrophes removed, letter runs of 3+
/// squeezed to 2 (`sooooo` → `soo`), digit runs replaced by their length class.
///
/// Feature kinds (the prefix is part of the hashed string):
/// * `w:` word, `b:` word bigram, `t:` word trigram;
/// * `u:url` any link, `d:` its host without `www.`;
/// * `p:` a run of ASCII punctuation, squeezed (`!!!!` → `!!`);
/// * `e:` an emoji or other non-ASCII symbol;
/// * `s:caps` a word of 3+ letters in capitals;
/// * `l:` a comment-length bucket (0-3, 4-10, 11-25, 26+ words).
pub fn features(text: &str) -> Vec<Feature> {
    let x = extract(text);
    x.feats
        .iter()
        .map(|(key, src)| Feature {
            key: *key,
            text: x.display(src),
        })
        .collect()
}

/// Where a feature's display text comes from: its own string, or a run of
/// words of the comment (materialised only when needed).
enum Source {
    Text(String),
    Words(usize, usize),
    /// Not text of the comment (the length bucket): scored, never a reason.
    Synthetic(String),
}

/// Deduplicated feature keys of a comment plus what is needed to show them.
struct Extracted {
    feats: Vec<(i64, Source)>,
    /// (normalised, as written) words.
    words: Vec<(String, String)>,
}

impl Extracted {
    fn display(&self, src: &Source) -> String {
        match src {
            Source::Text(t) | Source::Synthetic(t) => t.clone(),
            Source::Words(start, len) => {
                let ws: Vec<&str> = self.words[*start..start + len]
                    .iter()
                    .map(|w| w.1.as_str())
                    .collect();
                ws.join(" ")
            }
        }
    }
}

fn extract(text: &str) -> Extracted {
    let mut feats: Vec<(i64, Source)> = Vec::new();
    let mut seen = KeySet::default();
    let mut push = |key: i64, src: Source| {
        if seen.insert(key) {
            feats.push((key, src));
        }
    };
    let mut push_text = |kind: &str, norm: &str, display: &str| {
        push(feature_key(kind, [norm]), Source::Text(display.to_string()));
    };
    let cleaned = decode_html(&text.replace(['\u{feff}', '\u{a0}'], " "));
    let mut words: Vec<(String, String)> = Vec::new();
    for chunk in cleaned.split_whitespace() {
        if let Some(host) = url_host(chunk) {
            push_text("u", "url", chunk);
            push_text("d", &host, &host);
        }
        let mut word = String::new(); // as written (apostrophes kept for display)
        let mut punct = String::new();
        for c in chunk.chars() {
            if c.is_alphanumeric() {
                if !punct.is_empty() {
                    push_text("p", &squeeze(&punct), &punct);
                    punct.clear();
                }
                word.push(c);
            } else if is_apostrophe(c) {
                // apostrophes join a word ("don't" -> "dont") and are never punctuation
                if !word.is_empty() {
                    word.push(c);
                }
            } else {
                end_word(&mut word, &mut words, &mut push_text);
                if c.is_ascii_punctuation() {
                    punct.push(c);
                } else if is_symbol(c) {
                    let e = c.to_string();
                    push_text("e", &e, &e);
                }
            }
        }
        end_word(&mut word, &mut words, &mut push_text);
        if !punct.is_empty() {
            push_text("p", &squeeze(&punct), &punct);
        }
    }
    let bucket = match words.len() {
        0..=3 => "0-3",
        4..=10 => "4-10",
        11..=25 => "11-25",
        _ => "26+",
    };
    push(
        feature_key("l", [bucket]),
        Source::Synthetic(format!("(length {bucket} words)")),
    );
    for (kind, n) in [("w", 1), ("b", 2), ("t", 3)] {
        for i in 0..(words.len() + 1).saturating_sub(n) {
            let key = feature_key(kind, words[i..i + n].iter().map(|w| w.0.as_str()));
            push(key, Source::Words(i, n));
        }
    }
    Extracted { feats, words }
}

/// Finish the word being read: emit its all-caps shape feature and queue it.
fn end_word(
    word: &mut String,
    words: &mut Vec<(String, String)>,
    push: &mut impl FnMut(&str, &str, &str),
) {
    if word.is_empty() {
        return;
    }
    let written = std::mem::take(word);
    if written.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !written.chars().any(char::is_lowercase)
    {
        push("s", "caps", &written);
    }
    words.push((normalise_word(&written), written));
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Lowercase, drop apostrophes, squeeze letter runs; digit runs → length class.
fn normalise_word(written: &str) -> String {
    let w = written
        .chars()
        .filter(|&c| !is_apostrophe(c))
        .collect::<String>()
        .to_lowercase();
    if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()) {
        return match w.len() {
            1 => "<n1>",
            2 => "<n2>",
            3 => "<n3>",
            4 => "<n4>",
            _ => "<n5+>",
        }
        .to_string();
    }
    squeeze(&w)
}

/// Keep at most two consecutive equal characters.
fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut prev, mut run) = ('\0', 0);
    for c in s.chars() {
        if c == prev {
            run += 1;
        } else {
            (prev, run) = (c, 1);
        }
        if run <= 2 {
            out.push(c);
        }
    }
    out
}

/// Emoji and other non-ASCII symbols (not letters, digits or spaces; the
/// emoji variation selector and zero-width joiner are ignored).
fn is_symbol(c: char) -> bool {
    !c.is_ascii()
        && !c.is_alphanumeric()
        && !c.is_whitespace()
        && !is_apostrophe(c)
        && c != '\u{fe0f}'
        && c != '\u{200d}'
}

/// Decode HTML entities (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`,
/// `&nbsp;`, `&#NN;`, `&#xHH;`) and replace tags by spaces, keeping any
/// `href="..."` target as text.
fn decode_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('&') {
            let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
            match end.and_then(|e| entity(&rest[1..e]).map(|c| (e, c))) {
                Some((e, c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        } else if let Some(e) = tag_end(rest) {
            let tag = &rest[1..e];
            out.push(' ');
            if let Some(h) = tag.find("href=\"") {
                let url = &tag[h + 6..];
                out.push_str(&decode_html(&url[..url.find('"').unwrap_or(url.len())]));
                out.push(' ');
            }
            rest = &rest[e + 1..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// If `rest` (starting with `<`) opens an HTML tag — `<` then a letter, `/`
/// or `!`, closed by `>` with no `<` in between — the index of that `>`.
/// A bare `<3` or `>_<` stays text.
fn tag_end(rest: &str) -> Option<usize> {
    let next = rest[1..].chars().next()?;
    if !(next.is_ascii_alphabetic() || next == '/' || next == '!') {
        return None;
    }
    let e = rest[1..].find(['>', '<'])? + 1;
    rest[e..].starts_with('>').then_some(e)
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let v = match num.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(v)?
        }
    })
}

/// If a whitespace-delimited chunk looks like a link, its host (lowercase,
/// without `www.`): anything with `scheme://` or `www.`, or `name.tld[/...]`
/// with a TLD from [`TLDS`].
fn url_host(chunk: &str) -> Option<String> {
    let lower = chunk.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
    let (body, explicit) = match trimmed.find("://") {
        Some(i) => (&trimmed[i + 3..], true),
        None => (trimmed, trimmed.starts_with("www.")),
    };
    let host = &body[..body.find(['/', '?', '#']).unwrap_or(body.len())];
    let host = host.strip_prefix("www.").unwrap_or(host);
    let valid = host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let tld = host.rsplit('.').next().unwrap_or("");
    (valid && (explicit || TLDS.contains(&tld))).then(|| host.to_string())
}

// ------------------------------------------------------------------ model

/// Per-feature counts: in how many learned spam / ham comments it occurred.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FeatureStats {
    /// Spam comments containing the feature (row column `a`).
    pub spam: f64,
    /// Ham comments containing the feature (row column `b`).
    pub ham: f64,
}

/// Global scalars: number of comments learned per class.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Globals {
    /// Comments learned as spam.
    pub spam: f64,
    /// Comments learned as ham.
    pub ham: f64,
}

/// A persisted row: `(key, a = spam count, b = ham count)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub key: i64,
    pub a: f64,
    pub b: f64,
}

impl Row {
    /// A row with both counts zero carries no information and may be deleted.
    pub fn is_empty(&self) -> bool {
        self.a == 0.0 && self.b == 0.0
    }
}

/// One changed row: its new value and the increment that produced it, so a
/// caller may either write the value or apply `a = a + delta_a` atomically.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowChange {
    pub row: Row,
    pub delta_a: f64,
    pub delta_b: f64,
}

/// What a `learn`/`unlearn` call changed: exactly the touched rows (each key
/// once) and the new globals with their increment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub rows: Vec<RowChange>,
    pub globals: Globals,
    pub globals_delta: Globals,
}

/// A score with its explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// Spam probability in `[0, 1]`; 0.5 means no evidence.
    pub probability: f64,
    /// Up to [`MAX_REASONS`] strongest clues, strongest first, e.g.
    /// `"subscribe" (spam 0.97)` or `"this song" (ham 0.92)` — the number is
    /// the clue's own probability for the class named.
    pub reasons: Vec<String>,
    /// The model had learned at least [`WARMUP_EXAMPLES`] comments of each
    /// class when it produced this score.
    pub mature: bool,
}

/// The learned model: global counts plus per-feature counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    globals: Globals,
    stats: KeyMap<FeatureStats>,
}

impl Model {
    /// A model that has learned nothing; it scores everything 0.5.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Rebuild a model from persisted globals and rows. Counts are sanitised
    /// (negative or non-finite values become 0), empty rows are skipped and a
    /// repeated key keeps its last row.
    pub fn from_parts(globals: Globals, rows: impl IntoIterator<Item = Row>) -> Self {
        let clean = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
        let stats = rows
            .into_iter()
            .map(|r| Row {
                key: r.key,
                a: clean(r.a),
                b: clean(r.b),
            })
            .filter(|r| !r.is_empty())
            .map(|r| {
                (
                    r.key,
                    FeatureStats {
                        spam: r.a,
                        ham: r.b,
                    },
                )
            })
            .collect();
        let globals = Globals {
            spam: clean(globals.spam),
            ham: clean(globals.ham),
        };
        Model { globals, stats }
    }

    /// Global scalars to persist.
    pub fn globals(&self) -> Globals {
        self.globals
    }

    /// All non-empty rows, sorted by key.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .stats
            .iter()
            .map(|(&key, s)| Row {
                key,
                a: s.spam,
                b: s.ham,
            })
            .collect();
        rows.sort_by_key(|r| r.key);
        rows
    }

    /// Number of stored feature rows.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    /// True if no feature has been learned.
    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// True once at least [`WARMUP_EXAMPLES`] comments of each class were learned.
    pub fn is_mature(&self) -> bool {
        self.globals.spam.min(self.globals.ham) >= WARMUP_EXAMPLES
    }

    /// Counts of one feature, if stored.
    pub fn stats(&self, key: i64) -> Option<FeatureStats> {
        self.stats.get(&key).copied()
    }

    /// Robinson's smoothed spam probability of a feature.
    fn feature_prob(&self, key: i64) -> f64 {
        let Some(s) = self.stats.get(&key) else {
            return UNKNOWN_WORD_PROB;
        };
        let n = s.spam + s.ham;
        if n <= 0.0 {
            return UNKNOWN_WORD_PROB;
        }
        let spam_ratio = s.spam / self.globals.spam.max(1.0);
        let ham_ratio = s.ham / self.globals.ham.max(1.0);
        let p = spam_ratio / (spam_ratio + ham_ratio);
        (UNKNOWN_WORD_STRENGTH * UNKNOWN_WORD_PROB + n * p) / (UNKNOWN_WORD_STRENGTH + n)
    }

    /// Spam probability of `text` with the strongest reasons.
    pub fn score(&self, text: &str) -> Scored {
        let x = extract(text);
        let mut clues: Vec<(f64, i64, &Source)> = x
            .feats
            .iter()
            .map(|(key, src)| (self.feature_prob(*key), *key, src))
            .filter(|(p, _, _)| (p - 0.5).abs() >= MIN_DEVIATION)
            .collect();
        clues.sort_by(|a, b| {
            (b.0 - 0.5)
                .abs()
                .total_cmp(&(a.0 - 0.5).abs())
                .then(a.1.cmp(&b.1))
        });
        clues.truncate(MAX_CLUES);
        let probs: Vec<f64> = clues.iter().map(|c| c.0).collect();
        Scored {
            probability: fisher_combine(&probs),
            reasons: reasons(&x, &clues),
            mature: self.is_mature(),
        }
    }

    /// Learn one moderator verdict. Touches only this comment's features.
    pub fn learn(&mut self, text: &str, spam: bool) -> Changes {
        self.add(text, spam, 1.0)
    }

    /// Exactly undo an earlier `learn(text, spam)` of the same text (counts
    /// never go below zero). To reverse a verdict use [`Model::reverse`].
    pub fn unlearn(&mut self, text: &str, spam: bool) -> Changes {
        self.add(text, spam, -1.0)
    }

    /// A moderator reversed a verdict: the comment, earlier learned as
    /// `!now_spam`, is now `now_spam`. Unlearns the old label and learns the
    /// new one; the returned changes are the net effect.
    pub fn reverse(&mut self, text: &str, now_spam: bool) -> Changes {
        let before = self.globals;
        let undo = self.unlearn(text, !now_spam);
        let redo = self.learn(text, now_spam);
        let undone: HashMap<i64, (f64, f64)> = undo
            .rows
            .iter()
            .map(|u| (u.row.key, (u.delta_a, u.delta_b)))
            .collect();
        let rows = redo
            .rows
            .into_iter()
            .map(|r| {
                let (ua, ub) = undone.get(&r.row.key).copied().unwrap_or((0.0, 0.0));
                RowChange {
                    row: r.row,
                    delta_a: r.delta_a + ua,
                    delta_b: r.delta_b + ub,
                }
            })
            .collect();
        Changes {
            rows,
            globals: self.globals,
            globals_delta: Globals {
                spam: self.globals.spam - before.spam,
                ham: self.globals.ham - before.ham,
            },
        }
    }

    fn add(&mut self, text: &str, spam: bool, sign: f64) -> Changes {
        let mut rows = Vec::new();
        for (key, _) in extract(text).feats {
            let old = self.stats.get(&key).copied().unwrap_or_default();
            let mut new = old;
            if spam {
                new.spam = (new.spam + sign).max(0.0);
            } else {
                new.ham = (new.ham + sign).max(0.0);
            }
            if new == old {
                continue;
            }
            if new.spam == 0.0 && new.ham == 0.0 {
                self.stats.remove(&key);
            } else {
                self.stats.insert(key, new);
            }
            rows.push(RowChange {
                row: Row {
                    key,
                    a: new.spam,
                    b: new.ham,
                },
                delta_a: new.spam - old.spam,
                delta_b: new.ham - old.ham,
            });
        }
        let before = self.globals;
        if spam {
            self.globals.spam = (self.globals.spam + sign).max(0.0);
        } else {
            self.globals.ham = (self.globals.ham + sign).max(0.0);
        }
        Changes {
            rows,
            globals: self.globals,
            globals_delta: Globals {
                spam: self.globals.spam - before.spam,
                ham: self.globals.ham - before.ham,
            },
        }
    }
}

/// Strongest clues as text of the comment (the synthetic length feature is
/// never shown). A clue is skipped when its words repeat, or are
/// repeated by, a clue already listed in the same direction (so `"check out"`
/// does not follow `"check out my"`).
fn reasons(x: &Extracted, clues: &[(f64, i64, &Source)]) -> Vec<String> {
    let mut listed: Vec<(bool, String)> = Vec::new();
    let mut out = Vec::new();
    for &(p, _, src) in clues {
        if out.len() == MAX_REASONS {
            break;
        }
        if matches!(src, Source::Synthetic(_)) {
            continue;
        }
        let mut text = x.display(src);
        if let Some((cut, _)) = text.char_indices().nth(MAX_REASON_CHARS) {
            text.truncate(cut);
            text.push('…');
        }
        let spammy = p >= 0.5;
        let padded = format!(" {} ", text.to_lowercase());
        if listed
            .iter()
            .any(|(d, t)| *d == spammy && (t.contains(&padded) || padded.contains(t.as_str())))
        {
            continue;
        }
        out.push(if spammy {
            format!("\"{text}\" (spam {p:.2})")
        } else {
            format!("\"{text}\" (ham {:.2})", 1.0 - p)
        });
        listed.push((spammy, padded));
    }
    out
}

/// Fisher/Robinson chi-square combining of clue probabilities; 0.5 if none.
fn fisher_combine(probs: &[f64]) -> f64 {
    if probs.is_empty() {
        return 0.5;
    }
    let ln_spam: f64 = probs.iter().map(|f| (1.0 - f).ln()).sum();
    let ln_ham: f64 = probs.iter().map(|f| f.ln()).sum();
    let dof = 2 * probs.len();
    let s = 1.0 - chi2_survival(-2.0 * ln_spam, dof);
    let h = 1.0 - chi2_survival(-2.0 * ln_ham, dof);
    ((s - h + 1.0) / 2.0).clamp(0.0, 1.0)
}

/// `P(X >= x2)` for chi-square with an even number `dof` of degrees of
/// freedom: `e^-m Σ_{i<dof/2} m^i / i!` with `m = x2 / 2`, summed in log
/// space so large `m` does not underflow early terms.
fn chi2_survival(x2: f64, dof: usize) -> f64 {
    let m = x2 / 2.0;
    if m <= 0.0 {
        return 1.0;
    }
    let ln_m = m.ln();
    let mut ln_term = -m;
    let mut sum = ln_term.exp();
    for i in 1..dof / 2 {
        ln_term += ln_m - (i as f64).ln();
        sum += ln_term.exp();
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAM: &[&str] = &[
        "Check out my channel and subscribe please!!!",
        "please subscribe to my channel, I subscribe back",
        "Make money from home, visit http://www.easy-cash.com/now",
        "check out my new video and subscribe!!",
        "Free gift cards at www.free-gifts.net click now",
        "SUBSCRIBE to my channel for more videos",
    ];
    const HAM: &[&str] = &[
        "I love this song so much",
        "This song never gets old, love it",
        "Who is still watching this in 2015?",
        "the dance at the end is the best part",
        "This video made my day, great song",
        "best song ever, I listen to it every day",
    ];

    fn trained() -> Model {
        let mut m = Model::empty();
        for (s, h) in SPAM.iter().zip(HAM) {
            m.learn(s, true);
            m.learn(h, false);
        }
        m
    }

    #[test]
    fn fnv1a64_matches_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn feature_keys_are_stable() {
        // FNV-1a 64 of "w:subscribe" and "b:check out", as i64.
        let f = features("Subscribe");
        assert!(f.contains(&Feature {
            key: -6_523_634_738_429_287_260,
            text: "Subscribe".into()
        }));
        let f = features("check   out");
        assert!(f
            .iter()
            .any(|x| x.key == -6_951_291_467_365_286_361 && x.text == "check out"));
    }

    #[test]
    fn features_are_deduplicated_and_normalised() {
        let f = features("sooooo good, soooo GOOD &amp; 2015 vs 1999 don't");
        let keys: Vec<i64> = f.iter().map(|x| x.key).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "no duplicate keys");
        let has_word = |text: &str, norm: &str| {
            features(text)
                .iter()
                .any(|x| x.key == feature_key("w", [norm]))
        };
        assert!(
            has_word("sooooo", "soo") && has_word("soooo", "soo"),
            "letter runs squeezed"
        );
        assert!(
            has_word("2015", "<n4>") && has_word("1999", "<n4>"),
            "numbers collapsed by length"
        );
        assert!(has_word("15", "<n2>"));
        assert!(has_word("GOOD", "good"), "lowercased");
        assert!(has_word("don't", "dont"), "apostrophes dropped");
        assert!(
            f.iter().any(|x| x.text == "&"),
            "entity decoded to a punctuation token"
        );
        assert!(
            f.iter().any(|x| x.text == "GOOD") && f.iter().any(|x| x.text == "(length 4-10 words)")
        );
    }

    #[test]
    fn links_become_url_and_domain_features() {
        let f =
            features(r#"see <a href="https://WWW.Example.com/x?y=1">here</a><br />and foo.net"#);
        let texts: Vec<&str> = f.iter().map(|x| x.text.as_str()).collect();
        assert!(texts.contains(&"example.com"), "{texts:?}");
        assert!(texts.contains(&"foo.net"), "{texts:?}");
        assert!(!texts.contains(&"br"), "tags are dropped: {texts:?}");
        let hearts = features("I <3 this song >_< so much");
        assert!(
            hearts.iter().any(|x| x.text == "song"),
            "a bare < is text, not a tag"
        );
        let url = feature_key("u", ["url"]);
        assert_eq!(f.iter().filter(|x| x.key == url).count(), 1);
        assert!(
            features("song.I love it").iter().all(|x| x.key != url),
            "not a link"
        );
    }

    #[test]
    fn empty_model_is_neutral() {
        let m = Model::empty();
        for text in ["", "subscribe to my channel", "I love this song"] {
            let s = m.score(text);
            assert!(
                (s.probability - 0.5).abs() < 1e-9,
                "{text}: {}",
                s.probability
            );
            assert!(s.reasons.is_empty());
            assert!(!s.mature);
        }
    }

    #[test]
    fn learning_spam_raises_a_similar_text() {
        let mut m = trained();
        let text = "subscribe to my channel and check out my video";
        let before = m.score(text).probability;
        assert!(before > 0.5, "already spammy: {before}");
        m.learn("subscribe to my channel, check out my video please", true);
        m.learn("check out my video and subscribe to my channel", true);
        let after = m.score(text).probability;
        assert!(after > before, "{before} -> {after}");
        assert!(after > 0.9, "{after}");
    }

    #[test]
    fn learning_ham_lowers_a_similar_text() {
        let mut m = trained();
        let text = "I love the dance in this video";
        let before = m.score(text).probability;
        m.learn("I love the dance in this video so much", false);
        m.learn("love the dance in this video", false);
        let after = m.score(text).probability;
        assert!(after < before, "{before} -> {after}");
        assert!(after < 0.1, "{after}");
    }

    #[test]
    fn export_round_trips_to_identical_scores() {
        let m = trained();
        let copy = Model::from_parts(m.globals(), m.rows());
        assert_eq!(copy, m);
        for text in SPAM
            .iter()
            .chain(HAM)
            .chain(&["new text, nothing known", "subscribe love"])
        {
            assert_eq!(m.score(text), copy.score(text), "{text}");
        }
        // rows are sorted, non-empty and complete
        let rows = m.rows();
        assert!(rows.windows(2).all(|w| w[0].key < w[1].key));
        assert!(rows.iter().all(|r| !r.is_empty()));
        assert_eq!(rows.len(), m.len());
    }

    #[test]
    fn reasons_name_real_tokens_of_the_input() {
        let m = trained();
        let text = "Please SUBSCRIBE to my channel, love this song";
        let s = m.score(text);
        assert!(
            !s.reasons.is_empty() && s.reasons.len() <= MAX_REASONS,
            "{:?}",
            s.reasons
        );
        for r in &s.reasons {
            let quoted = r.split('"').nth(1).expect("quoted token");
            assert!(text.contains(quoted), "{r} not in input");
            assert!(
                r.ends_with(')') && (r.contains("(spam ") || r.contains("(ham ")),
                "{r}"
            );
        }
        // strongest first: the first reason is at least as extreme as the others
        let strength = |r: &String| {
            r.rsplit(' ')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .parse::<f64>()
                .unwrap()
        };
        assert!(s
            .reasons
            .iter()
            .all(|r| strength(r) <= strength(&s.reasons[0])));
    }

    #[test]
    fn learn_reports_exactly_the_changed_rows() {
        let mut m = trained();
        let text = "subscribe subscribe to my brand new channel";
        let feats = features(text);
        let before = m.clone();
        let ch = m.learn(text, true);
        assert_eq!(ch.rows.len(), feats.len(), "every feature once");
        assert_eq!(ch.globals, m.globals());
        assert_eq!(
            ch.globals_delta,
            Globals {
                spam: 1.0,
                ham: 0.0
            }
        );
        for c in &ch.rows {
            assert_eq!((c.delta_a, c.delta_b), (1.0, 0.0));
            let old = before.stats(c.row.key).unwrap_or_default();
            assert_eq!((c.row.a, c.row.b), (old.spam + 1.0, old.ham));
            assert_eq!(
                m.stats(c.row.key),
                Some(FeatureStats {
                    spam: c.row.a,
                    ham: c.row.b
                })
            );
        }
        // rows not reported are untouched
        let changed: Vec<i64> = ch.rows.iter().map(|c| c.row.key).collect();
        for r in before.rows() {
            if !changed.contains(&r.key) {
                assert_eq!(
                    m.stats(r.key),
                    Some(FeatureStats {
                        spam: r.a,
                        ham: r.b
                    })
                );
            }
        }
    }

    #[test]
    fn unlearn_and_reverse_are_exact() {
        let base = trained();
        let mut m = base.clone();
        let text = "totally new words here: zebra quantum";
        m.learn(text, true);
        let ch = m.unlearn(text, true);
        assert_eq!(m, base, "unlearn restores the model exactly");
        assert!(
            ch.rows.iter().any(|c| c.row.is_empty()),
            "new rows reported empty: caller deletes them"
        );
        let mut fresh = Model::empty();
        assert_eq!(
            fresh.unlearn("qqq zzz", false).rows.len(),
            0,
            "nothing below zero"
        );
        assert_eq!(fresh, Model::empty());
        // reverse: learned as spam by mistake, moderator says ham
        let mut a = base.clone();
        a.learn(text, true);
        let ch = a.reverse(text, false);
        let mut b = base.clone();
        b.learn(text, false);
        assert_eq!(a, b);
        assert_eq!(
            ch.globals_delta,
            Globals {
                spam: -1.0,
                ham: 1.0
            }
        );
        assert!(ch
            .rows
            .iter()
            .all(|c| c.delta_a == -1.0 && c.delta_b == 1.0));
    }

    #[test]
    fn learning_is_order_independent_and_scoring_deterministic() {
        let mut a = Model::empty();
        let mut b = Model::empty();
        for (s, h) in SPAM.iter().zip(HAM) {
            a.learn(s, true);
            a.learn(h, false);
        }
        for (s, h) in SPAM.iter().zip(HAM).rev() {
            b.learn(h, false);
            b.learn(s, true);
        }
        assert_eq!(a.rows(), b.rows());
        let t = "check out this song and subscribe";
        assert_eq!(a.score(t), b.score(t));
        assert_eq!(a.score(t), a.score(t));
    }

    #[test]
    fn maturity_needs_both_classes() {
        assert!(trained().is_mature(), "6 of each class >= WARMUP_EXAMPLES");
        let mut one_sided = Model::empty();
        for s in SPAM {
            one_sided.learn(s, true);
        }
        let s = one_sided.score("check out my channel");
        assert!(s.probability > 0.9, "{}", s.probability);
        assert!(!s.mature, "no ham seen yet");
    }

    #[test]
    fn chi_square_combining_behaves() {
        assert_eq!(fisher_combine(&[]), 0.5);
        assert!(fisher_combine(&[0.99, 0.95, 0.9]) > 0.95);
        assert!(fisher_combine(&[0.01, 0.05, 0.1]) < 0.05);
        let mixed = fisher_combine(&[0.99, 0.01]);
        assert!((mixed - 0.5).abs() < 1e-9, "{mixed}");
        assert!((chi2_survival(0.0, 4) - 1.0).abs() < 1e-12);
        // Q(x2 = 2, dof = 2) = e^-1
        assert!((chi2_survival(2.0, 2) - (-1.0f64).exp()).abs() < 1e-12);
        // very strong evidence does not underflow into NaN
        let p = fisher_combine(&[0.999_999; 150]);
        assert!(p.is_finite() && p > 0.99);
    }
}
