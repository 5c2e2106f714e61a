-- Moderation: the audit log of decisions, and bans.

CREATE TABLE moderation_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- What was acted on: a comment, or (for bans) a commenter.
    comment_id    BIGINT  REFERENCES comments (id) ON DELETE SET NULL,
    moderator_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    -- approve, spam, not_spam, trash, restore, delete, ban, unban, trust,
    -- untrust, role, purge
    action        TEXT    NOT NULL,
    from_status   TEXT,
    to_status     TEXT,
    reason        TEXT,
    -- For actions on commenters: e.g. "ip:203.0.113.0/24", "user:42".
    subject       TEXT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX moderation_log_comment ON moderation_log (comment_id, id);
CREATE INDEX moderation_log_moderator ON moderation_log (moderator_id, id);

CREATE TABLE bans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'email', 'ip')),
    -- A user id, a lower-cased email, or an IP network in CIDR form.
    value       TEXT    NOT NULL,
    -- Shadow bans accept comments but keep them out of public view.
    shadow      BOOLEAN NOT NULL DEFAULT FALSE,
    reason      TEXT,
    expires_at  BIGINT,
    created_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    lifted_at   BIGINT,
    lifted_by   BIGINT  REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX bans_active ON bans (lifted_at, expires_at);

-- Queue pages per article and status, newest or oldest first.
CREATE INDEX comments_status_article_id ON comments (status, article_id, id);
