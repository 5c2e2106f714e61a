//! Builds the application from settings: opens the database, binds the
//! listener (reporting the real port, so tests can bind port 0), and
//! starts the HTTP server and background housekeeping.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, Service as _};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::api::middleware::RequestTimer;
use crate::auth::keyring::Keyring;
use crate::auth::{HashError, PasswordHasher};
use crate::cache::PublicCache;
use crate::comments::Avatars;
use crate::config::Settings;
use crate::cpu::CpuPool;
use crate::db::{self, Db, DbError};
use crate::moderation::retention;
use crate::outbox::{self, RetryPolicy, Waker};
use crate::services::Services;
use crate::spam::{BuildError, Spam};
use crate::telemetry::Chain;
use crate::webhooks::{Deliveries, Webhooks};

/// What stops the application from starting; each keeps its cause.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {bind}")]
    Bind {
        bind: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database")]
    Database(#[from] DbError),
    #[error("cannot start the CPU pool")]
    CpuPool(#[source] std::io::Error),
    #[error("cannot set up password hashing")]
    Passwords(#[source] HashError),
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    #[error("cannot set up the spam scorers")]
    Spam(#[from] BuildError),
    #[error("cannot load the spam word lists and model")]
    SpamState(#[source] DbError),
    #[error("cannot load the server's secret key")]
    Keyring(#[source] DbError),
    /// A start-up step run off the async workers panicked.
    #[error("a start-up step failed")]
    Task(#[from] tokio::task::JoinError),
}

pub struct Application {
    address: SocketAddr,
    server: Server,
    /// `/metrics` on a listener of its own, when `metrics.bind` asks.
    metrics: Option<(SocketAddr, Server)>,
    state: web::Data<Services>,
}

/// A second server answering only `GET /metrics`, on `bind`.
fn metrics_server(
    bind: &str,
    state: web::Data<Services>,
) -> Result<(SocketAddr, Server), StartupError> {
    let failed = |source| StartupError::Bind {
        bind: bind.to_string(),
        source,
    };
    let listener = TcpListener::bind(bind).map_err(failed)?;
    let address = listener.local_addr().map_err(failed)?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(crate::api::configure_metrics)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(failed)?
    .run();
    Ok((address, server))
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let settings = Arc::new(settings);

        // Both do blocking work (connecting and migrating; one argon2 hash).
        let db_settings = settings.database.clone();
        let db = tokio::task::spawn_blocking(move || Db::connect(&db_settings)).await??;
        let cpu =
            CpuPool::start(crate::config::available_cores()).map_err(StartupError::CpuPool)?;
        let argon = settings.auth.argon2.clone();
        let hasher_cpu = cpu.clone();
        let passwords =
            tokio::task::spawn_blocking(move || PasswordHasher::new(&argon, hasher_cpu))
                .await?
                .map_err(StartupError::Passwords)?;

        // One HTTP client for every outgoing call (scorers, feedback), so
        // connections are pooled.
        let http = reqwest::Client::builder()
            .timeout(settings.outbox.request_timeout)
            .user_agent(concat!("Moderato/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(StartupError::HttpClient)?;
        let spam = Arc::new(Spam::build(&settings.spam, http.clone(), cpu.clone())?);
        let webhooks = Arc::new(Webhooks::new(settings.webhooks.endpoints.clone(), http));
        for notice in &settings.cache.old_keys {
            tracing::warn!("{notice}");
        }
        let cache = Arc::new(PublicCache::new(settings.cache.max_bytes));
        crate::cache::listen(&settings.database.url, &cache);
        spam.refresh(&db).await.map_err(StartupError::SpamState)?;
        let keyring = Arc::new(Keyring::load(&db).await.map_err(StartupError::Keyring)?);
        let avatars = Avatars::new(settings.comments.avatars, keyring.clone());

        let listener =
            TcpListener::bind(&settings.server.bind).map_err(|source| StartupError::Bind {
                bind: settings.server.bind.clone(),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind {
            bind: settings.server.bind.clone(),
            source,
        })?;

        let state = web::Data::new(Services {
            settings: settings.clone(),
            db,
            passwords,
            cpu,
            spam,
            cache,
            webhooks,
            keyring,
            avatars,
            outbox: Waker::default(),
        });
        let max_request_bytes = settings.server.max_request_bytes;
        let metrics_apart = !settings.metrics.bind.is_empty();
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            // The last `wrap` runs first: metrics see every answer,
            // including CORS refusals and errors.
            App::new()
                .wrap_fn(crate::api::middleware::refuse_nul_in_url)
                .wrap(crate::api::middleware::security_headers())
                .wrap(crate::api::middleware::cors(&app_state.settings))
                .wrap(crate::api::middleware::json_errors())
                .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
                .wrap_fn(|req, srv| {
                    let timer = RequestTimer::start(&req);
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        timer.finish(response.status().as_u16());
                        Ok(response)
                    }
                })
                .app_data(app_state.clone())
                .configure(|cfg| crate::web::configure(cfg, &app_state.settings))
                // Before the API, whose default service answers every
                // path it does not know.
                .configure(|cfg| crate::compat::isso::configure(cfg, &app_state.settings))
                .configure(|cfg| crate::api::configure(cfg, max_request_bytes, !metrics_apart))
        })
        .workers(settings.worker_count())
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            bind: settings.server.bind.clone(),
            source,
        })?
        .run();

        let metrics = if metrics_apart {
            Some(metrics_server(&settings.metrics.bind, state.clone())?)
        } else {
            None
        };

        Ok(Application {
            address,
            server,
            metrics,
            state,
        })
    }

    /// Where `/metrics` is served when `metrics.bind` gives it an address
    /// of its own (the real port when 0 was asked for).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(address, _)| *address)
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The shared state handlers see (tests use it to create accounts and
    /// inspect the database directly).
    pub fn state(&self) -> web::Data<Services> {
        self.state.clone()
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM): in-flight
    /// requests get `server.shutdown_timeout` to finish, then background
    /// work stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let settings = &state.settings;
        let policy = RetryPolicy {
            poll_interval: settings.outbox.poll_interval,
            max_attempts: settings.outbox.max_attempts,
            first_retry: settings.outbox.first_retry,
            max_retry: settings.outbox.max_retry,
        };
        let background = [
            tokio::spawn(housekeeping(
                state.db.clone(),
                settings.outbox.keep_finished,
            )),
            tokio::spawn(outbox::run_worker(
                state.db.clone(),
                Arc::new(Deliveries {
                    spam: state.spam.clone(),
                    webhooks: state.webhooks.clone(),
                }),
                policy,
                state.outbox.clone(),
            )),
            tokio::spawn(retention::run(
                state.db.clone(),
                settings.retention.clone(),
                state.cache.clone(),
            )),
            tokio::spawn(refresh_spam(state.clone())),
            tokio::spawn(crate::comments::guards::backfill_fingerprints(
                state.db.clone(),
            )),
            tokio::spawn({
                let spam = state.spam.clone();
                async move { spam.self_checks().await }
            }),
        ];
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        for task in background {
            task.abort();
        }
        result
    }
}

/// How often expired sessions and stale rate-limit counters are removed.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);
/// Rate-limit windows are minutes long; a day-old counter is certainly dead.
const RATE_LIMIT_ROWS_KEPT_MS: i64 = 24 * 3600 * 1000;

/// Picks up word-list and model changes made through other instances.
async fn refresh_spam(state: web::Data<Services>) {
    let mut tick = tokio::time::interval(state.settings.spam.refresh_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.spam.refresh(&state.db).await {
            tracing::warn!(error = %Chain(&e), "could not refresh spam word lists and model; will retry");
        }
    }
}

async fn housekeeping(db: Db, keep_outbox: Duration) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        let now = db::now_millis();
        let outcome = db
            .write(move |conn| {
                let sessions = db::users::delete_expired_sessions(conn, now)?;
                let buckets =
                    db::ratelimit::delete_older_than(conn, now - RATE_LIMIT_ROWS_KEPT_MS)?;
                let keep = i64::try_from(keep_outbox.as_millis()).unwrap_or(i64::MAX);
                let messages = db::outbox::purge_finished(conn, now.saturating_sub(keep))?;
                Ok::<_, DbError>((sessions, buckets, messages))
            })
            .await;
        match outcome {
            Ok((sessions, buckets, messages)) if sessions + buckets + messages > 0 => {
                tracing::info!(
                    sessions,
                    rate_limit_rows = buckets,
                    outbox_messages = messages,
                    "housekeeping removed expired rows"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %Chain(&e), "housekeeping failed; will retry"),
        }
    }
}
