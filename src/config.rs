//! Layered configuration: the compiled-in `config/default.toml`, then an
//! optional file named on the command line, then `MODERATO_SECTION__KEY`
//! environment variables. Every struct rejects unknown keys, so a typo is an
//! error naming the key rather than a silently ignored setting.
//!
//! Values are parsed as they are read (the database URL, proxy networks,
//! origins, each scorer's settings), so the rest of the application never
//! holds one that does not parse. Secrets are `SecretString`s: `Debug`
//! prints them as redacted, so logging the settings never leaks one.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::domain::PageSizes;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub articles: ArticleSettings,
    pub comments: CommentSettings,
    pub auth: AuthSettings,
    pub moderation: ModerationSettings,
    pub guards: GuardSettings,
    pub spam: SpamSettings,
    pub outbox: OutboxSettings,
    pub webhooks: WebhookSettings,
    pub retention: RetentionSettings,
    pub accounts: AccountSettings,
    pub cache: CacheSettings,
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    pub isso: IssoSettings,
    pub widget: WidgetSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub max_request_bytes: usize,
    /// Reverse proxies whose forwarding headers are believed; a bare IP is
    /// a /32 or /128.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<Origin>,
    /// The origin browsers reach this server at, e.g.
    /// `https://comments.example.org` (`""` in the file: taken from each
    /// request).
    #[serde(deserialize_with = "unset_if_empty")]
    pub public_url: Option<Origin>,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    pub sqlite: SqliteSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSettings {
    #[serde(with = "humantime_serde")]
    pub busy_timeout: Duration,
    pub synchronous: SqliteSynchronous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Normal,
    Full,
    Extra,
}

