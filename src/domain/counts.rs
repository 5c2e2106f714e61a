//! How many comments are in each status: a commenter's history, an
//! article's, or the whole site's.

use serde::Serialize;

use super::CommentStatus;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCounts {
    pub pending: i64,
    pub approved: i64,
    pub spam: i64,
    pub trash: i64,
    pub deleted: i64,
}

impl StatusCounts {
    fn slot(&mut self, status: CommentStatus) -> &mut i64 {
        match status {
            CommentStatus::Pending => &mut self.pending,
            CommentStatus::Approved => &mut self.approved,
            CommentStatus::Spam => &mut self.spam,
            CommentStatus::Trash => &mut self.trash,
            CommentStatus::Deleted => &mut self.deleted,
        }
    }

    pub fn get(&self, status: CommentStatus) -> i64 {
        match status {
            CommentStatus::Pending => self.pending,
            CommentStatus::Approved => self.approved,
            CommentStatus::Spam => self.spam,
            CommentStatus::Trash => self.trash,
            CommentStatus::Deleted => self.deleted,
        }
    }

    pub fn add(&mut self, status: CommentStatus, count: i64) {
        *self.slot(status) += count;
    }

    /// Counts from `(status, count)` rows, as a `GROUP BY status` returns.
    pub fn from_rows(rows: impl IntoIterator<Item = (CommentStatus, i64)>) -> Self {
        let mut counts = StatusCounts::default();
        for (status, count) in rows {
            counts.add(status, count);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_add_up_per_status() {
        let counts = StatusCounts::from_rows([
            (CommentStatus::Pending, 2),
            (CommentStatus::Spam, 5),
            (CommentStatus::Pending, 1),
        ]);
        assert_eq!(counts.get(CommentStatus::Pending), 3);
        assert_eq!(counts.get(CommentStatus::Spam), 5);
        assert_eq!(counts.get(CommentStatus::Approved), 0);
    }
}
