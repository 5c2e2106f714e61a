-- Hardening, round 2.
--
-- Secrets the server keys things with (HMACs for avatars, guests' author
-- tokens and sign-in device tokens), made once and shared by every instance
-- on the same database.
CREATE TABLE server_keys (
    name       TEXT   PRIMARY KEY NOT NULL,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- A hash of the comment's text in a normalized form (case folded,
-- punctuation, spacing and invisible characters removed), for the
-- duplicate guard: the same words from the same author, or from the same
-- address across articles, are one comment. NULL until computed for
-- comments written before this migration (the server fills them in).
ALTER TABLE comments ADD COLUMN fingerprint TEXT;
CREATE INDEX comments_fingerprint ON comments (fingerprint) WHERE fingerprint IS NOT NULL;

-- Avatars are now derived from the email with a server key when a comment
-- is shown (an unsalted hash of the email confirmed guessed addresses).
ALTER TABLE comments DROP COLUMN avatar_hash;