impl SqliteSynchronous {
    pub fn as_pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Extra => "EXTRA",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleSettings {
    pub auto_create: bool,
    pub auto_create_url_prefixes: Vec<String>,
    pub close_after_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSettings {
    pub allow_guests: bool,
    pub require_name_email: bool,
    #[serde(with = "humantime_serde")]
    pub edit_window: Duration,
    pub max_body_bytes: usize,
    pub max_name_bytes: usize,
    pub max_email_bytes: usize,
    pub max_url_bytes: usize,
    pub page_size: u32,
    pub max_page_size: u32,
    pub avatars: AvatarScheme,
    pub rate_limit: CommentRateLimit,
}

/// How the public avatar key of a commenter is made from their email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AvatarScheme {
    /// An HMAC with the server's key: stable per address, and useless for
    /// confirming a guessed address.
    Keyed,
    /// The plain SHA-256 Gravatar looks up; anyone can hash a guessed
    /// address and compare.
    Gravatar,
}

/// New comments per window, per client IP and per account (0: no limit).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentRateLimit {
    pub per_ip: u32,
    pub per_account: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub allow_registration: bool,
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    pub cookie_name: String,
    pub cookie_secure: bool,
    pub min_password_chars: usize,
    pub max_password_bytes: usize,
    pub argon2: Argon2Settings,
    pub login_limit: LoginLimitSettings,
    pub register_limit: RegisterLimitSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterLimitSettings {
    pub per_ip: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginLimitSettings {
    /// Attempts per client address and window.
    pub per_ip: u32,
    /// Failed attempts per account from one address (or one device) and
    /// window.
    pub per_email_ip: u32,
    /// Failed attempts per account from unknown devices and window before
    /// such attempts are slowed to one per `slow_interval`.
    pub per_email: u32,
    #[serde(with = "humantime_serde")]
    pub slow_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    pub mode: ModerationMode,
    /// Queue and log entries per page when the client does not say, and
    /// the most a client may ask for.
    pub page_size: u32,
    pub max_page_size: u32,
}

impl ModerationSettings {
    pub fn page_sizes(&self) -> PageSizes {
        PageSizes {
            default: self.page_size,
            max: self.max_page_size,
        }
    }
}

impl CommentSettings {
    /// Comments per page of a thread.
    pub fn page_sizes(&self) -> PageSizes {
        PageSizes {
            default: self.page_size,
            max: self.max_page_size,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationMode {
    None,
    FirstTime,
    All,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSettings {
    #[serde(with = "humantime_serde")]
    pub flood_interval: Duration,
    pub refuse_duplicates: bool,
    #[serde(with = "humantime_serde")]
    pub duplicate_window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamSettings {
    pub review_threshold: f64,
    pub spam_threshold: f64,
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    pub scorers: Vec<ScorerSettings>,
}

/// One entry of `[[spam.scorers]]`, told apart by its `kind`: each kind
/// has a settings table of its own, so an unknown kind or a misspelt
/// setting is refused when the configuration is read, naming the key.
/// What the settings' values mean is checked when the scorer is built
/// (`spam::Pipeline::build`), still at start-up.
#[derive(Debug, Clone)]
pub enum ScorerSettings {
    Honeypot(ScorerEntry<HoneypotSettings>),
    Wordlists(ScorerEntry<Option<NoSettings>>),
    Links(ScorerEntry<Option<LinksSettings>>),
    Learned(ScorerEntry<Option<NoSettings>>),
    Akismet(ScorerEntry<AkismetSettings>),
    Http(ScorerEntry<HttpScorerSettings>),
}

/// The `kind`s there are, as the configuration names them.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ScorerKind {
    Honeypot,
    Wordlists,
    Links,
    Learned,
    Akismet,
    Http,
}

/// Reads an entry as `#[serde(tag = "kind")]` would, but keeps the path
/// of a key that is wrong: serde's tagged enums buffer the entry first,
/// and an error from the buffer no longer says where it was
/// (`spam.scorers.0: invalid type ...` instead of naming
/// `settings.hold_at`). Reading from figment's own value keeps it.
impl<'de> Deserialize<'de> for ScorerSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entry = <figment::value::Value as Deserialize>::deserialize(deserializer)?;
        read_scorer(entry).map_err(|e| D::Error::custom(describe_figment_error(*e)))
    }
}

fn read_scorer(entry: figment::value::Value) -> Result<ScorerSettings, Box<figment::Error>> {
    use figment::value::Value;
    /// Only the `kind`, the rest left for the kind's own type.
    #[derive(Deserialize)]
    struct Entry {
        kind: ScorerKind,
    }
    let Entry { kind } = entry.deserialize()?;
    let tag = entry.tag();
    let mut rest = entry
        .into_dict()
        .ok_or_else(|| Box::new(figment::Error::from("expected a table".to_string())))?;
    rest.remove("kind");
    let rest = Value::Dict(tag, rest);
    Ok(match kind {
        ScorerKind::Honeypot => ScorerSettings::Honeypot(rest.deserialize()?),
        ScorerKind::Wordlists => ScorerSettings::Wordlists(rest.deserialize()?),
        ScorerKind::Links => ScorerSettings::Links(rest.deserialize()?),
        ScorerKind::Learned => ScorerSettings::Learned(rest.deserialize()?),
        ScorerKind::Akismet => ScorerSettings::Akismet(rest.deserialize()?),
        ScorerKind::Http => ScorerSettings::Http(rest.deserialize()?),
    })
}

/// What every scorer entry has besides its `kind`: how it counts, and its
/// own `settings` (an `Option` for the kinds whose table may be left out).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorerEntry<S> {
    #[serde(default)]
    pub mode: ScorerMode,
    #[serde(default = "default_weight")]
    pub weight: f64,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(default)]
    pub on_error: OnError,
    pub settings: S,
}

/// Applies `$body` to the entry of whichever kind `$scorer` is.
macro_rules! with_entry {
    ($scorer:expr, |$entry:ident| $body:expr) => {
        match $scorer {
            ScorerSettings::Honeypot($entry) => $body,
            ScorerSettings::Wordlists($entry) => $body,
            ScorerSettings::Links($entry) => $body,
            ScorerSettings::Learned($entry) => $body,
            ScorerSettings::Akismet($entry) => $body,
            ScorerSettings::Http($entry) => $body,
        }
    };
}

impl ScorerSettings {
    /// The `kind` as written in the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            ScorerSettings::Honeypot(_) => "honeypot",
            ScorerSettings::Wordlists(_) => "wordlists",
            ScorerSettings::Links(_) => "links",
            ScorerSettings::Learned(_) => "learned",
            ScorerSettings::Akismet(_) => "akismet",
            ScorerSettings::Http(_) => "http",
        }
    }

    pub fn mode(&self) -> ScorerMode {
        with_entry!(self, |entry| entry.mode)
    }

    pub fn weight(&self) -> f64 {
        with_entry!(self, |entry| entry.weight)
    }

    pub fn timeout(&self) -> Duration {
        with_entry!(self, |entry| entry.timeout)
    }

    pub fn on_error(&self) -> OnError {
        with_entry!(self, |entry| entry.on_error)
    }
}

/// The settings table of a scorer that has none: only `{}` is accepted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoneypotSettings {
    /// The JSON field of the comment form that must stay empty.
    pub field: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinksSettings {
    /// Hold for a moderator at this many links or more; 0 never holds.
    pub hold_at: usize,
    /// Mark as spam at this many links or more; 0 never does.
    pub spam_at: usize,
}

