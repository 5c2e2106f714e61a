//! Isso's thread shape, worked out from a thread's outline: replies one
//! level deep, pages by `limit` and `offset`, reply counts per comment.
//!
//! Moderato stores each reply under the comment it answers, to any depth;
//! Isso files every reply under the top-level comment its conversation
//! started from. So a comment's Isso `parent` is its top-most shown
//! ancestor, reached through shown comments only: a reply whose parent
//! readers do not see (trashed since, say) is shown at the top level.
//!
//! The order is Isso's: top-level comments by `sort` (oldest, newest, or
//! most liked first), replies always oldest first. `after` (Unix seconds)
//! leaves out older comments from what is listed, not from the counts.

use std::collections::HashMap;

use crate::comments::outline::OutlineEntry;
use crate::domain::CommentId;

/// Isso's `sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Oldest,
    Newest,
    Upvotes,
}

/// What a client asked of a thread, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreadQuery {
    /// List the replies of this comment instead of the top level.
    pub parent: Option<CommentId>,
    pub sort: Sort,
    /// Top-level comments (or replies of `parent`) at most; `None`: all.
    pub limit: Option<usize>,
    pub offset: usize,
    /// Replies listed under each top-level comment at most; `None`: all.
    pub nested_limit: Option<usize>,
    /// Only comments created after this time (ms).
    pub after_ms: Option<i64>,
}

/// One listed comment and, at the top level, its replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: CommentId,
    /// Isso's parent: the top-level comment it is filed under.
    pub parent: Option<CommentId>,
    /// At the top level of a whole-thread answer only.
    pub replies: Option<Replies>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replies {
    pub total: usize,
    pub hidden: i64,
    pub listed: Vec<Listed>,
}

/// The answer's shape: Isso's `id`, `total_replies`, `hidden_replies` and
/// the comments listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arranged {
    pub root: Option<CommentId>,
    pub total: usize,
    pub hidden: i64,
    pub listed: Vec<Listed>,
}

impl Arranged {
    /// Every comment listed, replies included, in the answer's order.
    pub fn ids(&self) -> Vec<CommentId> {
        let mut ids = Vec::new();
        for item in &self.listed {
            ids.push(item.id);
            if let Some(replies) = &item.replies {
                ids.extend(replies.listed.iter().map(|r| r.id));
            }
        }
        ids
    }
}

/// Arranges a thread's shown comments (its outline, in id order) as Isso
/// answers `GET /?uri=...`. `karma` (likes minus dislikes) is looked at
/// only for `Sort::Upvotes`.
pub fn arrange(
    entries: &[OutlineEntry],
    query: &ThreadQuery,
    karma: &HashMap<CommentId, i64>,
) -> Arranged {
    let by_id: HashMap<CommentId, &OutlineEntry> = entries.iter().map(|e| (e.id, e)).collect();
    let isso_parent = |entry: &OutlineEntry| -> Option<CommentId> {
        let mut top = None;
        let mut next = entry.parent_id;
        // Parents are older than their replies, so this ends; the bound
        // only guards against a corrupt table.
        for _ in 0..=entries.len() {
            match next.and_then(|id| by_id.get(&id)) {
                Some(parent) => {
                    top = Some(parent.id);
                    next = parent.parent_id;
                }
                None => break,
            }
        }
        top
    };
    let mut top_level: Vec<&OutlineEntry> = Vec::new();
    let mut replies: HashMap<CommentId, Vec<&OutlineEntry>> = HashMap::new();
    let mut parents: HashMap<CommentId, Option<CommentId>> = HashMap::new();
    for entry in entries {
        let parent = isso_parent(entry);
        parents.insert(entry.id, parent);
        match parent {
            Some(top) => replies.entry(top).or_default().push(entry),
            None => top_level.push(entry),
        }
    }
    let recent = |e: &&OutlineEntry| query.after_ms.is_none_or(|after| e.created_at > after);
    let as_listed = |entry: &OutlineEntry| Listed {
        id: entry.id,
        parent: parents.get(&entry.id).copied().flatten(),
        replies: None,
    };
    let oldest_first = |list: &mut Vec<&OutlineEntry>| {
        list.sort_by_key(|e| (e.created_at, e.id));
    };

    if let Some(root) = query.parent {
        let all = replies.get(&root).map(Vec::as_slice).unwrap_or_default();
        let mut shown: Vec<&OutlineEntry> = all.iter().copied().filter(recent).collect();
        oldest_first(&mut shown);
        let page: Vec<Listed> = page(&shown, query.offset, query.limit)
            .iter()
            .map(|e| as_listed(e))
            .collect();
        return Arranged {
            root: Some(root),
            total: all.len(),
            hidden: count(all.len()) - count(page.len()) - count(query.offset),
            listed: page,
        };
    }

    let mut shown: Vec<&OutlineEntry> = top_level.iter().copied().filter(recent).collect();
    match query.sort {
        Sort::Oldest => oldest_first(&mut shown),
        Sort::Newest => shown.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id))),
        Sort::Upvotes => shown.sort_by_key(|e| {
            (
                std::cmp::Reverse(karma.get(&e.id).copied().unwrap_or(0)),
                e.created_at,
                e.id,
            )
        }),
    }
    let page = page(&shown, query.offset, query.limit);
    let listed: Vec<Listed> = page
        .iter()
        .map(|entry| {
            let all = replies
                .get(&entry.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut under: Vec<&OutlineEntry> = all.iter().copied().filter(recent).collect();
            oldest_first(&mut under);
            under.truncate(query.nested_limit.unwrap_or(usize::MAX));
            let under: Vec<Listed> = under.iter().map(|e| as_listed(e)).collect();
            Listed {
                replies: Some(Replies {
                    total: all.len(),
                    hidden: count(all.len()) - count(under.len()),
                    listed: under,
                }),
                ..as_listed(entry)
            }
        })
        .collect();
    Arranged {
        root: None,
        total: entries.len(),
        hidden: count(top_level.len()) - count(listed.len()) - count(query.offset),
        listed,
    }
}

