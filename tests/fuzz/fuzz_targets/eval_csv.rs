//! `spam::eval::load` on arbitrary file contents (YouTube Spam Collection CSV
//! or `label<TAB>text`), written to a temporary file each run and removed
//! after it.
//!
//! Properties:
//! * it returns `Ok` or `Err`, never panics;
//! * every error names the file;
//! * a file that is not UTF-8 is refused; an accepted file has at least one
//!   sample;
//! * CSV (first line starts with `COMMENT_ID,`): no text keeps a trailing
//!   byte-order mark;
//! * tab-separated: one sample per non-blank line, no author, no line breaks
//!   in a text.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use moderato::spam::eval::load;

/// One file per fuzzing process (forked jobs get their own), in memory when
/// the machine has `/dev/shm`: rewriting a file in a disk-backed `/tmp` was
/// measured at about 3 ms a run, fifty times the cost of the parse.
static PATH: LazyLock<PathBuf> = LazyLock::new(|| {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("moderato-fuzz-eval-{}.csv", std::process::id()))
});

fuzz_target!(|data: &[u8]| {
    let path: &PathBuf = &PATH;
    std::fs::write(path, data).expect("write the temporary input file");
    let result = load(path);
    // Removed at once, so no run leaves a file behind (unless it crashes).
    let _ = std::fs::remove_file(path);

    let name = path.display().to_string();
    let samples = match result {
        Err(e) => {
            assert!(e.starts_with(&name), "error does not name the file: {e}");
            return;
        }
        Ok(samples) => samples,
    };
    let text = std::str::from_utf8(data).expect("a file that is not UTF-8 was accepted");
    assert!(!samples.is_empty(), "Ok with no samples");

    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text
        .lines()
        .next()
        .unwrap_or_default()
        .starts_with("COMMENT_ID,")
    {
        for s in &samples {
            assert!(!s.text.ends_with('\u{feff}'), "trailing BOM kept: {s:?}");
        }
    } else {
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(samples.len(), lines, "one sample per non-blank line");
        for s in &samples {
            assert!(s.author.is_empty(), "{s:?}");
            assert!(!s.text.contains('\n'), "{s:?}");
        }
    }
});
