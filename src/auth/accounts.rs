//! Registering, signing in and out, and creating accounts from the CLI.

use std::net::IpAddr;

use super::keyring::Keyring;
use super::{token, AuthError, AuthUser, Credential, PasswordHasher};
use crate::cache;
use crate::config::{OnAccountDelete, Settings};
use crate::db::models::{Article, Comment, NewSession, NewUser, User};
use crate::db::{self, Db, DbError};
use crate::domain::{AuthorName, Email, Password, Role, UserId, ValidationError};
use crate::ratelimit::{self, LimitError, Rule};
use crate::services::Services;
use crate::telemetry::Chain;

/// A new account's details, as the client sent them.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub name: String,
}

/// A started session: the token is shown to the client once.
pub struct LoginOutcome {
    pub user: User,
    pub token: String,
    pub expires_at: i64,
    /// Names this device to later sign-ins (see [`login`]); empty when
    /// the session did not come from a sign-in.
    pub device_token: String,
}

/// Creates a commenter account. The answer is the same whether or not the
/// email was already registered (and costs the same argon2 work), so the
/// endpoint cannot be used to find out who has an account; the new user
/// signs in next. Registrations are limited per client IP.
#[tracing::instrument(skip_all)]
pub async fn register(
    db: &Db,
    hasher: &PasswordHasher,
    settings: &Settings,
    account: NewAccount,
    ip: Option<IpAddr>,
) -> Result<(), AuthError> {
    if !settings.auth.allow_registration {
        return Err(AuthError::RegistrationClosed);
    }
    let email = Email::parse(&account.email, settings.comments.max_email_bytes, "email")?;
    let name = AuthorName::parse(&account.name, settings.comments.max_name_bytes, "name")?;
    let password = Password::parse(
        account.password,
        settings.auth.min_password_chars,
        settings.auth.max_password_bytes,
    )?;
    let limit = &settings.auth.register_limit;
    let rules = ip
        .map(|ip| Rule {
            key: format!("register:ip:{ip}"),
            limit: limit.per_ip,
            window: limit.window,
        })
        .into_iter()
        .collect();
    ratelimit::hit_all(db, rules).await.map_err(|e| match e {
        LimitError::Exceeded(x) => AuthError::RateLimited {
            retry_after_secs: x.retry_after_secs,
        },
        LimitError::Db(d) => AuthError::Db(d),
    })?;
    match create_user(db, hasher, email, name, password, Role::Commenter).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, "account registered");
            Ok(())
        }
        Err(AuthError::EmailTaken) => {
            tracing::info!(
                "registration for an email that already has an account; answered as usual"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Creates an account with any role (the CLI's `user create`).
pub async fn create_user(
    db: &Db,
    hasher: &PasswordHasher,
    email: Email,
    name: AuthorName,
    password: Password,
    role: Role,
) -> Result<User, AuthError> {
    let hash = hasher.hash(password).await?;
    let now = db::now_millis();
    db.write(move |conn| {
        let new = NewUser {
            email: email.as_str(),
            name: name.as_str(),
            password_hash: &hash,
            role,
            trusted: role.can_moderate(),
            created_at: now,
            updated_at: now,
        };
        match db::users::insert(conn, &new) {
            Ok(user) => Ok(user),
            Err(e) if db::is_unique_violation(&e) => Err(AuthError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Where a sign-in attempt comes from.
pub struct Attempt<'a> {
    pub ip: Option<IpAddr>,
    /// The device token a former sign-in to this account gave the client.
    pub device_token: Option<&'a str>,
}

/// Checks an email and password and starts a session.
///
/// Guessing is limited without handing attackers a switch that locks the
/// owner out (OWASP's device-cookie approach): attempts are counted per
/// client address; failures per account from that address, or from a
/// device that signed in to the account before (its device token), are
/// limited on their own; and failures per account from everywhere else,
/// once over `per_email`, slow further such attempts to one per
/// `slow_interval` instead of refusing them all. A successful sign-in
/// clears its address's (or device's) failures and returns a new device
/// token. An unknown email costs the same argon2 work as a wrong password
/// and gets the same answer.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &Db,
    hasher: &PasswordHasher,
    keyring: &Keyring,
    settings: &Settings,
    email: &str,
    password: String,
    attempt: Attempt<'_>,
) -> Result<LoginOutcome, AuthError> {
    let password = Password::for_login(password, settings.auth.max_password_bytes)?;
    // A malformed email cannot match an account; it is answered like any
    // other failed login, after the same work.
    let email = Email::parse(email, settings.comments.max_email_bytes, "email").ok();
    let user = match &email {
        Some(email) => {
            let email = email.as_str().to_string();
            db.read(move |conn| db::users::find_by_email(conn, &email).map_err(DbError::from))
                .await?
        }
        None => None,
    };
    let device = match (&user, attempt.device_token) {
        (Some(user), Some(token)) => keyring.device_of(user.id, token).map(str::to_string),
        _ => None,
    };

    let limits = &settings.auth.login_limit;
    let rule = |key: String, limit: u32, window| Rule { key, limit, window };
    let ip = attempt.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let mut rules = vec![rule(format!("login:ip:{ip}"), limits.per_ip, limits.window)];
    let mut from_elsewhere = None;
    let mut clear_on_success = None;
    if let Some(email) = &email {
        let email = email.as_str();
        let this_client = match &device {
            Some(nonce) => format!("login:device:{nonce}"),
            None => format!("login:email-ip:{email}:{ip}"),
        };
        rules.push(rule(
            this_client.clone(),
            limits.per_email_ip,
            limits.window,
        ));
        if device.is_none() {
            from_elsewhere = Some((
                rule(
                    format!("login:email:{email}"),
                    limits.per_email,
                    limits.window,
                ),
                rule(format!("login:email-slow:{email}"), 1, limits.slow_interval),
            ));
        }
        clear_on_success = Some(this_client);
    }
    let now = db::now_millis();
    let waited = db
        .write(move |conn| {
            if let Some(wait) = ratelimit::hit_in(conn, &rules, now)? {
                return Ok(Some(wait));
            }
            if let Some((failures, slow)) = &from_elsewhere {
                // Past the allowance, only one attempt per slow interval.
                if ratelimit::hit_in(conn, std::slice::from_ref(failures), now)?.is_some() {
                    return ratelimit::hit_in(conn, std::slice::from_ref(slow), now);
                }
            }
            Ok::<_, DbError>(None)
        })
        .await?;
    if let Some(retry_after_secs) = waited {
        return Err(AuthError::RateLimited { retry_after_secs });
    }

    let verified = hasher
        .verify(
            password.clone(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let Some(user) = user.filter(|_| verified.matched) else {
        return Err(AuthError::InvalidCredentials);
    };
    if let Some(key) = clear_on_success {
        db.write(move |conn| db::ratelimit::reset(conn, &key).map_err(DbError::from))
            .await?;
    }
    if verified.outdated {
        // Parameters were raised since this hash was made: store a fresh one
        // now that the password is at hand. Failing this is not fatal.
        let new_hash = hasher.hash(password).await?;
        let id = user.id;
        let now = db::now_millis();
        if let Err(e) = db
            .write(move |conn| {
                db::users::set_password_hash(conn, id, &new_hash, now).map_err(DbError::from)
            })
            .await
        {
            tracing::warn!(error = %Chain(&e), user_id = %id, "could not upgrade a password hash");
        }
    }
    let device_token = keyring.device_token(user.id);
    let mut outcome = start_session(db, settings, user).await?;
    outcome.device_token = device_token;
    Ok(outcome)
}

/// Checks the signed-in caller's current password (before a password
/// change or an account deletion): failures are limited per account as
/// sign-in failures from one address are, so a stolen session cannot be
/// used to guess the password.
pub async fn check_password(
    db: &Db,
    hasher: &PasswordHasher,
    settings: &Settings,
    user_id: UserId,
    password: String,
) -> Result<(), AuthError> {
    let password = Password::for_login(password, settings.auth.max_password_bytes)?;
    let limits = &settings.auth.login_limit;
    let key = format!("password-check:user:{user_id}");
    let rules = vec![Rule {
        key: key.clone(),
        limit: limits.per_email_ip,
        window: limits.window,
    }];
    ratelimit::hit_all(db, rules).await.map_err(|e| match e {
        LimitError::Exceeded(x) => AuthError::RateLimited {
            retry_after_secs: x.retry_after_secs,
        },
        LimitError::Db(d) => AuthError::Db(d),
    })?;
    let stored = db
        .read(move |conn| db::users::find(conn, user_id).map_err(DbError::from))
        .await?
        .ok_or(AuthError::InvalidSession)?;
    if !hasher
        .verify(password, Some(stored.password_hash))
        .await?
        .matched
    {
        return Err(AuthError::InvalidCredentials);
    }
    db.write(move |conn| db::ratelimit::reset(conn, &key).map_err(DbError::from))
        .await?;
    Ok(())
}

/// Ends every session of the caller's account (sign out everywhere).
pub async fn logout_everywhere(db: &Db, user: &AuthUser) -> Result<usize, AuthError> {
    let id = user.id;
    db.write(move |conn| db::users::delete_sessions_of(conn, id).map_err(AuthError::from))
        .await
}

/// Changes the caller's password after checking the current one, and ends
/// every other session of the account (the current one stays).
pub async fn change_password(
    db: &Db,
    hasher: &PasswordHasher,
    settings: &Settings,
    user: &AuthUser,
    current: String,
    new: String,
) -> Result<usize, AuthError> {
    let new = Password::parse(
        new,
        settings.auth.min_password_chars,
        settings.auth.max_password_bytes,
    )
    .map_err(|e| ValidationError::new("new_password", e.message))?;
    let id = user.id;
    check_password(db, hasher, settings, id, current).await?;
    let hash = hasher.hash(new).await?;
    let keep = user.session_hash.clone();
    let now = db::now_millis();
    let ended = db
        .write(move |conn| {
            db::users::set_password_hash(conn, id, &hash, now)?;
            db::users::delete_other_sessions(conn, id, &keep).map_err(AuthError::from)
        })
        .await?;
    tracing::info!(
        user_id = %id,
        other_sessions_ended = ended,
        "password changed"
    );
    Ok(ended)
}

/// Ends the caller's session.
pub async fn logout(db: &Db, user: &AuthUser) -> Result<(), AuthError> {
    let hash = user.session_hash.clone();
    db.write(move |conn| db::users::delete_session(conn, &hash).map_err(AuthError::from))
        .await?;
    Ok(())
}

async fn start_session(
    db: &Db,
    settings: &Settings,
    user: User,
) -> Result<LoginOutcome, AuthError> {
    let issued = token::issue();
    let now = db::now_millis();
    let ttl = i64::try_from(settings.auth.session_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    let user_id = user.id;
    let hash = issued.hash;
    db.write(move |conn| {
        db::users::insert_session(
            conn,
            &NewSession {
                user_id,
                token_hash: &hash,
                created_at: now,
                expires_at,
            },
        )
        .map_err(AuthError::from)
    })
    .await?;
    tracing::info!(%user_id, "session started");
    Ok(LoginOutcome {
        user,
        token: issued.token,
        expires_at,
        device_token: String::new(),
    })
}

/// The account signed in with this session token, if the session is
/// current.
pub async fn session_user(
    db: &Db,
    raw: &str,
    credential: Credential,
) -> Result<AuthUser, AuthError> {
    // Tokens are 43 characters; anything far off is not worth a query.
    if raw.is_empty() || raw.len() > 128 {
        return Err(AuthError::InvalidSession);
    }
    let hash = token::hash(raw);
    let now = db::now_millis();
    let key = hash.clone();
    let found = db
        .read(move |conn| db::users::find_by_session(conn, &key, now).map_err(DbError::from))
        .await?;
    match found {
        Some((_, user)) => Ok(AuthUser::from_user(user, credential, hash)),
        None => Err(AuthError::InvalidSession),
    }
}

/// Everything stored about the signed-in commenter.
pub struct OwnData {
    pub user: User,
    pub comments: Vec<(Comment, Article)>,
}

/// The signed-in commenter's account and every comment they wrote.
pub async fn export_own_data(db: &Db, user: &AuthUser) -> Result<OwnData, AuthError> {
    let id = user.id;
    db.read(move |conn| {
        let user = db::users::find(conn, id)?.ok_or(AuthError::InvalidSession)?;
        let comments = db::comments::by_user(conn, id)?;
        Ok(OwnData { user, comments })
    })
    .await
}

/// Deletes the signed-in commenter's account after checking their password;
/// their comments are anonymised or deleted as `accounts.on_delete` says.
/// Returns how many comments were affected.
pub async fn delete_own_account(
    services: &Services,
    user: &AuthUser,
    password: String,
) -> Result<usize, AuthError> {
    let id = user.id;
    check_password(
        &services.db,
        &services.passwords,
        &services.settings,
        id,
        password,
    )
    .await?;
    let mode = services.settings.accounts.on_delete;
    let now = db::now_millis();
    let affected = services
        .db
        .write(move |conn| {
            let affected = match mode {
                OnAccountDelete::Anonymize => db::erasure::anonymize_user(conn, id, now)?,
                OnAccountDelete::Delete => db::erasure::delete_user_comments(conn, id, now)?,
            };
            db::users::delete_sessions_of(conn, id)?;
            db::users::delete(conn, id)?;
            // The author's name and text may show on many articles.
            cache::notify_in(conn, None)?;
            Ok::<_, AuthError>(affected)
        })
        .await?;
    services.cache.invalidate_all();
    tracing::info!(user_id = %id, comments = affected, mode = ?mode, "account deleted at its owner's request");
    Ok(affected)
}
