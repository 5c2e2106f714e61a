//! `spam::wordlists` on arbitrary entries and comments.
//!
//! Input: one byte choosing the list (blocked / suspect) and the candidate's
//! IP field, then UTF-8 text split in half at a character boundary: the first
//! half is the pattern, the second the comment body.
//!
//! For each `WordKind` the pattern is validated; a pattern that validates is
//! compiled into a `WordLists` as a one-entry list and checked against the
//! body. Properties:
//! * nothing panics and every regex compiles within the limits;
//! * `validate` returns the trimmed pattern (IPs normalised) and accepts its
//!   own output unchanged;
//! * a hit is always from the list the entry is on;
//! * a word entry is found as a whole word in ` {word} `, an IP entry matches
//!   its own address.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use moderato::domain::{WordId, WordKind, WordList};
use moderato::spam::wordlists::{validate, Entry, MAX_PATTERN_BYTES};
use moderato::spam::{Candidate, WordLists};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let list = if selector & 1 == 0 {
        WordList::Blocked
    } else {
        WordList::Suspect
    };
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid += 1;
    }
    let (pattern, body) = text.split_at(mid);

    for kind in [WordKind::Word, WordKind::Regex, WordKind::Ip] {
        let Ok(kept) = validate(kind, pattern) else {
            continue;
        };
        assert!(!kept.is_empty());
        if kind != WordKind::Ip {
            assert_eq!(
                kept,
                pattern.trim(),
                "{kind:?} pattern must be kept trimmed"
            );
            assert!(kept.len() <= MAX_PATTERN_BYTES);
        }
        assert_eq!(
            validate(kind, &kept).as_deref(),
            Ok(kept.as_str()),
            "validate({kind:?}) does not accept its own output {kept:?}"
        );

        let lists = WordLists::empty();
        lists.replace(
            &[Entry {
                id: WordId(1),
                list,
                kind,
                pattern: kept.clone(),
                note: None,
            }],
            1,
        );
        assert_eq!(lists.version(), 1);

        let mut candidate = Candidate {
            body: body.to_string(),
            ..Default::default()
        };
        if selector & 2 != 0 {
            candidate.user_agent = Some(body.to_string());
        }
        if let Some(hit) = lists.check(&candidate) {
            assert_eq!(hit.list, list, "{hit:?}");
        }

        match kind {
            WordKind::Word => {
                candidate.body = format!(" {kept} ");
                let hit = lists.check(&candidate);
                assert!(
                    hit.as_ref().is_some_and(|h| h.list == list),
                    "word {kept:?} not found in {:?}: {hit:?}",
                    candidate.body
                );
            }
            WordKind::Ip => {
                let addr = kept.split('/').next().unwrap_or_default();
                let ip: IpAddr = addr
                    .parse()
                    .unwrap_or_else(|e| panic!("validated IP entry {kept:?}: {e}"));
                candidate.ip = Some(ip);
                let hit = lists.check(&candidate);
                assert!(
                    hit.as_ref()
                        .is_some_and(|h| h.list == list && h.field == "ip"),
                    "IP entry {kept:?} does not match {ip}: {hit:?}"
                );
            }
            WordKind::Regex => {}
        }
    }
});
