//! The context every service runs in: the database, settings and the shared
//! machinery (CPU pool, spam pipeline, cache, webhooks, outbox). Nothing
//! here knows about HTTP; the web layer holds one `Services` and passes it
//! on, and the command line builds the same for its own commands.

use std::sync::Arc;

use crate::auth::keyring::Keyring;
use crate::auth::PasswordHasher;
use crate::cache::PublicCache;
use crate::comments::Avatars;
use crate::config::Settings;
use crate::cpu::CpuPool;
use crate::db::Db;
use crate::outbox::Waker;
use crate::spam::Spam;
use crate::webhooks::Webhooks;

pub struct Services {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub passwords: PasswordHasher,
    /// Where CPU-heavy work runs (rendering, scoring, hashing).
    pub cpu: CpuPool,
    pub spam: Arc<Spam>,
    /// Thread pages and counts, as the public reads them.
    pub cache: Arc<PublicCache>,
    pub webhooks: Arc<Webhooks>,
    /// The server's secret key and what is derived from it.
    pub keyring: Arc<Keyring>,
    /// Commenters' public avatar keys.
    pub avatars: Avatars,
    /// Wakes the outbox worker after queueing a message.
    pub outbox: Waker,
}
