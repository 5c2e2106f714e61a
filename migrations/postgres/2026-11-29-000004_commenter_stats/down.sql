DROP TRIGGER commenter_stats_update ON comments;
DROP TRIGGER commenter_stats_insert_delete ON comments;
DROP FUNCTION commenter_stats_trigger();
DROP FUNCTION commenter_stats_apply(TEXT, TEXT, BIGINT, BIGINT);
DROP TABLE commenter_stats;