impl Default for LinksSettings {
    /// WordPress holds a comment with 2 links or more by default.
    fn default() -> Self {
        LinksSettings {
            hold_at: 2,
            spam_at: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AkismetSettings {
    pub api_key: SecretString,
    /// The blog's front page URL, as registered with Akismet.
    pub blog: String,
    #[serde(default = "default_akismet_base_url")]
    pub base_url: String,
    #[serde(default = "default_akismet_lang")]
    pub blog_lang: String,
    #[serde(default = "default_akismet_charset")]
    pub blog_charset: String,
    /// Treat `X-akismet-pro-tip: discard` (blatant spam) as a hard spam rule.
    #[serde(default = "yes")]
    pub honour_discard: bool,
    /// Mark every call as a test (Akismet then does not learn from it).
    #[serde(default)]
    pub is_test: bool,
    /// The honeypot field name, sent along so Akismet can use it.
    #[serde(default)]
    pub honeypot_field_name: Option<String>,
    #[serde(default)]
    pub feedback: AkismetFeedback,
    /// The score for Akismet's "spam" answer.
    #[serde(default = "default_akismet_spam_score")]
    pub spam_score: f64,
    /// The score for Akismet's "not spam" answer.
    #[serde(default = "default_akismet_ham_score")]
    pub ham_score: f64,
}

/// Which moderators' verdicts are sent to Akismet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AkismetFeedback {
    /// Every verdict.
    #[default]
    All,
    /// Only verdicts that correct what Akismet said.
    Corrections,
}

fn default_akismet_base_url() -> String {
    "https://rest.akismet.com".into()
}
fn default_akismet_lang() -> String {
    "en".into()
}
fn default_akismet_charset() -> String {
    "UTF-8".into()
}
fn yes() -> bool {
    true
}
fn default_akismet_spam_score() -> f64 {
    0.95
}
fn default_akismet_ham_score() -> f64 {
    0.3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpScorerSettings {
    pub url: String,
    /// When set, requests are signed with it.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// Where moderators' verdicts are POSTed (through the outbox), if the
    /// service learns from them.
    #[serde(default)]
    pub feedback_url: Option<String>,
}

fn default_weight() -> f64 {
    1.0
}

fn default_timeout() -> Duration {
    Duration::from_secs(2)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScorerMode {
    /// Part of the decision.
    #[default]
    Enforce,
    /// Scored and recorded only: a way to try a scorer on live traffic.
    Shadow,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Hold the comment for a moderator (never publish on a failure).
    #[default]
    Hold,
    /// Decide without this scorer.
    Ignore,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub first_retry: Duration,
    #[serde(with = "humantime_serde")]
    pub max_retry: Duration,
    #[serde(with = "humantime_serde")]
    pub keep_finished: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub endpoints: Vec<WebhookEndpoint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    pub url: String,
    pub secret: SecretString,
    /// Events to send; empty means all of them.
    #[serde(default)]
    pub events: Vec<WebhookEvent>,
}

/// What a webhook can announce, named as endpoints subscribe to it and as
/// the `event` field of a delivery says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "comment.created")]
    CommentCreated,
    #[serde(rename = "comment.held")]
    CommentHeld,
    #[serde(rename = "comment.approved")]
    CommentApproved,
    #[serde(rename = "comment.spam")]
    CommentSpam,
    #[serde(rename = "comment.trashed")]
    CommentTrashed,
    #[serde(rename = "comment.deleted")]
    CommentDeleted,
    #[serde(rename = "commenter.banned")]
    CommenterBanned,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 7] = [
        WebhookEvent::CommentCreated,
        WebhookEvent::CommentHeld,
        WebhookEvent::CommentApproved,
        WebhookEvent::CommentSpam,
        WebhookEvent::CommentTrashed,
        WebhookEvent::CommentDeleted,
        WebhookEvent::CommenterBanned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::CommentCreated => "comment.created",
            WebhookEvent::CommentHeld => "comment.held",
            WebhookEvent::CommentApproved => "comment.approved",
            WebhookEvent::CommentSpam => "comment.spam",
            WebhookEvent::CommentTrashed => "comment.trashed",
            WebhookEvent::CommentDeleted => "comment.deleted",
            WebhookEvent::CommenterBanned => "commenter.banned",
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub spam_days: u32,
    pub trash_days: u32,
    pub ip_days: u32,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    pub on_delete: OnAccountDelete,
}

impl AccountSettings {
    /// What happened to a deleted account's comments, in one word.
    pub fn on_delete_label(&self) -> &'static str {
        self.on_delete.label()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnAccountDelete {
    /// Keep the comments, without the author's name, email, URL or IP.
    Anonymize,
    /// Delete the comments too (replies keep a placeholder).
    Delete,
}

impl OnAccountDelete {
    /// What happened to the comments, as answers and notices say it.
    pub fn label(self) -> &'static str {
        match self {
            OnAccountDelete::Anonymize => "anonymized",
            OnAccountDelete::Delete => "deleted",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "CacheKeys")]
pub struct CacheSettings {
    /// What the cache holds at most, in bytes: pages, counts and their
    /// bookkeeping together.
    pub max_bytes: u64,
    /// What to tell the operator about keys of older versions found in
    /// their settings (logged at start-up).
    pub old_keys: Vec<&'static str>,
}

/// `[cache]` as written. The layers are merged before they are read, so the
/// old name of `max_bytes` cannot be a serde alias: the defaults always give
/// `max_bytes`, and with an operator's `max_page_bytes` both would be
/// present, a duplicate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheKeys {
    max_bytes: u64,
    /// The old name of `max_bytes`, from when only pages were weighed. Only
    /// an operator's settings can give it, so given, it wins.
    #[serde(default)]
    max_page_bytes: Option<u64>,
    /// Once the bound on cached counts; the cache is bounded by bytes alone
    /// now. Still accepted so that an existing file starts.
    #[serde(default)]
    max_entries: Option<serde::de::IgnoredAny>,
}

impl From<CacheKeys> for CacheSettings {
    fn from(keys: CacheKeys) -> Self {
        let mut old_keys = Vec::new();
        if keys.max_page_bytes.is_some() {
            old_keys.push(
                "cache.max_page_bytes is read as cache.max_bytes, which now bounds pages and \
                 counts together; rename it",
            );
        }
        if keys.max_entries.is_some() {
            old_keys.push(
                "cache.max_entries is ignored: the cache is bounded by cache.max_bytes alone; \
                 remove it",
            );
        }
        CacheSettings {
            max_bytes: keys.max_page_bytes.unwrap_or(keys.max_bytes),
            old_keys,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>`
    /// (`""` in the file: not set).
    #[serde(deserialize_with = "unset_if_empty")]
    pub token: Option<SecretString>,
    /// When set, `/metrics` is served on this address only.
    pub bind: String,
}

/// The embeddable comment widget (`/embed.js`) and the demo page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSettings {
    /// Whether `/embed.js` and its stylesheet are served.
    pub enabled: bool,
    /// Whether the guest form asks for a website.
    pub website_field: bool,
    /// Reply levels the widget indents (1 to 10); deeper replies sit at the
    /// last level and say whom they answer.
    pub max_depth: u8,
    /// Whether `/demo/`, an article page using the widget, is served.
    pub demo: bool,
}

impl WidgetSettings {
    fn validate(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.max_depth) {
            return Err(format!(
                "widget.max_depth: {} must be between 1 and 10",
                self.max_depth
            ));
        }
        if self.demo && !self.enabled {
            return Err("widget.demo needs widget.enabled: the demo page uses the widget".into());
        }
        Ok(())
    }
}

/// Isso's API (`compat::isso`), for sites running Isso's JavaScript
/// client. What Isso's `GET /config` reports and Moderato has a setting for
/// already comes from that setting (`comments.require_name_email`,
/// `comments.avatars`, `comments.edit_window`); these are the rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssoSettings {
    pub enabled: bool,
    /// Where the API is mounted: starts with `/`, no trailing slash.
    pub prefix: String,
    /// Whether commenters may reply to their own comment while they can
    /// still edit it.
    pub reply_to_self: bool,
    /// Whether comments can be liked and disliked.
    pub vote: bool,
    /// Vote totals at which the client changes a comment's look (ascending).
    pub vote_levels: Vec<i64>,
    /// The Gravatar image URL for `comments.avatars = "gravatar"`, `{}`
    /// standing for the address's SHA-256.
    pub gravatar_url: String,
    /// The blog's URL that feed links start with (`""`: no feed).
    pub feed_base: String,
    /// Entries in a thread's feed at most.
    pub feed_limit: u32,
    /// Whether `GET /latest` answers (the newest comments of every thread).
    pub latest: bool,
}

/// Paths an Isso prefix may not take, or live under: the native API's.
const RESERVED_PREFIXES: [&str; 5] = ["/api", "/metrics", "/healthz", "/readyz", "/admin"];

impl IssoSettings {
    fn validate(&self) -> Result<(), String> {
        let prefix = self.prefix.as_str();
        let well_formed = prefix.len() > 1
            && prefix.starts_with('/')
            && !prefix.ends_with('/')
            && !prefix.contains("//")
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
        if !well_formed {
            return Err(format!(
                "isso.prefix: `{prefix}` must start with '/', not end with one, and hold only \
                 letters, digits, '-', '_', '.' and single '/' between them (e.g. \"/isso\")"
            ));
        }
        if let Some(taken) = RESERVED_PREFIXES
            .iter()
            .find(|r| prefix == **r || prefix.starts_with(&format!("{r}/")))
        {
            return Err(format!(
                "isso.prefix: `{prefix}` would hide {taken}, which Moderato serves itself"
            ));
        }
        if !self.vote_levels.windows(2).all(|w| w[0] < w[1]) {
            return Err("isso.vote_levels must be in ascending order".into());
        }
        if self.gravatar_url.matches("{}").count() != 1 {
            return Err("isso.gravatar_url must hold `{}` once, where the hash goes".into());
        }
        if !self.feed_base.is_empty() {
            let parsed =
                url::Url::parse(&self.feed_base).map_err(|e| format!("isso.feed_base: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.host_str().is_none()
                || parsed.query().is_some()
                || parsed.fragment().is_some()
            {
                return Err(
                    "isso.feed_base must be an http(s) URL without query or fragment".into(),
                );
            }
        }
        if self.feed_limit == 0 {
            return Err("isso.feed_limit must be at least 1".into());
        }
        Ok(())
    }

    /// The feed's base URL without a trailing slash, when the feed is on.
    pub fn feed_base(&self) -> Option<&str> {
        (!self.feed_base.is_empty()).then(|| self.feed_base.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where settings come from, beyond the compiled-in defaults.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// A TOML file given with `--config`.
    pub file: Option<PathBuf>,
    /// Read `MODERATO_SECTION__KEY` variables (off in tests, so a developer's
    /// shell cannot change what a test sees).
    pub env: bool,
    /// Last-word overrides as TOML text (command-line flags, tests).
    pub overrides: Vec<String>,
}

impl Settings {
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = &sources.file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.clone(),
                    message: "not found or not a file".into(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        if sources.env {
            // Only variables with a section separator are settings; this keeps
            // e.g. MODERATO_TEST_DATABASE_URL (used by the test suite) out.
            figment = figment.merge(
                Env::prefixed("MODERATO_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            );
        }
        for text in &sources.overrides {
            figment = figment.merge(Toml::string(text));
        }
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks that serde cannot express: relations between keys and values
    /// that must parse.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.comments.page_size == 0 || self.comments.page_size > self.comments.max_page_size {
            return invalid(
                "comments.page_size must be between 1 and comments.max_page_size".into(),
            );
        }
        if self.moderation.page_size == 0
            || self.moderation.page_size > self.moderation.max_page_size
        {
            return invalid(
                "moderation.page_size must be between 1 and moderation.max_page_size".into(),
            );
        }
        if self.comments.max_body_bytes == 0 || self.comments.max_name_bytes == 0 {
            return invalid(
                "comments.max_body_bytes and comments.max_name_bytes must be positive".into(),
            );
        }
        if self.server.max_request_bytes < self.comments.max_body_bytes {
            return invalid(format!(
                "server.max_request_bytes ({}) must be at least comments.max_body_bytes ({})",
                self.server.max_request_bytes, self.comments.max_body_bytes
            ));
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be at least 1".into());
        }
        if self.auth.min_password_chars == 0
            || self.auth.min_password_chars > self.auth.max_password_bytes
        {
            return invalid(
                "auth.min_password_chars must be between 1 and auth.max_password_bytes".into(),
            );
        }
        if self.auth.cookie_name.is_empty()
            || !self
                .auth
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return invalid(
                "auth.cookie_name must be non-empty ASCII letters, digits, '_' or '-'".into(),
            );
        }
        let spam = &self.spam;
        let in_unit = |x: f64| (0.0..=1.0).contains(&x);
        if !in_unit(spam.review_threshold)
            || !in_unit(spam.spam_threshold)
            || spam.review_threshold > spam.spam_threshold
        {
            return invalid("spam: need 0 <= review_threshold <= spam_threshold <= 1".into());
        }
        for (i, scorer) in spam.scorers.iter().enumerate() {
            let weight = scorer.weight();
            if !weight.is_finite() || weight < 0.0 {
                return invalid(format!("spam.scorers[{i}].weight must be a number >= 0"));
            }
        }
        for (i, hook) in self.webhooks.endpoints.iter().enumerate() {
            let url = url::Url::parse(&hook.url)
                .map_err(|e| ConfigError::Invalid(format!("webhooks.endpoints[{i}].url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return invalid(format!("webhooks.endpoints[{i}].url must be http or https"));
            }
            if hook.secret.expose_secret().len() < 16 {
                return invalid(format!(
                    "webhooks.endpoints[{i}].secret must be at least 16 bytes"
                ));
            }
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts must be at least 1".into());
        }
        argon2::Params::new(
            self.auth.argon2.memory_kib,
            self.auth.argon2.iterations,
            self.auth.argon2.parallelism,
            None,
        )
        .map_err(|e| ConfigError::Invalid(format!("auth.argon2: {e}")))?;
        if let Some(token) = &self.metrics.token {
            if token.expose_secret().len() < 16 {
                return invalid("metrics.token must be at least 16 bytes".into());
            }
        }
        if !self.metrics.bind.is_empty()
            && self.metrics.bind.parse::<std::net::SocketAddr>().is_err()
        {
            return invalid(format!(
                "metrics.bind: `{}` must be an address like 127.0.0.1:9090",
                self.metrics.bind
            ));
        }
        self.isso.validate().map_err(ConfigError::Invalid)?;
        self.widget.validate().map_err(ConfigError::Invalid)?;
        Ok(())
    }

    /// Worker threads to start: the configured number, or one per core.
    pub fn worker_count(&self) -> usize {
        match self.server.workers {
            0 => available_cores(),
            n => n,
        }
    }
}

/// A parsed `database.url`: which database, and where.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq as is; secret,
    /// since it may carry the password.
    Postgres(SecretString),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/moderato.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.into()));
        }
        Err("expected a URL starting with sqlite:// or postgres://".into())
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, String> {
        DatabaseUrl::parse(&url)
    }
}

/// Printing a URL must never print its password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(raw) => match url::Url::parse(raw.expose_secret()) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.set_query(None);
                    write!(f, "{parsed}")
                }
                Err(_) => write!(f, "postgres://(unparsable)"),
            },
        }
    }
}

/// A web origin in the form browsers send in `Origin`:
/// `scheme://host[:port]`, lower-case, the scheme's default port left out,
/// no trailing slash; so it can be compared with that header as it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Origin(String);

impl Origin {
    /// Accepts an http(s) URL with a host, an optional port and nothing
    /// else (a single trailing slash is the empty path, and dropped).
    pub fn parse(text: &str) -> Result<Origin, String> {
        let refused = || {
            format!(
                "`{text}` must be an origin like https://blog.example.com \
                 (scheme and host, optional port, no path)"
            )
        };
        let url = url::Url::parse(text).map_err(|_| refused())?;
        let bare = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !bare {
            return Err(refused());
        }
        Ok(Origin(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Origin {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Origin::parse(&text)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a list of IP networks; a bare address is a network of one.
fn networks<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    D::Error::custom(format!("`{text}` is not an IP address or CIDR range"))
                })
        })
        .collect()
}

/// Reads a string setting whose empty value, as the defaults spell it,
/// means "not set".
fn unset_if_empty<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<String>,
    T::Error: fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        return Ok(None);
    }
    T::try_from(text).map(Some).map_err(D::Error::custom)
}

pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Figment's messages name the key but also carry its internal profile and
/// metadata; keep the part a person needs: what is wrong and where.
fn describe_figment_error(error: figment::Error) -> String {
    use figment::error::Kind;
    error
        .into_iter()
        .map(|e| {
            let mut path = e.path.clone();
            let what = match &e.kind {
                Kind::UnknownField(field, expected) => {
                    if path.last() != Some(field) {
                        path.push(field.clone());
                    }
                    format!("unknown key; the keys here are {}", expected.join(", "))
                }
                Kind::UnknownVariant(value, expected) => {
                    format!(
                        "unknown value \"{value}\"; expected one of {}",
                        expected.join(", ")
                    )
                }
                other => other.to_string(),
            };
            let key = path.join(".");
            let source = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map(|s| format!(" (in {s})"))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{what}{source}")
            } else {
                format!("{key}: {what}{source}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(extra: &str) -> Result<Settings, ConfigError> {
        Settings::load(&Sources {
            overrides: vec![extra.to_string()],
            ..Sources::default()
        })
    }

    #[test]
    fn defaults_load_without_any_file() {
        let s = Settings::load(&Sources::default()).expect("defaults must load");
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert!(
            matches!(&s.database.url, DatabaseUrl::Sqlite(path) if path.as_path() == std::path::Path::new("data/moderato.db"))
        );
        assert_eq!(s.database.sqlite.synchronous, SqliteSynchronous::Full);
        assert_eq!(s.comments.edit_window, Duration::from_secs(15 * 60));
        assert_eq!(s.auth.argon2.memory_kib, 19456);
    }

    #[test]
    fn the_isso_prefix_must_be_a_path_of_its_own() {
        let s = Settings::load(&Sources::default()).unwrap();
        assert!(s.isso.enabled);
        assert_eq!(s.isso.prefix, "/isso");
        assert_eq!(s.isso.feed_base(), None);
        assert_eq!(
            load_with("[isso]\nprefix = \"/comments/isso\"\n")
                .unwrap()
                .isso
                .prefix,
            "/comments/isso"
        );
        for bad in [
            "isso",
            "/",
            "/isso/",
            "",
            "/a//b",
            "/is so",
            "/api",
            "/api/isso",
            "/admin",
        ] {
            let msg = load_with(&format!("[isso]\nprefix = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains("isso.prefix"), "{bad}: {msg}");
        }
        // Only what is under /api is taken, not every name that starts so.
        assert!(load_with("[isso]\nprefix = \"/apis\"\n").is_ok());
    }

    #[test]
    fn isso_vote_levels_feed_and_gravatar_settings_are_checked() {
        let msg = load_with("[isso]\nvote_levels = [5, -5]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("isso.vote_levels"), "{msg}");
        let msg = load_with("[isso]\ngravatar_url = \"https://g.example/avatar\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("isso.gravatar_url"), "{msg}");
        let msg = load_with("[isso]\nfeed_base = \"blog.example\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("isso.feed_base"), "{msg}");
        let s = load_with("[isso]\nfeed_base = \"https://blog.example/\"\n").unwrap();
        assert_eq!(s.isso.feed_base(), Some("https://blog.example"));
        let msg = load_with("[isso]\nenabeld = false\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("isso.enabeld: unknown key"), "{msg}");
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_key_once_and_the_known_ones() {
        let err = load_with("[server]\nbnd = \"0.0.0.0:1\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "configuration: server.bnd: unknown key; the keys here are bind, workers,"
            ),
            "{msg}"
        );
        assert!(!msg.contains("bnd.bnd") && !msg.contains('`'), "{msg}");
    }

    #[test]
    fn unknown_values_name_the_ones_allowed() {
        let msg = load_with("[moderation]\nmode = \"sometimes\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "configuration: moderation.mode: unknown value \"sometimes\"; expected one of none, first_time, all"
        );
    }

    #[test]
    fn unknown_section_is_an_error() {
        let msg = load_with("[srever]\nbind = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("srever"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let msg = load_with("[comments]\npage_size = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("comments.page_size"), "{msg}");
    }

    #[test]
    fn override_layer_wins() {
        let s = load_with("[moderation]\nmode = \"all\"\n").unwrap();
        assert_eq!(s.moderation.mode, ModerationMode::All);
    }

    #[test]
    fn invalid_trusted_proxy_is_rejected() {
        let msg = load_with("[server]\ntrusted_proxies = [\"10.0.0.0/99\"]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("trusted_proxies"), "{msg}");
    }

    #[test]
    fn old_cache_keys_still_load_and_are_reported() {
        let defaults = Settings::load(&Sources::default()).unwrap();
        assert!(defaults.cache.old_keys.is_empty());
        let s = load_with("[cache]\nmax_page_bytes = 1000\nmax_entries = 5\n").unwrap();
        assert_eq!(s.cache.max_bytes, 1000);
        assert_eq!(s.cache.old_keys.len(), 2, "{:?}", s.cache.old_keys);
        let msg = load_with("[cache]\nmax_byte = 1\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cache.max_byte: unknown key"), "{msg}");
    }

    #[test]
    fn invalid_database_url_is_rejected() {
        let msg = load_with("[database]\nurl = \"mysql://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("database.url"), "{msg}");
    }

    #[test]
    fn trusted_proxies_are_networks_and_a_bare_address_is_one_host() {
        let s = load_with("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\", \"::1\"]\n")
            .unwrap();
        let expected: Vec<IpNet> = ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(s.server.trusted_proxies, expected);
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        let s = load_with(
            "[server]\ncors_origins = [\"HTTPS://Blog.Example.COM:443/\", \"http://localhost:8080\"]\n\
             public_url = \"https://Comments.Example.org\"\n",
        )
        .unwrap();
        let origins: Vec<&str> = s.server.cors_origins.iter().map(Origin::as_str).collect();
        assert_eq!(
            origins,
            ["https://blog.example.com", "http://localhost:8080"]
        );
        assert_eq!(
            s.server.public_url.as_ref().map(Origin::as_str),
            Some("https://comments.example.org")
        );
        let unset = load_with("[server]\npublic_url = \"\"\n").unwrap();
        assert_eq!(unset.server.public_url, None);
    }

    #[test]
    fn what_is_not_an_origin_is_refused_naming_the_key() {
        for bad in [
            "https://blog.example/comments",
            "https://blog.example/?x=1",
            "https://user@blog.example",
            "ftp://blog.example",
            "blog.example",
        ] {
            let msg = load_with(&format!("[server]\ncors_origins = [\"{bad}\"]\n"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains("server.cors_origins"), "{bad}: {msg}");
            let msg = load_with(&format!("[server]\npublic_url = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains("server.public_url"), "{bad}: {msg}");
        }
    }

    #[test]
    fn database_urls_name_the_file_or_the_server() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/m.db"),
            Ok(DatabaseUrl::Sqlite(path)) if path.as_path() == std::path::Path::new("data/m.db")
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite:///var/lib/m.db"),
            Ok(DatabaseUrl::Sqlite(path)) if path.as_path() == std::path::Path::new("/var/lib/m.db")
        ));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        for url in ["postgres://u@h/db", "postgresql://u@h/db"] {
            assert!(matches!(
                DatabaseUrl::parse(url),
                Ok(DatabaseUrl::Postgres(_))
            ));
        }
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("data/m.db").is_err());
    }

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.example:5432/moderato").unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn debug_output_of_the_settings_holds_no_secret() {
        let s = load_with(
            "[database]\nurl = \"postgres://app:db-password-1@db.example/moderato\"\n\
             [metrics]\ntoken = \"metrics-token-0123456789\"\n\
             [webhooks]\nendpoints = [{ url = \"https://hooks.example/x\", secret = \"webhook-secret-0123456789\" }]\n\
             [[spam.scorers]]\nkind = \"akismet\"\nsettings = { api_key = \"akismet-key-0123\", blog = \"https://blog.example/\" }\n\
             [[spam.scorers]]\nkind = \"http\"\nsettings = { url = \"https://score.example/\", secret = \"http-scorer-secret-0123\" }\n",
        )
        .unwrap();
        let shown = format!("{s:?}");
        for secret in [
            "db-password-1",
            "metrics-token-0123456789",
            "webhook-secret-0123456789",
            "akismet-key-0123",
            "http-scorer-secret-0123",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // The settings are there, only the secrets are not shown.
        assert!(shown.contains("hooks.example") && shown.contains("score.example"));
        assert_eq!(
            s.metrics.token.as_ref().map(|t| t.expose_secret()),
            Some("metrics-token-0123456789")
        );
    }

    #[test]
    fn an_empty_metrics_token_is_none() {
        let s = Settings::load(&Sources::default()).unwrap();
        assert!(s.metrics.token.is_none());
        let msg = load_with("[metrics]\ntoken = \"short\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("metrics.token"), "{msg}");
    }

    #[test]
    fn webhook_events_are_parsed_and_unknown_ones_refused() {
        let hook = |events: &str| {
            format!(
                "[webhooks]\nendpoints = [{{ url = \"https://hooks.example/x\", \
                 secret = \"0123456789abcdef\", events = [{events}] }}]\n"
            )
        };
        let s = load_with(&hook("\"comment.held\", \"commenter.banned\"")).unwrap();
        assert_eq!(
            s.webhooks.endpoints[0].events,
            [WebhookEvent::CommentHeld, WebhookEvent::CommenterBanned]
        );
        for event in WebhookEvent::ALL {
            let s = load_with(&hook(&format!("\"{event}\""))).unwrap();
            assert_eq!(s.webhooks.endpoints[0].events, [event]);
        }
        let msg = load_with(&hook("\"comment.edited\""))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("webhooks.endpoints.0.events.0") && msg.contains("comment.edited"),
            "{msg}"
        );
    }

    #[test]
    fn the_default_scorers_and_the_documented_examples_load() {
        let s = Settings::load(&Sources::default()).unwrap();
        let kinds: Vec<&str> = s.spam.scorers.iter().map(ScorerSettings::kind).collect();
        assert_eq!(kinds, ["honeypot", "wordlists", "links", "learned"]);
        match &s.spam.scorers[2] {
            ScorerSettings::Links(entry) => {
                assert_eq!(entry.settings.as_ref().map(|l| l.hold_at), Some(2))
            }
            other => panic!("{other:?}"),
        }
        // The commented-out entries of config/default.toml.
        let s = load_with(
            "[[spam.scorers]]\nkind = \"akismet\"\ntimeout = \"3s\"\n\
             settings = { api_key = \"…\", blog = \"https://blog.example/\" }\n\
             [[spam.scorers]]\nkind = \"http\"\nmode = \"shadow\"\n\
             settings = { url = \"https://classifier.internal/score\", secret = \"…\" }\n\
             [[spam.scorers]]\nkind = \"wordlists\"\nsettings = {}\n",
        )
        .unwrap();
        let scorers = &s.spam.scorers;
        assert_eq!(scorers[0].kind(), "akismet");
        assert_eq!(scorers[0].timeout(), Duration::from_secs(3));
        assert_eq!(scorers[1].mode(), ScorerMode::Shadow);
        assert_eq!(scorers[2].weight(), 1.0);
    }

    #[test]
    fn a_typo_in_a_scorer_setting_is_refused_naming_the_key() {
        let msg = load_with(
            "[[spam.scorers]]\nkind = \"links\"\nsettings = { hold_at = 2, spam_att = 5 }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.starts_with(
                "configuration: spam.scorers.0: settings.spam_att: unknown key; \
                 the keys here are hold_at, spam_at"
            ),
            "{msg}"
        );
        let msg = load_with("[[spam.scorers]]\nkind = \"links\"\nsettings = { hold_at = \"2\" }\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("spam.scorers.0: settings.hold_at"), "{msg}");
        let msg = load_with("[[spam.scorers]]\nkind = \"learned\"\nweigth = 2\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("spam.scorers.0: weigth: unknown key"), "{msg}");
        let msg = load_with("[[spam.scorers]]\nkind = \"learned\"\nsettings = { x = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("spam.scorers.0: settings.x: unknown key"),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_scorer_kind_is_refused_naming_the_key_and_the_kinds() {
        let msg = load_with("[[spam.scorers]]\nkind = \"honeypott\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(
                "configuration: spam.scorers.0: kind: unknown value \"honeypott\"; \
                 expected one of honeypot, wordlists, links, learned, akismet, http"
            ),
            "{msg}"
        );
        let msg = load_with("[[spam.scorers]]\nmode = \"shadow\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("spam.scorers.0: missing field `kind`"),
            "{msg}"
        );
    }
}
