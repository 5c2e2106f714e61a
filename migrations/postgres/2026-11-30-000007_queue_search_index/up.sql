-- The moderation queue's search finds text anywhere in a comment's body or
-- its author's name, email or URL, as `lower(field) LIKE '%text%'`. A GIN
-- index of trigrams over those four expressions (pg_trgm) lets the planner
-- find the matching rows without reading the others; it picks the index
-- when the text is selective and still walks the queue when it is not.
--
-- pg_trgm ships with PostgreSQL and is a trusted extension (13+): a role
-- that may create objects in the database may create it. Where it cannot
-- (an older server, or no right to), this migration still succeeds and the
-- search stays correct, only unindexed; the server says so at start-up, and
-- docs/PERFORMANCE.md gives the two statements to run as a superuser.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        BEGIN
            CREATE EXTENSION pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm cannot be created (%): queue search stays unindexed', SQLERRM;
            RETURN;
        END;
        SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    END IF;
    EXECUTE format(
        'CREATE INDEX comments_search ON comments USING gin ('
        '  lower(body) %1$I.gin_trgm_ops,'
        '  lower(author_name) %1$I.gin_trgm_ops,'
        '  lower(author_email) %1$I.gin_trgm_ops,'
        '  lower(author_url) %1$I.gin_trgm_ops)',
        trgm_schema);
END
$$;
