use std::fmt;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownVariant(pub String);

/// An enum stored as text: its spelling in the database and in JSON, parsing
/// back, and diesel's `ToSql`/`FromSql` for `Text` on every backend (the
/// impls are generic, so they hold for SQLite, PostgreSQL and the
/// `MultiConnection` backend alike). A stored value outside the enum (the
/// schema's CHECK constraints make this a corrupt row) is a deserialization
/// error, never a silent fallback.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownVariant(other.to_string())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> ToSql<Text, DB> for $name
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> FromSql<Text, DB> for $name
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(String::from_sql(bytes)?.parse()?)
            }
        }
    };
}

stored_enum! {
    /// What an account may do. Ordered: each role can do what the ones
    /// before it can.
    #[derive(PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Role {
        Commenter = "commenter",
        Moderator = "moderator",
        Admin = "admin",
    }
}

impl Role {
    /// Moderators and admins act on other people's comments.
    pub fn can_moderate(self) -> bool {
        self >= Role::Moderator
    }
}

stored_enum! {
    /// Where a comment stands. Only `approved` comments are public.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum CommentStatus {
        Pending = "pending",
        Approved = "approved",
        Spam = "spam",
        Trash = "trash",
        Deleted = "deleted",
    }
}

impl CommentStatus {
    /// The status as its author may see it: a comment classed as spam is
    /// shown to its author as pending, so a spammer learns nothing.
    pub fn as_seen_by_author(self) -> CommentStatus {
        match self {
            CommentStatus::Spam => CommentStatus::Pending,
            other => other,
        }
    }
}

stored_enum! {
    /// A moderator's judgement of a comment, which teaches the scorers.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Verdict {
        Spam = "spam",
        Ham = "ham",
    }
}

stored_enum! {
    /// What a ban matches: an account, an email address, or an IP address
    /// or CIDR range.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum BanKind {
        User = "user",
        Email = "email",
        Ip = "ip",
    }
}

stored_enum! {
    /// What the moderation log records.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum LogAction {
        Approve = "approve",
        Spam = "spam",
        NotSpam = "not_spam",
        Trash = "trash",
        Restore = "restore",
        /// A moderator deleted a comment (its author's deletions are not
        /// logged).
        Delete = "delete",
        /// A comment removed by retention.
        Purge = "purge",
        Ban = "ban",
        Unban = "unban",
        Trust = "trust",
        Untrust = "untrust",
        /// An account's role changed.
        Role = "role",
        /// An admin erased a commenter's data (their account, or a guest's
        /// comments under one email).
        Erase = "erase",
        /// A moderator's decision on a comment taken back: one entry per
        /// comment it put back (`from_status` where the decision had put
        /// it, `to_status` where it was before).
        Undo = "undo",
        /// A moderator changed a comment's text.
        Edit = "edit",
    }
}

impl LogAction {
    /// What a moderator's decision on comments is logged as
    /// (`moderation::decisions`): the entries an undo can revert.
    pub const DECISIONS: &'static [LogAction] = &[
        LogAction::Approve,
        LogAction::Spam,
        LogAction::NotSpam,
        LogAction::Trash,
        LogAction::Restore,
    ];
}

stored_enum! {
    /// The two word lists: a match on `blocked` marks a comment spam, one on
    /// `suspect` holds it for review.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum WordList {
        Blocked = "blocked",
        Suspect = "suspect",
    }
}

stored_enum! {
    /// How a word-list entry matches.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum WordKind {
        /// A word or phrase, matched case-insensitively as whole words.
        Word = "word",
        /// A regular expression (Rust `regex` syntax; linear-time, so no
        /// pattern can stall the server).
        Regex = "regex",
        /// An IP address or CIDR range, matched against the client's
        /// address.
        Ip = "ip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text() {
        for &status in CommentStatus::ALL {
            assert_eq!(status.as_str().parse::<CommentStatus>(), Ok(status));
        }
        assert!("published".parse::<CommentStatus>().is_err());
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(!Role::Commenter.can_moderate());
        assert!(Role::Moderator.can_moderate());
        assert!(Role::Admin.can_moderate());
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn spam_is_shown_to_its_author_as_pending() {
        assert_eq!(
            CommentStatus::Spam.as_seen_by_author(),
            CommentStatus::Pending
        );
        assert_eq!(
            CommentStatus::Approved.as_seen_by_author(),
            CommentStatus::Approved
        );
    }
}
