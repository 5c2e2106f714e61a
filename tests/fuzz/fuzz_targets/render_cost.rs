//! The cost of `comments::render::markdown_to_html`, not only its safety:
//! each input (up to 256 bytes) is a pattern repeated into a 64 KiB comment,
//! the largest allowed, so any construct whose cost or output grows faster
//! than its length (nesting, emphasis runs, bracket runs, tables, ...)
//! shows up at its worst. Checked:
//! * the HTML is at most `render::max_html_bytes` of the input;
//! * the time grows linearly: 64 KiB take at most 8 times what 16 KiB of
//!   the same pattern take (4 times is linear; the quadratic nesting the
//!   renderer once had took 16 times), plus 50 ms for timer noise, and
//!   measured twice more before failing, keeping the fastest times;
//! * and under 5 s in any case. Fuzz builds are instrumented for coverage
//!   and run tens of times slower than release builds (64 KiB of `&` take
//!   0.7 s here and under 10 ms in `bench/render.rs`), so a fixed bound
//!   tight enough to mean anything would fail on linear inputs.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use moderato::comments::render::{markdown_to_html, max_html_bytes};

const COMMENT_BYTES: usize = 64 * 1024;
const PATTERN_BYTES: usize = 256;
const GROWTH: u32 = 8;
const NOISE: Duration = Duration::from_millis(50);
const TIME_BOUND: Duration = Duration::from_secs(5);

/// `pattern` repeated to `bytes` (on a character boundary).
fn comment(pattern: &str, bytes: usize) -> String {
    let mut markdown = pattern.repeat(bytes / pattern.len() + 1);
    let mut end = bytes;
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    markdown.truncate(end);
    markdown
}

/// How long rendering `markdown` takes, and what it renders to.
fn render(markdown: &str) -> (Duration, String) {
    let started = Instant::now();
    let html = markdown_to_html(markdown);
    (started.elapsed(), html)
}

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(&data[..data.len().min(PATTERN_BYTES)]) else {
        return;
    };
    if pattern.is_empty() {
        return;
    }
    let quarter = comment(pattern, COMMENT_BYTES / 4);
    let markdown = comment(pattern, COMMENT_BYTES);
    let (mut took_quarter, _) = render(&quarter);
    let (mut took, html) = render(&markdown);
    assert!(
        html.len() <= max_html_bytes(markdown.len()),
        "{} bytes of HTML from {} of markdown; pattern {pattern:?}",
        html.len(),
        markdown.len()
    );
    // A thread descheduled in the middle of one measurement looks like
    // growth: before calling it that, measure twice more and keep the
    // fastest of each.
    for _ in 0..2 {
        if took <= took_quarter * GROWTH + NOISE {
            break;
        }
        took_quarter = took_quarter.min(render(&quarter).0);
        took = took.min(render(&markdown).0);
    }
    assert!(
        took <= took_quarter * GROWTH + NOISE,
        "rendering took {took:?} for {} bytes but {took_quarter:?} for a quarter of them; \
         pattern {pattern:?}",
        markdown.len()
    );
    assert!(
        took < TIME_BOUND,
        "rendering took {took:?} for {} bytes; pattern {pattern:?}",
        markdown.len()
    );
});