fn page<T>(items: &[T], offset: usize, limit: Option<usize>) -> &[T] {
    let start = offset.min(items.len());
    let end = match limit {
        Some(limit) => start.saturating_add(limit).min(items.len()),
        None => items.len(),
    };
    &items[start..end]
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CommentStatus;

    fn entry(id: i64, parent: Option<i64>, created_at: i64) -> OutlineEntry {
        OutlineEntry {
            id: CommentId(id),
            parent_id: parent.map(CommentId),
            status: CommentStatus::Approved,
            created_at,
        }
    }

    fn query() -> ThreadQuery {
        ThreadQuery {
            parent: None,
            sort: Sort::Oldest,
            limit: None,
            offset: 0,
            nested_limit: None,
            after_ms: None,
        }
    }

    fn ids(listed: &[Listed]) -> Vec<i64> {
        listed.iter().map(|l| l.id.0).collect()
    }

    /// 1 ← 2 ← 3 (a reply to a reply), 1 ← 5, and 4 top-level; 6 replies
    /// to 7, which readers do not see.
    fn thread() -> Vec<OutlineEntry> {
        vec![
            entry(1, None, 10),
            entry(2, Some(1), 20),
            entry(3, Some(2), 30),
            entry(4, None, 40),
            entry(5, Some(1), 50),
            entry(6, Some(7), 60),
        ]
    }

    #[test]
    fn replies_at_any_depth_are_filed_under_their_top_level_comment() {
        let arranged = arrange(&thread(), &query(), &HashMap::new());
        assert_eq!(ids(&arranged.listed), [1, 4, 6]);
        assert_eq!(arranged.total, 6, "every shown comment, replies included");
        assert_eq!(arranged.hidden, 0);
        let first = &arranged.listed[0];
        let replies = first.replies.as_ref().unwrap();
        assert_eq!(ids(&replies.listed), [2, 3, 5]);
        assert!(replies
            .listed
            .iter()
            .all(|r| r.parent == Some(CommentId(1))));
        assert_eq!((replies.total, replies.hidden), (3, 0));
        // A reply to a comment readers do not see stands at the top.
        assert_eq!(arranged.listed[2].parent, None);
        assert_eq!(arranged.ids().len(), 6);
    }

    #[test]
    fn limits_offsets_and_nested_limits_page_as_isso_does() {
        let limited = ThreadQuery {
            limit: Some(1),
            offset: 1,
            nested_limit: Some(1),
            ..query()
        };
        let arranged = arrange(&thread(), &limited, &HashMap::new());
        assert_eq!(ids(&arranged.listed), [4]);
        assert_eq!(arranged.hidden, 1, "3 top-level, 1 listed, 1 skipped");
        let nested = ThreadQuery {
            nested_limit: Some(1),
            ..query()
        };
        let arranged = arrange(&thread(), &nested, &HashMap::new());
        let replies = arranged.listed[0].replies.as_ref().unwrap();
        assert_eq!(ids(&replies.listed), [2]);
        assert_eq!((replies.total, replies.hidden), (3, 2));
        let none = ThreadQuery {
            nested_limit: Some(0),
            ..query()
        };
        let arranged = arrange(&thread(), &none, &HashMap::new());
        assert_eq!(arranged.listed[0].replies.as_ref().unwrap().hidden, 3);
    }

    #[test]
    fn the_replies_of_one_comment_are_listed_oldest_first_whatever_the_sort() {
        let more = ThreadQuery {
            parent: Some(CommentId(1)),
            sort: Sort::Newest,
            limit: Some(2),
            offset: 1,
            ..query()
        };
        let arranged = arrange(&thread(), &more, &HashMap::new());
        assert_eq!(arranged.root, Some(CommentId(1)));
        assert_eq!(ids(&arranged.listed), [3, 5]);
        assert!(arranged.listed.iter().all(|l| l.replies.is_none()));
        assert_eq!((arranged.total, arranged.hidden), (3, 0));
    }

    #[test]
    fn top_level_comments_sort_by_age_or_votes() {
        let newest = ThreadQuery {
            sort: Sort::Newest,
            ..query()
        };
        assert_eq!(
            ids(&arrange(&thread(), &newest, &HashMap::new()).listed),
            [6, 4, 1]
        );
        let upvotes = ThreadQuery {
            sort: Sort::Upvotes,
            ..query()
        };
        let karma = HashMap::from([(CommentId(4), 3), (CommentId(1), -1)]);
        assert_eq!(ids(&arrange(&thread(), &upvotes, &karma).listed), [4, 6, 1]);
    }

    #[test]
    fn after_leaves_older_comments_out_of_the_list_not_the_counts() {
        let recent = ThreadQuery {
            after_ms: Some(20),
            ..query()
        };
        let arranged = arrange(&thread(), &recent, &HashMap::new());
        assert_eq!(ids(&arranged.listed), [4, 6]);
        assert_eq!(arranged.total, 6);
    }
}
