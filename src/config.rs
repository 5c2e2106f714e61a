//! Layered configuration: the compiled-in `config/default.toml`, then an
//! optional file named on the command line, then `MODERATO_SECTION__KEY`
//! environment variables. Every struct rejects unknown keys, so a typo is an
//! error naming the key rather than a silently ignored setting.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::Deserialize;

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub max_request_bytes: usize,
    pub trusted_proxies: Vec<String>,
    pub cors_origins: Vec<String>,
    /// The origin browsers reach this server at, e.g.
    /// `https://comments.example.org` (empty: taken from each request).
    pub public_url: String,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
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

/// One entry of `[[spam.scorers]]`: which scorer, how it counts, and its
/// own settings (checked by the scorer when the pipeline is built).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorerSettings {
    pub kind: String,
    #[serde(default)]
    pub mode: ScorerMode,
    #[serde(default = "default_weight")]
    pub weight: f64,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(default)]
    pub on_error: OnError,
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
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
    pub secret: String,
    /// Events to send; empty means all of them.
    #[serde(default)]
    pub events: Vec<String>,
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
        match self.on_delete {
            OnAccountDelete::Anonymize => "anonymized",
            OnAccountDelete::Delete => "deleted",
        }
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
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>`.
    pub token: String,
    /// When set, `/metrics` is served on this address only.
    pub bind: String,
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
            if !scorer.weight.is_finite() || scorer.weight < 0.0 {
                return invalid(format!("spam.scorers[{i}].weight must be a number >= 0"));
            }
        }
        for (i, hook) in self.webhooks.endpoints.iter().enumerate() {
            let url = url::Url::parse(&hook.url)
                .map_err(|e| ConfigError::Invalid(format!("webhooks.endpoints[{i}].url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return invalid(format!("webhooks.endpoints[{i}].url must be http or https"));
            }
            if hook.secret.len() < 16 {
                return invalid(format!(
                    "webhooks.endpoints[{i}].secret must be at least 16 bytes"
                ));
            }
            if let Some(unknown) = hook
                .events
                .iter()
                .find(|e| !crate::webhooks::EVENTS.contains(&e.as_str()))
            {
                return invalid(format!(
                    "webhooks.endpoints[{i}].events: unknown event `{unknown}`; known: {}",
                    crate::webhooks::EVENTS.join(", ")
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
        self.trusted_proxies()?;
        for origin in &self.server.cors_origins {
            if !is_origin(origin) {
                return invalid(format!(
                    "server.cors_origins: `{origin}` must be an origin like https://blog.example.com (scheme and host, optional port, no path)"
                ));
            }
        }
        if !self.server.public_url.is_empty() && !is_origin(&self.server.public_url) {
            return invalid(format!(
                "server.public_url: `{}` must be an origin like https://comments.example.org (scheme and host, optional port, no path)",
                self.server.public_url
            ));
        }
        if !self.metrics.token.is_empty() && self.metrics.token.len() < 16 {
            return invalid("metrics.token must be at least 16 bytes".into());
        }
        if !self.metrics.bind.is_empty()
            && self.metrics.bind.parse::<std::net::SocketAddr>().is_err()
        {
            return invalid(format!(
                "metrics.bind: `{}` must be an address like 127.0.0.1:9090",
                self.metrics.bind
            ));
        }
        crate::db::DatabaseUrl::parse(&self.database.url)
            .map_err(|e| ConfigError::Invalid(format!("database.url: {e}")))?;
        Ok(())
    }

    /// `server.trusted_proxies` parsed into networks; a bare IP is a /32 or /128.
    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "server.trusted_proxies: `{s}` is not an IP address or CIDR range"
                        ))
                    })
            })
            .collect()
    }

    /// Worker threads to start: the configured number, or one per core.
    pub fn worker_count(&self) -> usize {
        match self.server.workers {
            0 => available_cores(),
            n => n,
        }
    }
}

/// Whether `text` is a web origin as browsers send it: http(s), a host, an
/// optional port, nothing else (no path, not even a trailing slash).
fn is_origin(text: &str) -> bool {
    url::Url::parse(text).ok().is_some_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.path() == "/"
            && u.query().is_none()
            && u.fragment().is_none()
            && u.username().is_empty()
            && !text.ends_with('/')
    })
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
        assert_eq!(s.database.url, "sqlite://data/moderato.db");
        assert_eq!(s.database.sqlite.synchronous, SqliteSynchronous::Full);
        assert_eq!(s.comments.edit_window, Duration::from_secs(15 * 60));
        assert_eq!(s.auth.argon2.memory_kib, 19456);
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
}
