//! Password hashing with argon2id, on the CPU pool (off the async workers)
//! and bounded in how many run at once (each holds `memory_kib` of memory
//! while it runs).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Settings;
use crate::cpu::CpuPool;
use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Failed(String),
    #[error("password hashing task failed: {0}")]
    Task(String),
}

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    cpu: CpuPool,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account does
    /// not exist, so an unknown email costs the same as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(settings: &Argon2Settings, cpu: CpuPool) -> Result<Self, HashError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| HashError::Failed(e.to_string()))?;
        let concurrent = match settings.max_concurrent {
            0 => crate::config::available_cores(),
            n => n,
        };
        let dummy_secret = SaltString::generate(&mut OsRng);
        let dummy_hash = hash_with(&params, dummy_secret.as_str().as_bytes())?;
        Ok(PasswordHasher {
            params,
            cpu,
            permits: Arc::new(Semaphore::new(concurrent)),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// A PHC-format argon2id hash of `password` with a fresh salt.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.expose()))
            .await
    }

    /// Checks `password` against `stored` (or against the dummy hash when
    /// there is no account), always doing the full work. Returns whether it
    /// matched and, if so, whether the stored hash should be replaced because
    /// the configured parameters have changed since it was made.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verified, HashError> {
        let params = self.params.clone();
        let account_exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        self.run(move || {
            let parsed = match PasswordHash::new(&stored) {
                Ok(parsed) => parsed,
                // An unreadable stored hash never matches; it is not a
                // client's fault, so it is logged by the caller as a failure.
                Err(e) => return Err(HashError::Failed(format!("stored hash unreadable: {e}"))),
            };
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let matched =
                argon.verify_password(password.expose(), &parsed).is_ok() && account_exists;
            let outdated = matched
                && Params::try_from(&parsed)
                    .map(|p| p != params)
                    .unwrap_or(true);
            Ok(Verified { matched, outdated })
        })
        .await
    }

    async fn run<T, F>(&self, work: F) -> Result<T, HashError>
    where
        F: FnOnce() -> Result<T, HashError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Task(e.to_string()))?;
        self.cpu
            .run(work)
            .await
            .map_err(|e| HashError::Task(e.to_string()))?
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matched: bool,
    pub outdated: bool,
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Settings {
        Argon2Settings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
        }
    }

    fn pw(s: &str) -> Password {
        Password::for_login(s.to_string(), 1024).unwrap()
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hasher = PasswordHasher::new(&fast(), CpuPool::start(1).unwrap()).unwrap();
        let hash = hasher.hash(pw("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            hasher
                .verify(pw("correct horse"), Some(hash.clone()))
                .await
                .unwrap()
                .matched
        );
        assert!(
            !hasher
                .verify(pw("wrong horse"), Some(hash))
                .await
                .unwrap()
                .matched
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_match_even_the_dummy_secret() {
        let hasher = PasswordHasher::new(&fast(), CpuPool::start(1).unwrap()).unwrap();
        let verified = hasher.verify(pw("anything"), None).await.unwrap();
        assert!(!verified.matched);
    }

    #[tokio::test]
    async fn hashes_made_with_old_parameters_are_flagged_for_rehash() {
        let old = PasswordHasher::new(&fast(), CpuPool::start(1).unwrap()).unwrap();
        let hash = old.hash(pw("correct horse")).await.unwrap();
        let mut stronger = fast();
        stronger.memory_kib = 2048;
        let new = PasswordHasher::new(&stronger, CpuPool::start(1).unwrap()).unwrap();
        let verified = new.verify(pw("correct horse"), Some(hash)).await.unwrap();
        assert!(verified.matched && verified.outdated);
    }
}
