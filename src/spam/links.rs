//! Counts links in the body and the author URL. Many links are the mark of
//! link spam; WordPress holds a comment with 2 or more by default.

use std::collections::HashSet;
use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;

use super::{Assessment, Candidate, Rule, Scorer, ScorerError};
use crate::config::LinksSettings;

/// Things that are links to a reader: scheme URLs, `www.` names, and bare
/// domain names with a path or a common top-level domain (`bit.ly/x`,
/// `example.com`), which spammers write to dodge URL filters.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:https?://|www\.)[^\s<>()\[\]]+
        |
        \b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9][a-z0-9-]{0,62})*
          \.(?:com|net|org|info|biz|ru|cn|io|ly|me|co|us|uk|de|fr|xyz|top|site|online|club|tk|gl|gg|tv|to|cc|ws|in|eu)
          \b(?:/[^\s<>()\[\]]*)?
        ",
    )
    .expect("the link pattern compiles")
});

pub struct Links {
    hold_at: usize,
    spam_at: usize,
}

/// The score for a number of links: a comment without links leans
/// legitimate, each link more leans further towards spam. Chosen with the
/// thresholds by measurement (docs/SPAM.md).
fn score_for(count: usize) -> f64 {
    match count {
        0 => 0.45,
        1 => 0.7,
        2 => 0.8,
        3 => 0.85,
        _ => 0.9,
    }
}

/// Distinct links in `text` (the same URL twice counts once).
pub fn count_links(text: &str) -> usize {
    LINK.find_iter(text)
        .map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', '!', '?', ':', ';', '\'', '"'])
                .to_lowercase()
        })
        .collect::<HashSet<_>>()
        .len()
}

impl Links {
    pub fn new(settings: &LinksSettings) -> Self {
        Links {
            hold_at: settings.hold_at,
            spam_at: settings.spam_at,
        }
    }
}

#[async_trait]
impl Scorer for Links {
    fn kind(&self) -> &'static str {
        "links"
    }

    fn computes_only(&self) -> bool {
        true
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        let in_body = count_links(&candidate.body);
        let count = in_body + usize::from(candidate.author_url.is_some());
        let mut reasons = Vec::new();
        let rule = if self.spam_at > 0 && count >= self.spam_at {
            reasons.push(format!("{count} links (spam at {})", self.spam_at));
            Some(Rule::Spam)
        } else if self.hold_at > 0 && count >= self.hold_at {
            reasons.push(format!("{count} links (held at {})", self.hold_at));
            Some(Rule::Hold)
        } else {
            if count > 0 {
                reasons.push(format!("{count} link{}", if count == 1 { "" } else { "s" }));
            }
            None
        };
        Ok(Assessment {
            score: score_for(count),
            reasons,
            rule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_links_a_reader_would_see() {
        assert_eq!(count_links("no links here, just text. Really."), 0);
        assert_eq!(
            count_links("see https://example.com/a?b=c and http://x.org"),
            2
        );
        assert_eq!(count_links("visit www.spam.example now"), 1);
        assert_eq!(count_links("bit.ly/abc123 and youtube.com/watch?v=x"), 2);
        assert_eq!(
            count_links("[text](https://example.com) https://example.com"),
            1
        );
        assert_eq!(count_links("e.g. this, i.e. that, v1.2.3"), 0);
    }

    #[tokio::test]
    async fn two_links_hold_by_default_three_too() {
        let scorer = Links::new(&LinksSettings::default());
        let mut c = Candidate {
            body: "one https://a.example/x".into(),
            ..Candidate::default()
        };
        assert_eq!(scorer.score(&c).await.unwrap().rule, None);
        c.author_url = Some("https://me.example".into());
        let two = scorer.score(&c).await.unwrap();
        assert_eq!(two.rule, Some(Rule::Hold));
        assert!(two.reasons[0].contains("2 links"));
        c.body = "https://a.example https://b.example https://c.example".into();
        let four = scorer.score(&c).await.unwrap();
        assert_eq!(four.rule, Some(Rule::Hold));
        assert!(four.score > two.score);
    }

    #[tokio::test]
    async fn spam_at_marks_link_farms_as_spam() {
        let scorer = Links::new(&LinksSettings {
            hold_at: 2,
            spam_at: 5,
        });
        let body = (0..6)
            .map(|i| format!("https://s{i}.example"))
            .collect::<Vec<_>>()
            .join(" ");
        let c = Candidate {
            body,
            ..Candidate::default()
        };
        assert_eq!(scorer.score(&c).await.unwrap().rule, Some(Rule::Spam));
    }
}
