-- The extension stays: other objects in the database may use it.
DROP INDEX IF EXISTS comments_search;
