-- Core tables: accounts, sessions, articles, comments, rate-limit buckets.
-- Portable types only (the PostgreSQL twin of this file has the same shape):
-- 64-bit integer ids, TEXT, BOOLEAN, and times as BIGINT milliseconds since
-- the Unix epoch, UTC.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'commenter'
                  CHECK (role IN ('commenter', 'moderator', 'admin')),
    trusted       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the token, hex; the token itself is never stored.
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE articles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    key            TEXT    NOT NULL UNIQUE,
    title          TEXT,
    url            TEXT,
    comments_open  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE TABLE comments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id        BIGINT  NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id         BIGINT  REFERENCES comments (id) ON DELETE SET NULL,
    user_id           BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    author_name       TEXT    NOT NULL,
    -- Lower-cased; NULL for a guest who gave none.
    author_email      TEXT,
    author_url        TEXT,
    -- SHA-256 of the lower-cased email, for Gravatar-style avatars.
    avatar_hash       TEXT,
    -- The markdown as written, and its sanitized HTML rendering.
    body              TEXT    NOT NULL,
    html              TEXT    NOT NULL,
    status            TEXT    NOT NULL
                      CHECK (status IN ('pending', 'approved', 'spam', 'trash', 'deleted')),
    -- SHA-256 of a guest's edit token, hex.
    edit_token_hash   TEXT,
    ip                TEXT,
    user_agent        TEXT,
    referrer          TEXT,
    created_at        BIGINT  NOT NULL,
    edited_at         BIGINT,
    status_changed_at BIGINT  NOT NULL,
    -- Bumped on every change; guards against lost updates.
    version           BIGINT  NOT NULL DEFAULT 1
);
-- Public thread pages and counts: WHERE article_id = ? AND status = ? ORDER BY id.
CREATE INDEX comments_article_status_id ON comments (article_id, status, id);
CREATE INDEX comments_parent_id ON comments (parent_id);
CREATE INDEX comments_status_id ON comments (status, id);
CREATE INDEX comments_user_id ON comments (user_id);
CREATE INDEX comments_author_email ON comments (author_email);

-- Fixed-window counters for rate limits, shared by every app instance.
CREATE TABLE rate_limits (
    key          TEXT   PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
