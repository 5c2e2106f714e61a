//! Bans: stored, and matched against a commenter (by account, email, or an
//! address inside a banned range).

use std::net::IpAddr;

use diesel::prelude::*;
use ipnet::IpNet;

use super::schema::bans;
use super::AnyConnection;
use crate::domain::{BanId, BanKind, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bans)]
pub struct Ban {
    pub id: BanId,
    pub kind: BanKind,
    pub value: String,
    pub shadow: bool,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<UserId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bans)]
pub struct NewBan<'a> {
    pub kind: BanKind,
    pub value: &'a str,
    pub shadow: bool,
    pub reason: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

pub fn insert(conn: &mut AnyConnection, new: &NewBan<'_>) -> QueryResult<Ban> {
    diesel::insert_into(bans::table)
        .values(new)
        .get_result::<Ban>(conn)
}

/// Bans in force at `now`.
pub fn active(conn: &mut AnyConnection, now: i64) -> QueryResult<Vec<Ban>> {
    bans::table
        .filter(bans::lifted_at.is_null())
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
        .order(bans::id.asc())
        .select(Ban::as_select())
        .load(conn)
}

/// Every ban, newest first (lifted and expired ones included).
pub fn all(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Ban>> {
    bans::table
        .order(bans::id.desc())
        .limit(limit)
        .select(Ban::as_select())
        .load(conn)
}

pub fn lift(conn: &mut AnyConnection, id: BanId, by: UserId, now: i64) -> QueryResult<Option<Ban>> {
    diesel::update(
        bans::table
            .filter(bans::id.eq(id))
            .filter(bans::lifted_at.is_null()),
    )
    .set((bans::lifted_at.eq(now), bans::lifted_by.eq(by)))
    .get_result::<Ban>(conn)
    .optional()
}

/// Bans in force, ready to match commenters against.
pub struct ActiveBans {
    bans: Vec<(Ban, Option<IpNet>)>,
}

impl ActiveBans {
    pub fn new(bans: Vec<Ban>) -> Self {
        let bans = bans
            .into_iter()
            .map(|b| {
                let net = (b.kind == BanKind::Ip)
                    .then(|| b.value.parse::<IpNet>().ok())
                    .flatten();
                (b, net)
            })
            .collect();
        ActiveBans { bans }
    }

    /// The first ban matching this account, email or address.
    pub fn find(
        &self,
        user_id: Option<UserId>,
        email: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Option<&Ban> {
        self.bans
            .iter()
            .find(|(ban, net)| match ban.kind {
                BanKind::User => user_id.is_some_and(|id| ban.value == id.to_string()),
                BanKind::Email => email.is_some_and(|e| ban.value.eq_ignore_ascii_case(e)),
                BanKind::Ip => matches!((net, ip), (Some(net), Some(ip)) if net.contains(&ip)),
            })
            .map(|(ban, _)| ban)
    }
}

/// The ban matching a commenter now, if any (the submission path asks).
pub fn find_active(
    conn: &mut AnyConnection,
    user_id: Option<UserId>,
    email: Option<&str>,
    ip: Option<IpAddr>,
    now: i64,
) -> QueryResult<Option<Ban>> {
    let active = ActiveBans::new(active(conn, now)?);
    Ok(active.find(user_id, email, ip).cloned())
}

impl Ban {
    /// In force at `now`: not lifted, and not past its end.
    pub fn is_active(&self, now: i64) -> bool {
        self.lifted_at.is_none() && self.expires_at.is_none_or(|end| end > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(kind: BanKind, value: &str) -> Ban {
        Ban {
            id: BanId(1),
            kind,
            value: value.into(),
            shadow: false,
            reason: None,
            expires_at: None,
            created_by: None,
            created_at: 0,
            lifted_at: None,
            lifted_by: None,
        }
    }

    #[test]
    fn bans_match_accounts_emails_and_ranges() {
        let active = ActiveBans::new(vec![
            ban(BanKind::User, "7"),
            ban(BanKind::Email, "spam@example.com"),
            ban(BanKind::Ip, "203.0.113.0/24"),
        ]);
        assert!(active.find(Some(UserId(7)), None, None).is_some());
        assert!(active.find(Some(UserId(8)), None, None).is_none());
        assert!(active.find(None, Some("SPAM@example.com"), None).is_some());
        assert!(active
            .find(None, None, Some("203.0.113.200".parse().unwrap()))
            .is_some());
        assert!(active
            .find(None, None, Some("203.0.114.1".parse().unwrap()))
            .is_none());
    }
}
