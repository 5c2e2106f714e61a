//! Reading Moderato's own export (`format.rs`), gzipped or not (told by
//! the first two bytes), a line at a time. The header must come first and
//! be a version this code reads; the `end` line must come last and its
//! counts match what came before, so a file cut short (at a line's end or
//! inside the gzip stream) is an error, not a partial restore.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::apply::Records;
use super::format::{EndLine, Line, FORMAT, VERSION};
use super::xml::Counted;
use super::{Item, Position, TransferError};

/// The longest line read (a comment's body and HTML, with room to spare):
/// a longer one is an error, not an allocation without bound.
const MAX_LINE_BYTES: u64 = 16 << 20;

pub struct Moderato {
    lines: Box<dyn BufRead + Send>,
    file: String,
    record: u64,
    seen: EndLine,
    ended: bool,
    line: String,
}

impl Moderato {
    pub fn open(file: &Path, read: Arc<AtomicU64>) -> Result<Self, TransferError> {
        let name = file.display().to_string();
        let handle = File::open(file).map_err(|e| TransferError::Unreadable {
            file: name.clone(),
            message: e.to_string(),
        })?;
        let mut raw = BufReader::new(Counted::new(handle, read));
        let gzipped = raw
            .fill_buf()
            .map(|head| head.starts_with(&[0x1f, 0x8b]))
            .map_err(|e| TransferError::Unreadable {
                file: name.clone(),
                message: e.to_string(),
            })?;
        let lines: Box<dyn BufRead + Send> = if gzipped {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(Moderato {
            lines,
            file: name,
            record: 0,
            seen: EndLine::default(),
            ended: false,
            line: String::new(),
        })
    }

    fn error(&self, message: impl Into<String>) -> TransferError {
        TransferError::Format {
            file: self.file.clone(),
            position: Position::Record(self.record),
            message: message.into(),
        }
    }

    fn read_line(&mut self) -> Result<bool, TransferError> {
        self.line.clear();
        let read = Read::take(&mut self.lines, MAX_LINE_BYTES).read_line(&mut self.line);
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                self.record += 1;
                return Err(self.error(format!("cannot read the file ({e}); is it cut short?")));
            }
        };
        if n == 0 {
            return Ok(false);
        }
        self.record += 1;
        if !self.line.ends_with('\n') {
            return Err(self.error(if n as u64 >= MAX_LINE_BYTES {
                "a line longer than 16 MiB".to_string()
            } else {
                "the last line is cut short".to_string()
            }));
        }
        Ok(true)
    }
}

impl Records for Moderato {
    fn next_item(&mut self) -> Result<Option<Item>, TransferError> {
        loop {
            if !self.read_line()? {
                if self.ended {
                    return Ok(None);
                }
                return Err(self.error(
                    "the file ends before its `end` line: it is cut short, nothing was kept",
                ));
            }
            if self.ended {
                return Err(self.error("a record after the `end` line"));
            }
            if self.line.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(&self.line)
                .map_err(|e| self.error(format!("not a record of Moderato's export: {e}")))?;
            let first = self.record == 1;
            match (&line, first) {
                (Line::Header(header), true) => {
                    if header.format != FORMAT {
                        return Err(self.error(format!(
                            "the header names the format `{}`, not `{FORMAT}`",
                            header.format
                        )));
                    }
                    if header.version != VERSION {
                        return Err(self.error(format!(
                            "format version {} (this Moderato reads version {VERSION})",
                            header.version
                        )));
                    }
                    return Ok(Some(Item::Source(format!("moderato:{}", header.site))));
                }
                (_, true) => {
                    return Err(
                        self.error("not Moderato's export: the first line is not its header")
                    )
                }
                (Line::Header(_), false) => return Err(self.error("a second header")),
                (Line::End(counts), false) => {
                    if *counts != self.seen {
                        return Err(self.error(format!(
                            "the end line counts {counts:?}, the file holds {:?}",
                            self.seen
                        )));
                    }
                    self.ended = true;
                }
                (Line::Article(_), false) => self.seen.articles += 1,
                (Line::Account(_), false) => self.seen.accounts += 1,
                (Line::Comment(_), false) => self.seen.comments += 1,
                (Line::Ban(_), false) => self.seen.bans += 1,
                (Line::Word(_), false) => self.seen.words += 1,
            }
            if !matches!(line, Line::End(_)) {
                return Ok(Some(Item::Moderato(Box::new(line))));
            }
        }
    }
}
