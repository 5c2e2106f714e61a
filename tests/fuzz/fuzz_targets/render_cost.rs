//! The cost of `comments::render::markdown_to_html`, not only its safety:
//! each input (up to 256 bytes) is a pattern repeated into a 64 KiB comment,
//! the largest allowed, so any construct whose cost or output grows faster
//! than its length (nesting, emphasis runs, bracket runs, tables, ...)
//! shows up at its worst. Checked:
//! * the HTML is at most `render::max_html_bytes` of the input;
//! * rendering takes under a second (about 15 µs per input byte; the
//!   renderer needs well under 1 µs per byte on every input measured by
//!   `bench/render.rs`, and the quadratic nesting it replaced needed
//!   150 µs per byte).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use moderato::comments::render::{markdown_to_html, max_html_bytes};

const COMMENT_BYTES: usize = 64 * 1024;
const PATTERN_BYTES: usize = 256;
const TIME_BOUND: Duration = Duration::from_secs(1);

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(&data[..data.len().min(PATTERN_BYTES)]) else {
        return;
    };
    if pattern.is_empty() {
        return;
    }
    let mut markdown = pattern.repeat(COMMENT_BYTES / pattern.len() + 1);
    markdown.truncate(COMMENT_BYTES);
    while !markdown.is_char_boundary(markdown.len()) {
        markdown.pop();
    }
    let started = Instant::now();
    let html = markdown_to_html(&markdown);
    let took = started.elapsed();
    assert!(
        html.len() <= max_html_bytes(markdown.len()),
        "{} bytes of HTML from {} of markdown; pattern {pattern:?}",
        html.len(),
        markdown.len()
    );
    assert!(
        took < TIME_BOUND,
        "rendering took {took:?} for {} bytes; pattern {pattern:?}",
        markdown.len()
    );
});
