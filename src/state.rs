//! What every request handler can reach.

use std::sync::Arc;

use ipnet::IpNet;

use crate::auth::PasswordHasher;
use crate::cache::PublicCache;
use crate::config::Settings;
use crate::db::Db;
use crate::outbox::Waker;
use crate::spam::Spam;
use crate::webhooks::Webhooks;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub passwords: PasswordHasher,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<IpNet>,
    pub spam: Arc<Spam>,
    /// Thread pages and counts, as the public reads them.
    pub cache: Arc<PublicCache>,
    pub webhooks: Arc<Webhooks>,
    /// Wakes the outbox worker after queueing a message.
    pub outbox: Waker,
}
