-- Per-commenter counts by status, kept current by triggers on comments, so
-- a commenter's record (shown beside each comment in the moderation queue,
-- and read for every submission) costs one lookup however much they wrote.
-- author_key is 'u:<user id>' for accounts and 'e:<email>' for guests.

CREATE TABLE commenter_stats (
    author_key  TEXT   PRIMARY KEY,
    approved    BIGINT NOT NULL DEFAULT 0,
    pending     BIGINT NOT NULL DEFAULT 0,
    spam        BIGINT NOT NULL DEFAULT 0,
    trash       BIGINT NOT NULL DEFAULT 0,
    deleted     BIGINT NOT NULL DEFAULT 0,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);

INSERT INTO commenter_stats (author_key, approved, pending, spam, trash, deleted, first_seen, last_seen)
SELECT CASE WHEN user_id IS NOT NULL THEN 'u:' || user_id ELSE 'e:' || author_email END,
       SUM(status = 'approved'), SUM(status = 'pending'), SUM(status = 'spam'),
       SUM(status = 'trash'), SUM(status = 'deleted'), MIN(created_at), MAX(created_at)
FROM comments
WHERE user_id IS NOT NULL OR author_email IS NOT NULL
GROUP BY 1;

CREATE TRIGGER commenter_stats_insert AFTER INSERT ON comments
WHEN NEW.user_id IS NOT NULL OR NEW.author_email IS NOT NULL
BEGIN
    INSERT INTO commenter_stats (author_key, approved, pending, spam, trash, deleted, first_seen, last_seen)
    VALUES (CASE WHEN NEW.user_id IS NOT NULL THEN 'u:' || NEW.user_id ELSE 'e:' || NEW.author_email END,
            NEW.status = 'approved', NEW.status = 'pending', NEW.status = 'spam',
            NEW.status = 'trash', NEW.status = 'deleted', NEW.created_at, NEW.created_at)
    ON CONFLICT (author_key) DO UPDATE SET
        approved = approved + excluded.approved,
        pending = pending + excluded.pending,
        spam = spam + excluded.spam,
        trash = trash + excluded.trash,
        deleted = deleted + excluded.deleted,
        first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen);
END;

CREATE TRIGGER commenter_stats_update_old AFTER UPDATE OF status, user_id, author_email ON comments
WHEN (OLD.user_id IS NOT NULL OR OLD.author_email IS NOT NULL)
 AND (OLD.status IS NOT NEW.status OR OLD.user_id IS NOT NEW.user_id OR OLD.author_email IS NOT NEW.author_email)
BEGIN
    UPDATE commenter_stats SET
        approved = approved - (OLD.status = 'approved'),
        pending = pending - (OLD.status = 'pending'),
        spam = spam - (OLD.status = 'spam'),
        trash = trash - (OLD.status = 'trash'),
        deleted = deleted - (OLD.status = 'deleted')
    WHERE author_key = CASE WHEN OLD.user_id IS NOT NULL THEN 'u:' || OLD.user_id ELSE 'e:' || OLD.author_email END;
END;

CREATE TRIGGER commenter_stats_update_new AFTER UPDATE OF status, user_id, author_email ON comments
WHEN (NEW.user_id IS NOT NULL OR NEW.author_email IS NOT NULL)
 AND (OLD.status IS NOT NEW.status OR OLD.user_id IS NOT NEW.user_id OR OLD.author_email IS NOT NEW.author_email)
BEGIN
    INSERT INTO commenter_stats (author_key, approved, pending, spam, trash, deleted, first_seen, last_seen)
    VALUES (CASE WHEN NEW.user_id IS NOT NULL THEN 'u:' || NEW.user_id ELSE 'e:' || NEW.author_email END,
            NEW.status = 'approved', NEW.status = 'pending', NEW.status = 'spam',
            NEW.status = 'trash', NEW.status = 'deleted', NEW.created_at, NEW.created_at)
    ON CONFLICT (author_key) DO UPDATE SET
        approved = approved + excluded.approved,
        pending = pending + excluded.pending,
        spam = spam + excluded.spam,
        trash = trash + excluded.trash,
        deleted = deleted + excluded.deleted,
        first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen);
END;

CREATE TRIGGER commenter_stats_delete AFTER DELETE ON comments
WHEN OLD.user_id IS NOT NULL OR OLD.author_email IS NOT NULL
BEGIN
    UPDATE commenter_stats SET
        approved = approved - (OLD.status = 'approved'),
        pending = pending - (OLD.status = 'pending'),
        spam = spam - (OLD.status = 'spam'),
        trash = trash - (OLD.status = 'trash'),
        deleted = deleted - (OLD.status = 'deleted')
    WHERE author_key = CASE WHEN OLD.user_id IS NOT NULL THEN 'u:' || OLD.user_id ELSE 'e:' || OLD.author_email END;
END;
