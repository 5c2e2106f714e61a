-- Undoing a moderator's last decision, and the overview's activity chart.
--
-- What a decision found, so an undo can put it back: the comment's verdict
-- before the decision (its status before is from_status). Entries written
-- before this migration have none, which an undo reads as "no verdict".
ALTER TABLE moderation_log ADD COLUMN from_verdict TEXT;
-- When an undo reverted this entry's decision; an entry is undone once.
ALTER TABLE moderation_log ADD COLUMN undone_at BIGINT;
-- The audit log filtered by action, newest first.
CREATE INDEX moderation_log_action ON moderation_log (action, id);

-- Comments per day and status since a time (moderation::queue::activity):
-- a range of this index, which holds the status too, so the rows
-- themselves are not read.
CREATE INDEX comments_created_at ON comments (created_at, status);
