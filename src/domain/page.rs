//! Keyset pagination, one way for every list: a page asks for `limit`
//! rows after the last id the previous page ended on; one extra row is
//! read to know whether another page follows. Each page costs the same
//! however deep it is, and a row added meanwhile never shifts a page.

use std::str::FromStr;

use serde::Deserialize;

use super::ValidationError;

/// Which way a list runs: by id, which follows creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Oldest,
    Newest,
}

/// How big a page may be: the size when the client names none, and the
/// most it may ask for (from settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    pub default: u32,
    pub max: u32,
}

/// A validated request for one page, after the row with id `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<Id> {
    pub limit: u32,
    pub after: Option<Id>,
}

impl<Id: FromStr> PageRequest<Id> {
    /// Checks the client's `limit` against `sizes` and reads its `cursor`,
    /// which must be one this server gave out (a non-negative id).
    pub fn parse(
        sizes: PageSizes,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let limit = limit.unwrap_or(sizes.default);
        if limit == 0 || limit > sizes.max {
            return Err(ValidationError::new(
                "limit",
                format!("must be between 1 and {}", sizes.max),
            ));
        }
        let after = cursor.map(parse_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

impl<Id> PageRequest<Id> {
    /// How many rows to read: one more than the page, to know whether
    /// another follows.
    pub fn rows_to_read(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// Cursors are opaque to clients; they hold the last id seen.
fn parse_cursor<Id: FromStr>(raw: &str) -> Result<Id, ValidationError> {
    raw.parse::<u64>()
        .ok()
        .and_then(|_| raw.parse::<Id>().ok())
        .ok_or_else(|| ValidationError::new("cursor", "is not a cursor this server issued"))
}

/// One page of rows, and the cursor for the next (`None` on the last).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page from rows read with [`PageRequest::rows_to_read`]: the
    /// extra row, if there, is dropped and means a next page, which starts
    /// after the last row kept.
    pub fn from_rows<Id: ToString>(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Id) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| id_of(row).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CommentId;

    const SIZES: PageSizes = PageSizes { default: 2, max: 5 };

    #[test]
    fn limits_and_cursors_are_checked() {
        let request = PageRequest::<CommentId>::parse(SIZES, None, Some("7")).unwrap();
        assert_eq!(request.limit, 2);
        assert_eq!(request.after, Some(CommentId(7)));
        assert_eq!(request.rows_to_read(), 3);
        for limit in [0, 6] {
            let err = PageRequest::<CommentId>::parse(SIZES, Some(limit), None).unwrap_err();
            assert_eq!(err.field, "limit");
        }
        for cursor in ["-1", "x", "1.5", ""] {
            let err = PageRequest::<CommentId>::parse(SIZES, None, Some(cursor)).unwrap_err();
            assert_eq!(err.field, "cursor", "{cursor:?}");
        }
    }

    #[test]
    fn the_extra_row_means_a_next_page_after_the_last_kept() {
        let page = Page::from_rows(vec![10, 11, 12], 2, |n| *n);
        assert_eq!(page.items, vec![10, 11]);
        assert_eq!(page.next_cursor.as_deref(), Some("11"));
        let last = Page::from_rows(vec![10, 11], 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }
}
