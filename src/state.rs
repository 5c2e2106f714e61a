//! What every request handler can reach.

use std::sync::Arc;

use ipnet::IpNet;

use crate::auth::PasswordHasher;
use crate::config::Settings;
use crate::db::Db;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub passwords: PasswordHasher,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<IpNet>,
}
