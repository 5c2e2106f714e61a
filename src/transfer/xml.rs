//! Reading an XML export as a stream of elements with quick-xml, for the
//! WordPress and Disqus readers: each element's path and the text of the
//! leaves, errors with the line and column.
//!
//! Safe with hostile files: quick-xml expands no entity a document
//! declares and fetches nothing, and a document type that declares
//! entities is refused outright (an export never has one), so "billion
//! laughs" and external entities (XXE) end in a clear error, not in memory
//! or a file read. Only XML's five predefined entities and character
//! references are decoded. The text kept per element is bounded.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

use super::{Position, TransferError};

/// Text kept per element at most; the rest of a longer one is dropped
/// (and the element marked as cut), so a post's body of any size costs
/// bounded memory. Larger than any comment we keep.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// What the stream yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    /// An element opened; `path` now ends with its local name.
    Start {
        attributes: Vec<(String, String)>,
    },
    /// An element closed, with the text directly inside it (leaves).
    End {
        text: String,
        cut: bool,
    },
    Eof,
}

/// Counts the bytes read, for the progress bar.
pub struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R, read: Arc<AtomicU64>) -> Self {
        Counted { inner, read }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub struct XmlStream {
    reader: Reader<BufReader<Counted<File>>>,
    buf: Vec<u8>,
    file: PathBuf,
    /// Local names of the open elements, outermost first.
    pub path: Vec<String>,
    text: String,
    cut: bool,
    /// The last node was an `End`: its element leaves `path` next time.
    closing: bool,
}

impl XmlStream {
    pub fn open(file: &Path, read: Arc<AtomicU64>) -> Result<XmlStream, TransferError> {
        let handle = File::open(file).map_err(|e| TransferError::Unreadable {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        let counted = Counted::new(handle, read);
        let mut reader = Reader::from_reader(BufReader::with_capacity(1 << 16, counted));
        let config = reader.config_mut();
        // `<id/>` reads as an empty leaf, like `<id></id>`.
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Ok(XmlStream {
            reader,
            buf: Vec::with_capacity(1 << 12),
            file: file.to_path_buf(),
            path: Vec::new(),
            text: String::new(),
            cut: false,
            closing: false,
        })
    }

    /// The local name of the element `depth` levels up from the innermost
    /// open one (0: the innermost).
    pub fn up(&self, depth: usize) -> Option<&str> {
        self.path
            .len()
            .checked_sub(depth + 1)
            .map(|i| self.path[i].as_str())
    }

    /// An error at the reader's current place.
    pub fn error(&self, message: impl Into<String>) -> TransferError {
        self.error_at(self.reader.buffer_position(), message.into())
    }

    fn error_at(&self, offset: u64, message: String) -> TransferError {
        TransferError::Format {
            file: self.file.display().to_string(),
            position: line_and_column(&self.file, offset),
            message,
        }
    }

    /// The next element start or end. After an `End`, `path` still holds
    /// the closed element (so the caller sees where it was); it is popped
    /// at the next call.
    pub fn next(&mut self) -> Result<Node, TransferError> {
        if self.closing {
            self.path.pop();
            self.closing = false;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let node = loop {
            buf.clear();
            match self.read_one(&mut buf) {
                Ok(Some(node)) => break Ok(node),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
        };
        self.buf = buf;
        node
    }

    /// One event read into `buf`: a node, or `None` for what the caller
    /// does not see (text is kept, comments skipped).
    fn read_one(&mut self, buf: &mut Vec<u8>) -> Result<Option<Node>, TransferError> {
        {
            let event = match self.reader.read_event_into(buf) {
                Ok(event) => event,
                Err(e) => {
                    let at = self.reader.error_position();
                    return Err(self.error_at(at, format!("not well-formed XML: {e}")));
                }
            };
            match event {
                Event::Start(start) => {
                    let name = start.local_name().as_ref().to_string();
                    let mut attributes = Vec::new();
                    for attribute in start.attributes() {
                        let attribute =
                            attribute.map_err(|e| self.error(format!("bad attribute: {e}")))?;
                        let key = attribute.key.local_name().as_ref().to_string();
                        let value = attribute
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| self.error(format!("bad attribute value: {e}")))?
                            .into_owned();
                        attributes.push((key, value));
                    }
                    self.path.push(name);
                    self.text.clear();
                    self.cut = false;
                    return Ok(Some(Node::Start { attributes }));
                }
                Event::End(_) => {
                    self.closing = true;
                    let text = std::mem::take(&mut self.text);
                    return Ok(Some(Node::End {
                        text,
                        cut: std::mem::take(&mut self.cut),
                    }));
                }
                Event::Text(text) => self.keep(&text.xml10_content()),
                Event::CData(data) => self.keep(&data.xml10_content()),
                Event::GeneralRef(reference) => {
                    if let Some(c) = reference
                        .resolve_char_ref()
                        .map_err(|e| self.error(format!("bad character reference: {e}")))?
                    {
                        self.keep(c.encode_utf8(&mut [0; 4]));
                    } else {
                        let name: &str = &reference;
                        match quick_xml::escape::resolve_xml_entity(name) {
                            Some(text) => self.keep(text),
                            None => {
                                return Err(self.error(format!(
                                    "undefined entity &{name}; (only XML's own entities are read)"
                                )))
                            }
                        }
                    }
                }
                Event::DocType(doctype) => {
                    let declaration: &str = &doctype;
                    if declaration.contains("<!ENTITY") || declaration.contains("SYSTEM") {
                        return Err(self.error(
                            "the document type declares entities or an external DTD, \
                             which no export has; refused (entity expansion and external \
                             entities are never processed)",
                        ));
                    }
                }
                Event::Eof => {
                    if let Some(open) = self.path.last() {
                        return Err(
                            self.error(format!("the file ends inside <{open}> (truncated?)"))
                        );
                    }
                    return Ok(Some(Node::Eof));
                }
                Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        Ok(None)
    }

    fn keep(&mut self, text: &str) {
        let room = MAX_TEXT_BYTES.saturating_sub(self.text.len());
        if text.len() <= room {
            self.text.push_str(text);
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&text[..end]);
            self.cut = true;
        }
    }
}

/// The 1-based line and column of a byte offset, read again from the file
/// (only when reporting an error).
fn line_and_column(file: &Path, offset: u64) -> Position {
    let mut line = 1;
    let mut line_start = Vec::new();
    if let Ok(handle) = File::open(file) {
        let mut reader = BufReader::new(handle.take(offset));
        let mut chunk = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut chunk) {
            if n == 0 {
                break;
            }
            if chunk.ends_with(b"\n") {
                line += 1;
                chunk.clear();
            } else {
                line_start = std::mem::take(&mut chunk);
            }
        }
    }
    let column = String::from_utf8_lossy(&line_start).chars().count() as u64 + 1;
    Position::Line { line, column }
}
