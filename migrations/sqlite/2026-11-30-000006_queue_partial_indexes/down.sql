-- Nothing for SQLite: its planner already walks comments (status, id) for
-- the queue (the PostgreSQL migration of this name explains the change).
SELECT 1;
