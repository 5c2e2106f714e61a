DROP TRIGGER commenter_stats_delete;
DROP TRIGGER commenter_stats_update_new;
DROP TRIGGER commenter_stats_update_old;
DROP TRIGGER commenter_stats_insert;
DROP TABLE commenter_stats;
