//! `spam::classifier` on arbitrary UTF-8 text.
//!
//! Properties:
//! * `features` never repeats a key and always carries exactly one
//!   comment-length feature (`l:0-3`, `l:4-10`, `l:11-25` or `l:26+`);
//! * every score is finite, within [0, 1], deterministic, has at most
//!   `MAX_REASONS` reasons and reports the model's maturity; a model that has
//!   learned nothing scores exactly 0.5 with no reasons;
//! * `learn` touches each feature of the text once and reports the new
//!   globals; exported rows and globals rebuild the same model;
//! * `learn` then `unlearn` of the same text and label restores the exported
//!   rows and globals exactly, and `reverse` equals learning the other label.
#![no_main]

use std::collections::HashSet;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use moderato::spam::classifier::{features, fnv1a64, Model, MAX_REASONS};

/// The feature strings of the four length buckets (hashed as the classifier
/// hashes `"{kind}:{part}"`).
const LENGTH_FEATURES: [&str; 4] = ["l:0-3", "l:4-10", "l:11-25", "l:26+"];

const SPAM: &[&str] = &[
    "Check out my channel and SUBSCRIBE please!!!",
    "Free gift cards at www.free-gifts.net, click now",
    "make money from home: http://easy-cash.example.com/now",
    "subscribe to my channel, I subscribe back 100%",
    "cheap pills &amp; casino bonus <a href=\"https://spam.example.org\">here</a>",
    "visit my page for FREE followers 💰💰💰",
];
const HAM: &[&str] = &[
    "I love this song so much",
    "Who is still listening to this in 2015?",
    "the dance at the end is the best part",
    "Great post, thanks for the clear explanation of borrowing.",
    "I don't agree with the second point, but the benchmarks are useful",
    "This made my day ❤️",
];

/// A mature model (6 of each class), built once.
static TRAINED: LazyLock<Model> = LazyLock::new(|| {
    let mut m = Model::empty();
    for (s, h) in SPAM.iter().zip(HAM) {
        m.learn(s, true);
        m.learn(h, false);
    }
    assert!(m.is_mature());
    m
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let feats = features(text);
    let mut keys = HashSet::with_capacity(feats.len());
    for f in &feats {
        assert!(
            keys.insert(f.key),
            "feature key {} ({:?}) repeated for {text:?}",
            f.key,
            f.text
        );
    }
    let buckets = LENGTH_FEATURES
        .iter()
        .filter(|l| keys.contains(&(fnv1a64(l.as_bytes()) as i64)))
        .count();
    assert_eq!(buckets, 1, "length features for {text:?}");

    let empty = Model::empty().score(text);
    assert_eq!(empty.probability, 0.5, "empty model on {text:?}");
    assert!(empty.reasons.is_empty() && !empty.mature, "{empty:?}");

    let base: &Model = &TRAINED;
    check_score(base, text);

    for spam in [true, false] {
        let mut m = base.clone();
        let (rows, globals) = (m.rows(), m.globals());
        let changes = m.learn(text, spam);
        assert_eq!(
            changes.rows.len(),
            feats.len(),
            "learn({text:?}, {spam}) must touch every feature once"
        );
        assert_eq!(changes.globals, m.globals());
        for c in &changes.rows {
            assert!(keys.contains(&c.row.key), "learn touched a foreign key");
            let (da, db) = if spam { (1.0, 0.0) } else { (0.0, 1.0) };
            assert_eq!((c.delta_a, c.delta_b), (da, db), "{c:?}");
        }
        check_score(&m, text);
        assert_eq!(
            Model::from_parts(m.globals(), m.rows()),
            m,
            "export round trip"
        );

        m.unlearn(text, spam);
        assert!(
            m.rows() == rows && m.globals() == globals,
            "learn then unlearn({text:?}, {spam}) did not restore the model"
        );
    }

    let mut reversed = base.clone();
    reversed.learn(text, true);
    reversed.reverse(text, false);
    let mut ham = base.clone();
    ham.learn(text, false);
    assert!(
        reversed.rows() == ham.rows() && reversed.globals() == ham.globals(),
        "reverse({text:?}) differs from learning ham"
    );
});

fn check_score(model: &Model, text: &str) {
    let s = model.score(text);
    assert!(
        s.probability.is_finite() && (0.0..=1.0).contains(&s.probability),
        "score {} for {text:?}",
        s.probability
    );
    assert!(s.reasons.len() <= MAX_REASONS, "{:?}", s.reasons);
    assert_eq!(s.mature, model.is_mature());
    assert_eq!(
        s,
        model.score(text),
        "scoring {text:?} is not deterministic"
    );
}
