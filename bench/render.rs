//! The cost of rendering a comment's markdown, on the worst inputs found:
//! nesting (block quotes, lists, both), emphasis, links, tables, code
//! spans, headings and entities, each as 64 KiB of markdown (the largest
//! comment allowed) at nesting depths from 1 to 16,384.
//!
//!   cargo bench --bench render
//!
//! Criterion reports bytes per second; nanoseconds per input byte is one
//! billion divided by that. Before the nesting bound, 64 KiB of `- - - …`
//! took over 10 s (quadratic in the depth); it must now stay in the same
//! range as flat text at every depth.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use moderato::comments::render::markdown_to_html;

const SIZE: usize = 64 * 1024;

/// `unit` repeated to fill `SIZE` bytes, cut on a character boundary.
fn fill(unit: &str) -> String {
    let mut text = unit.repeat(SIZE / unit.len().max(1) + 1);
    text.truncate(SIZE);
    while !text.is_char_boundary(text.len()) {
        text.pop();
    }
    text
}

/// One block nested `depth` deep, repeated to fill the comment.
fn nested(open: &str, depth: usize) -> String {
    fill(&format!("{}text\n\n", open.repeat(depth)))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("render/nesting");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(20);
    for depth in [1usize, 4, 16, 64, 1024, 16_384] {
        for (name, open) in [
            ("quotes", "> "),
            ("lists", "- "),
            ("ordered", "1. "),
            ("quoted_lists", "> - "),
            ("emphasis", "*a "),
            ("links", "[a "),
        ] {
            let input = nested(open, depth);
            group.bench_with_input(BenchmarkId::new(name, depth), &input, |b, input| {
                b.iter(|| markdown_to_html(black_box(input)))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("render/flat");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(20);
    for (name, unit) in [
        (
            "prose",
            "Plain words of an ordinary comment, one sentence after another. ",
        ),
        (
            "table_cells",
            "|a|b|c|d|\n|-|-|-|-|\n|1|2|3|4|\n|5|6|7|8|\n\n",
        ),
        ("empty_cells", "||||||||\n|-|-|-|-|-|-|-|\n||||||||\n\n"),
        ("code_spans", "`a` "),
        ("headings", "a\n=\n"),
        ("entities", "&amp;&#65;&lt; "),
        // Escaped one by one by the sanitizer's serializer.
        ("ampersands", "&"),
        ("no_break_spaces", "\u{a0}"),
        ("autolinks", "<https://example.com/a> "),
        ("brackets", "[[[[]]]] ![x]( "),
        ("raw_html", "<b><i>x</i></b> "),
    ] {
        let input = fill(unit);
        group.bench_with_input(BenchmarkId::new(name, 0), &input, |b, input| {
            b.iter(|| markdown_to_html(black_box(input)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
