-- Per-commenter counts by status, kept current by a trigger on comments, so
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
       COUNT(*) FILTER (WHERE status = 'approved'), COUNT(*) FILTER (WHERE status = 'pending'),
       COUNT(*) FILTER (WHERE status = 'spam'), COUNT(*) FILTER (WHERE status = 'trash'),
       COUNT(*) FILTER (WHERE status = 'deleted'), MIN(created_at), MAX(created_at)
FROM comments
WHERE user_id IS NOT NULL OR author_email IS NOT NULL
GROUP BY 1;

CREATE FUNCTION commenter_stats_apply(key TEXT, status TEXT, delta BIGINT, seen BIGINT) RETURNS void AS $$
BEGIN
    IF key IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO commenter_stats AS s (author_key, approved, pending, spam, trash, deleted, first_seen, last_seen)
    VALUES (key,
            CASE WHEN status = 'approved' THEN delta ELSE 0 END,
            CASE WHEN status = 'pending' THEN delta ELSE 0 END,
            CASE WHEN status = 'spam' THEN delta ELSE 0 END,
            CASE WHEN status = 'trash' THEN delta ELSE 0 END,
            CASE WHEN status = 'deleted' THEN delta ELSE 0 END,
            seen, seen)
    ON CONFLICT (author_key) DO UPDATE SET
        approved = s.approved + EXCLUDED.approved,
        pending = s.pending + EXCLUDED.pending,
        spam = s.spam + EXCLUDED.spam,
        trash = s.trash + EXCLUDED.trash,
        deleted = s.deleted + EXCLUDED.deleted,
        first_seen = LEAST(s.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION commenter_stats_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM commenter_stats_apply(
            CASE WHEN OLD.user_id IS NOT NULL THEN 'u:' || OLD.user_id
                 WHEN OLD.author_email IS NOT NULL THEN 'e:' || OLD.author_email END,
            OLD.status, -1, OLD.created_at);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM commenter_stats_apply(
            CASE WHEN NEW.user_id IS NOT NULL THEN 'u:' || NEW.user_id
                 WHEN NEW.author_email IS NOT NULL THEN 'e:' || NEW.author_email END,
            NEW.status, 1, NEW.created_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER commenter_stats_insert_delete AFTER INSERT OR DELETE ON comments
FOR EACH ROW EXECUTE FUNCTION commenter_stats_trigger();

CREATE TRIGGER commenter_stats_update AFTER UPDATE OF status, user_id, author_email ON comments
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status
      OR OLD.user_id IS DISTINCT FROM NEW.user_id
      OR OLD.author_email IS DISTINCT FROM NEW.author_email)
EXECUTE FUNCTION commenter_stats_trigger();
