-- Votes on comments: the likes and dislikes of Isso's client. One vote per
-- voter and comment (the primary key), so a second one is refused by the
-- database itself whatever the timing; a comment's votes go with it.
CREATE TABLE votes (
    comment_id BIGINT  NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    -- Who voted: 'u:<account id>', or 'ip:<HMAC of the address with the
    -- server key>' (the address itself is never stored here).
    voter      TEXT    NOT NULL,
    -- 1 for a like, -1 for a dislike.
    value      INTEGER NOT NULL CHECK (value IN (-1, 1)),
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (comment_id, voter)
);
