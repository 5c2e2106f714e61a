//! Criterion micro-benchmarks for the hot pure functions: markdown
//! rendering and sanitizing, the built-in spam pipeline, the classifier's
//! tokenizer, and session-token hashing.
//!
//! `cargo bench --bench pipeline`. The learned scorer is trained on the
//! YouTube Spam Collection when `MODERATO_SPAM_DATA` names its folder
//! (default `../shared/data/youtube-spam`), else on a few built-in lines, so
//! the benchmark runs anywhere.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use moderato::config::{ModerationMode, Settings, Sources};
use moderato::spam::{eval, learned, Candidate, LearnedModel, Policy};

const SHORT: &str = "Great post! I tried the *second* approach and it worked.\nThanks for sharing [the code](https://example.com/code).";

fn long_comment() -> String {
    let paragraph = "Here is a longer reply with **bold**, _emphasis_, `code`, a [link](https://example.org/a?b=c) \
                     and a list:\n\n- one\n- two\n- three\n\n> quoted text from the post\n\n";
    paragraph.repeat(20)
}

fn training_data() -> Vec<eval::Sample> {
    let dir = std::env::var("MODERATO_SPAM_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../shared/data/youtube-spam"));
    let files = [
        "Youtube01-Psy.csv",
        "Youtube02-KatyPerry.csv",
        "Youtube03-LMFAO.csv",
    ];
    let found: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect();
    match eval::load_all(&found) {
        Ok(samples) if !samples.is_empty() => samples,
        _ => [
            ("subscribe to my channel for free gifts", true),
            ("check out my new video http://spam.example", true),
            ("I love this song, it reminds me of summer", false),
            ("the drummer is amazing in the second verse", false),
        ]
        .iter()
        .cycle()
        .take(40)
        .map(|(t, s)| eval::Sample {
            author: String::new(),
            text: t.to_string(),
            spam: *s,
        })
        .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let long = long_comment();
    c.bench_function("render/short_comment", |b| {
        b.iter(|| moderato::comments::render::markdown_to_html(black_box(SHORT)))
    });
    c.bench_function("render/long_comment_5kb", |b| {
        b.iter(|| moderato::comments::render::markdown_to_html(black_box(&long)))
    });

    let samples = training_data();
    let model = Arc::new(LearnedModel::empty());
    model.update(|m| {
        for s in &samples {
            m.learn(
                &learned::text_of(&Candidate {
                    body: s.text.clone(),
                    ..Candidate::default()
                }),
                s.spam,
            );
        }
    });
    let settings = Settings::load(&Sources::default()).expect("default settings");
    let cpu = moderato::cpu::CpuPool::start(1).expect("CPU pool");
    let pipeline = eval::local_pipeline(&settings.spam, model.clone(), cpu).expect("pipeline");
    let policy = Policy {
        mode: ModerationMode::None,
        trusted: false,
        approved_before: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let candidates: Vec<std::sync::Arc<Candidate>> = samples
        .iter()
        .take(200)
        .map(|s| Candidate {
            body: s.text.clone(),
            author_name: "Someone".into(),
            ip: Some("203.0.113.9".parse().expect("ip")),
            user_agent: Some("Mozilla/5.0".into()),
            ..Candidate::default()
        })
        .map(std::sync::Arc::new)
        .collect();
    let mut next = 0usize;
    c.bench_function("pipeline/default_builtin_scorers", |b| {
        b.iter(|| {
            let candidate = candidates[next % candidates.len()].clone();
            next += 1;
            runtime.block_on(pipeline.evaluate(black_box(candidate), policy))
        })
    });
    c.bench_function("classifier/features_short", |b| {
        b.iter(|| moderato::spam::classifier::features(black_box(SHORT)))
    });
    c.bench_function("classifier/score_short", |b| {
        b.iter(|| model.read(|m| m.score(black_box(SHORT))))
    });
    c.bench_function("auth/token_hash", |b| {
        b.iter(|| {
            moderato::auth::token::hash(black_box("xmr-pahIuau1NtUyvypG71B2sY7LHQIvxCn3VDsaDEw"))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
