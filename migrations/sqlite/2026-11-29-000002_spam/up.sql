-- Spam scoring: each comment's combined score and per-scorer report, the
-- moderator's verdict, word lists, the learned model, and a durable outbox
-- for messages to external services.

ALTER TABLE comments ADD COLUMN spam_score DOUBLE PRECISION;
-- JSON: {"score", "decision", "held_because": [...], "scorers": [...], "edit"}
ALTER TABLE comments ADD COLUMN spam_report TEXT;
-- The latest moderator verdict: 'spam' or 'ham'; NULL when none.
ALTER TABLE comments ADD COLUMN verdict TEXT CHECK (verdict IN ('spam', 'ham'));
-- The text the learned scorer was taught with that verdict (the comment
-- may be edited later; reversing the verdict must unlearn what was learned).
ALTER TABLE comments ADD COLUMN learned_text TEXT;

-- Flood checks: the latest comment from an IP address or an account.
CREATE INDEX comments_ip_created_at ON comments (ip, created_at);
CREATE INDEX comments_user_created_at ON comments (user_id, created_at);

CREATE TABLE spam_words (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    list        TEXT    NOT NULL CHECK (list IN ('blocked', 'suspect')),
    kind        TEXT    NOT NULL CHECK (kind IN ('word', 'regex', 'ip')),
    pattern     TEXT    NOT NULL,
    note        TEXT,
    created_at  BIGINT  NOT NULL,
    UNIQUE (list, kind, pattern)
);

-- The learned classifier, shared by every instance: two numbers per
-- feature (their meaning is the classifier's; see src/spam/classifier.rs)
-- and a few named global numbers.
CREATE TABLE spam_features (
    key  BIGINT           PRIMARY KEY,
    a    DOUBLE PRECISION NOT NULL,
    b    DOUBLE PRECISION NOT NULL
);
CREATE TABLE spam_globals (
    name   TEXT             PRIMARY KEY,
    value  DOUBLE PRECISION NOT NULL
);

-- Bumped whenever the word lists or the model change, so other instances
-- know to reload.
CREATE TABLE spam_state (
    name     TEXT   PRIMARY KEY,
    version  BIGINT NOT NULL
);
INSERT INTO spam_state (name, version) VALUES ('wordlists', 0), ('model', 0);

-- Messages to deliver to other services (scorer feedback, webhooks), kept
-- until delivered so none is lost while a receiver or this process is down.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    topic            TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    -- A worker that claimed the message owns it until then.
    lease_until      BIGINT,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    delivered_at     BIGINT,
    gave_up_at       BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
