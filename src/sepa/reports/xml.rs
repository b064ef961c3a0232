//! The hardened, streaming XML layer under every report reader.
//!
//! Bank files are untrusted input of any size, so this layer — not each parser — owns the
//! safety rules: no DOCTYPE (hence no entity expansion, no external entities), only the five
//! predefined entities and character references, a cap on element depth, on the length of
//! one text value and on the length of any single node (a guard under quick-xml stops it from
//! buffering an endless tag or text), and encodings limited to the ASCII-compatible ones
//! quick-xml can read. Parsers see a flat sequence of "element opened / element closed with
//! its text" steps and the slash-joined path of local names, which is all the ISO 20022
//! messages need.

use std::io::{self, BufRead, Read};
use std::ops::Range;

use quick_xml::encoding::{Decoder, EncodingError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::{Limits, ReportError};

/// Reads at most this much of the underlying buffer per `fill_buf`, so that a reader over a
/// whole in-memory file still hands quick-xml small chunks and the node guard stays tight.
const CHUNK: usize = 64 * 1024;

/// A `BufRead` wrapper that fails once quick-xml has consumed more than `limit` bytes since
/// the last completed event: the only way to bound the buffer quick-xml grows for one node.
struct NodeGuard<R> {
    inner: R,
    since_event: usize,
    limit: usize,
    tripped: bool,
}

impl<R: BufRead> Read for NodeGuard<R> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for NodeGuard<R> {
    #[inline(always)]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_event > self.limit {
            self.tripped = true;
            return Err(io::Error::other("XML node over the size limit"));
        }
        let buf = self.inner.fill_buf()?;
        let n = buf.len().min(CHUNK);
        Ok(&buf[..n])
    }

    #[inline(always)]
    fn consume(&mut self, amount: usize) {
        self.since_event = self.since_event.saturating_add(amount);
        self.inner.consume(amount);
    }
}

/// What the cursor saw: an element opened, an element closed, or the end of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// An element opened; `path()` ends with it and `attr()` reads its attributes.
    Open,
    /// An element closed; `path()` still ends with it and `text()` is its trimmed text.
    Close,
    /// The root element closed and the input ended.
    Eof,
}

/// The streaming cursor: one quick-xml reader, the current element path and the text of the
/// element being read. Memory is bounded by `depth × name length + text limit`.
pub(crate) struct XmlCursor<R> {
    reader: Reader<NodeGuard<R>>,
    buf: Vec<u8>,
    /// Local names from the root, joined by `/`.
    path: Vec<u8>,
    /// Length of `path` before each open element, to pop in O(1).
    marks: Vec<usize>,
    /// Index in `path` where the message body starts (after `Document/<message>/`).
    body_start: usize,
    /// Attributes of the last opened element.
    attrs: Attrs,
    text: String,
    pop_pending: bool,
    seen_root: bool,
    /// Namespace prefix of the root element (empty when it has none).
    root_prefix: Vec<u8>,
    /// The input starts with a UTF-8 byte order mark (taken off before quick-xml).
    utf8_bom: bool,
    /// The reader decodes UTF-8 (set again after the declaration, which may change it).
    utf8: bool,
    /// Bytes before what quick-xml reads (the BOM), added to its positions.
    base: u64,
    limits: Limits,
}

impl<R: BufRead> XmlCursor<R> {
    /// Wraps `input`; refuses UTF-16 up front, since quick-xml reads only ASCII-compatible
    /// encodings and would otherwise misread the file silently.
    pub(crate) fn new(mut input: R, limits: Limits) -> Result<Self, ReportError> {
        let head = input
            .fill_buf()
            .map_err(|source| ReportError::Io { offset: 0, source })?;
        if head.starts_with(&[0xFF, 0xFE])
            || head.starts_with(&[0xFE, 0xFF])
            || head.starts_with(&[0x00, b'<'])
            || head.starts_with(&[b'<', 0x00])
        {
            return Err(ReportError::Encoding {
                offset: 0,
                encoding: "UTF-16".into(),
                reason: "only ASCII-compatible encodings (UTF-8, ISO-8859-x, windows-125x, ...) are read".into(),
            });
        }
        // The BOM is taken off here, so that quick-xml cannot let a declaration override it.
        let utf8_bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
        if utf8_bom {
            input.consume(3);
        }
        let guard = NodeGuard {
            inner: input,
            since_event: 0,
            limit: node_limit(limits),
            tripped: false,
        };
        let mut reader = Reader::from_reader(guard);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = false;
        Ok(Self {
            reader,
            buf: Vec::with_capacity(4096),
            path: Vec::with_capacity(256),
            marks: Vec::with_capacity(limits.max_depth),
            body_start: 0,
            attrs: Attrs::default(),
            text: String::new(),
            pop_pending: false,
            seen_root: false,
            root_prefix: Vec::new(),
            utf8_bom,
            utf8: true,
            base: if utf8_bom { 3 } else { 0 },
            limits,
        })
    }

    /// The byte offset in the input just after the last event, for errors and warnings.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.reader.buffer_position()
    }

    fn error_offset(&self) -> u64 {
        self.base + self.reader.error_position()
    }

    /// Slash-joined local names from the root to the current element.
    pub(crate) fn path(&self) -> &[u8] {
        &self.path
    }

    /// The path below `Document/<message element>/`, which is what parsers match on.
    pub(crate) fn body_path(&self) -> &[u8] {
        self.path.get(self.body_start..).unwrap_or_default()
    }

    /// Marks the current element as the message element: later paths are relative to it.
    pub(crate) fn set_body_here(&mut self) {
        self.body_start = self.path.len() + 1;
    }

    /// The trimmed text directly inside the element that just closed.
    pub(crate) fn text(&self) -> &str {
        let bytes = self.text.as_bytes();
        // Most values have no surrounding space: skip the Unicode-aware trim for them.
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => &self.text,
            _ => self.text.trim(),
        }
    }

    /// The unescaped value of the attribute of the last opened element whose local name is
    /// `local` (prefixes ignored).
    pub(crate) fn attr(&self, local: &[u8]) -> Option<&str> {
        if self.attrs.spans.is_empty() {
            return None;
        }
        self.attrs.find(|name| {
            let name_local = match name.iter().rposition(|&b| b == b':') {
                Some(i) => &name[i + 1..],
                None => name,
            };
            name_local == local
        })
    }

    /// The namespace of the root element, read from the `xmlns` or `xmlns:prefix` attribute
    /// on the root itself (valid only right after the root opened).
    pub(crate) fn root_namespace(&self) -> Option<&str> {
        let mut wanted = b"xmlns".to_vec();
        if !self.root_prefix.is_empty() {
            wanted.push(b':');
            wanted.extend_from_slice(&self.root_prefix);
        }
        self.attrs.find(|name| name == wanted)
    }

    /// Advances to the next element boundary.
    ///
    /// The hot path (tags, plain UTF-8 text, indentation) stays in this function; anything
    /// rare (entities, CDATA, declarations, errors) is handled out of line.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> Result<Step, ReportError> {
        if self.pop_pending {
            self.pop_pending = false;
            if let Some(mark) = self.marks.pop() {
                self.path.truncate(mark);
            }
            self.text.clear();
        }
        loop {
            self.buf.clear();
            self.reader.get_mut().since_event = 0;
            let event_start = self.offset();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(err) => return Err(self.read_error(err)),
            };
            match event {
                Event::Start(start) => {
                    if self.marks.is_empty() && self.seen_root {
                        return Err(ReportError::Syntax {
                            offset: event_start,
                            message: "a second root element follows the first one".into(),
                        });
                    }
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(ReportError::TooDeep {
                            offset: event_start,
                            path: lossy(&self.path),
                            limit: self.limits.max_depth,
                        });
                    }
                    let name = start.name();
                    let name = name.as_ref();
                    // Most elements have no attributes: then there is nothing to read, only
                    // the previous element's to forget.
                    if !self.attrs.is_empty() || !start.attributes_raw().iter().all(u8::is_ascii_whitespace) {
                        self.attrs
                            .read(&start, self.reader.decoder(), event_start, &self.path)?;
                    }
                    if !self.seen_root {
                        self.seen_root = true;
                        // Encoding detection and the declaration are behind us now.
                        self.utf8 = is_utf8(self.reader.decoder());
                        self.root_prefix = start.name().prefix().map(|p| p.as_ref().to_vec()).unwrap_or_default();
                    }
                    self.marks.push(self.path.len());
                    if !self.path.is_empty() {
                        self.path.push(b'/');
                    }
                    self.path.extend_from_slice(local_name(name));
                    self.text.clear();
                    return Ok(Step::Open);
                }
                Event::End(_) => {
                    self.pop_pending = true;
                    return Ok(Step::Close);
                }
                Event::Text(text) => {
                    if self.marks.is_empty() {
                        continue;
                    }
                    let raw: &[u8] = &text;
                    if self.text.is_empty() && is_blank(raw) {
                        continue;
                    }
                    // UTF-8 without a carriage return (nearly every bank file) needs no
                    // decoding and no end-of-line normalization: validate and copy.
                    if self.utf8 && !has_cr(raw) {
                        match std::str::from_utf8(raw) {
                            Ok(piece) if self.text.len() + piece.len() <= self.limits.max_text_bytes => {
                                self.text.push_str(piece);
                                continue;
                            }
                            // Errors are reported by the general path below.
                            _ => {}
                        }
                    }
                    let offset = self.base + self.reader.buffer_position();
                    let decoded = text
                        .xml10_content()
                        .map_err(|_| decode_error(&self.reader, offset, &self.path))?;
                    push_text(&mut self.text, &decoded, self.limits, offset, &self.path)?;
                }
                Event::Empty(_) => {
                    // `expand_empty_elements` turns these into Start + End.
                }
                Event::PI(_) | Event::Comment(_) => {}
                other => {
                    // Owned (a copy) so that the buffer is free again: these events are rare.
                    let other = other.into_owned();
                    if let Some(step) = self.rare_event(other, event_start)? {
                        return Ok(step);
                    }
                }
            }
        }
    }

    /// The error for a failed read: the node guard's, or quick-xml's.
    #[cold]
    #[inline(never)]
    fn read_error(&self, err: quick_xml::Error) -> ReportError {
        if self.reader.get_ref().tripped {
            ReportError::NodeTooLong {
                offset: self.offset(),
                path: lossy(&self.path),
                limit: node_limit(self.limits),
            }
        } else {
            xml_error(err, self.error_offset(), &self.path)
        }
    }

    /// The events that are rare in bank files: CDATA, entity and character references, the
    /// declaration, a DOCTYPE and the end of input. `Some` is a step to return.
    #[cold]
    #[inline(never)]
    fn rare_event(&mut self, event: Event<'_>, event_start: u64) -> Result<Option<Step>, ReportError> {
        // A declaration may have switched the decoder.
        self.utf8 = is_utf8(self.reader.decoder());
        match event {
            Event::CData(data) => {
                let offset = self.base + self.reader.buffer_position();
                let decoded = data
                    .decode()
                    .map_err(|_| decode_error(&self.reader, offset, &self.path))?;
                push_text(&mut self.text, &decoded, self.limits, offset, &self.path)?;
            }
            Event::GeneralRef(reference) => {
                let offset = self.base + self.reader.buffer_position();
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|_| decode_error(&self.reader, offset, &self.path))?;
                        predefined_entity(&name).ok_or_else(|| ReportError::UnknownEntity {
                            name: name.into_owned(),
                            offset,
                            path: lossy(&self.path),
                        })?
                    }
                    Err(err) => return Err(xml_error(err, offset, &self.path)),
                };
                let mut utf8 = [0u8; 4];
                let piece = resolved.encode_utf8(&mut utf8);
                push_text(&mut self.text, piece, self.limits, offset, &self.path)?;
            }
            Event::DocType(_) => {
                return Err(ReportError::Doctype { offset: event_start });
            }
            Event::Decl(decl) => {
                if let Some(Ok(label)) = decl.encoding() {
                    let encoding = String::from_utf8_lossy(&label).into_owned();
                    let declared = decl.encoder();
                    let reason = if !declared.is_some_and(|e| e.is_ascii_compatible()) {
                        "unknown or not ASCII-compatible, quick-xml cannot read it"
                    } else if self.utf8_bom && declared.map(|e| e.name()) != Some("UTF-8") {
                        "declared, but the file starts with a UTF-8 byte order mark: which one is right cannot be known"
                    } else {
                        return Ok(None);
                    };
                    return Err(ReportError::Encoding {
                        offset: event_start,
                        encoding,
                        reason: reason.into(),
                    });
                }
            }
            Event::Eof => {
                if !self.marks.is_empty() || !self.seen_root {
                    return Err(ReportError::Truncated {
                        offset: self.offset(),
                        path: lossy(&self.path),
                    });
                }
                return Ok(Some(Step::Eof));
            }
            Event::Start(_) | Event::End(_) | Event::Empty(_) | Event::Text(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        Ok(None)
    }
}

/// The attributes of the last opened element, in buffers reused from element to element so
/// that reading attributes allocates nothing in the steady state.
#[derive(Default)]
struct Attrs {
    names: Vec<u8>,
    values: String,
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl Attrs {
    fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Replaces the attributes with those of `start`, values unescaped and decoded.
    fn read(&mut self, start: &BytesStart<'_>, decoder: Decoder, offset: u64, path: &[u8]) -> Result<(), ReportError> {
        self.names.clear();
        self.values.clear();
        self.spans.clear();
        if start.attributes_raw().iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        for attr in start.attributes() {
            let attr = attr.map_err(|e| xml_error(e.into(), offset, path))?;
            let name_start = self.names.len();
            self.names.extend_from_slice(attr.key.as_ref());
            let value_start = self.values.len();
            let raw: &[u8] = &attr.value;
            // What `decoded_and_normalized_value` does, without its allocations, when there
            // is nothing to unescape or normalize in a UTF-8 value.
            if is_utf8(decoder) && !raw.iter().any(|b| matches!(b, b'&' | b'\t' | b'\r' | b'\n')) {
                let value = std::str::from_utf8(raw)
                    .map_err(|_| xml_error(EncodingError::Other(decoder.encoding()).into(), offset, path))?;
                self.values.push_str(value);
            } else {
                let value = attr
                    .decoded_and_normalized_value(XmlVersion::Implicit1_0, decoder)
                    .map_err(|e| xml_error(e, offset, path))?;
                self.values.push_str(&value);
            }
            self.spans
                .push((name_start..self.names.len(), value_start..self.values.len()));
        }
        Ok(())
    }

    /// The value of the first attribute whose qualified name satisfies `wanted`.
    fn find(&self, wanted: impl Fn(&[u8]) -> bool) -> Option<&str> {
        self.spans.iter().find_map(|(name, value)| {
            let name = self.names.get(name.clone())?;
            if wanted(name) {
                self.values.get(value.clone())
            } else {
                None
            }
        })
    }
}

/// The longest single node (raw bytes of a tag, text run, comment...): twice the text limit
/// (at least 64 KiB), so an over-long text value is mostly reported as such by [`push_text`].
fn node_limit(limits: Limits) -> usize {
    limits.max_text_bytes.saturating_mul(2).max(64 * 1024)
}

fn push_text(text: &mut String, piece: &str, limits: Limits, offset: u64, path: &[u8]) -> Result<(), ReportError> {
    if text.len() + piece.len() > limits.max_text_bytes {
        return Err(ReportError::TextTooLong {
            offset,
            path: lossy(path),
            limit: limits.max_text_bytes,
        });
    }
    text.push_str(piece);
    Ok(())
}

fn decode_error<R>(reader: &Reader<R>, offset: u64, path: &[u8]) -> ReportError {
    ReportError::Encoding {
        offset,
        encoding: reader.decoder().encoding().name().to_owned(),
        reason: format!("text inside {} is not valid in this encoding", lossy(path)),
    }
}

/// Whether a text is only ASCII whitespace (indentation): the first byte decides for
/// almost every other text; indentation is mostly spaces, compared 8 bytes at a time.
#[inline]
fn is_blank(raw: &[u8]) -> bool {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    let Some((first, rest)) = raw.split_first() else {
        return true;
    };
    if !first.is_ascii_whitespace() {
        return false;
    }
    let mut chunks = rest.chunks_exact(8);
    if chunks.all(|chunk| word(chunk) == SPACES) {
        chunks.remainder().iter().all(u8::is_ascii_whitespace)
    } else {
        rest.iter().all(u8::is_ascii_whitespace)
    }
}

/// Whether a text holds a carriage return (then end-of-line normalization applies), 8 bytes
/// at a time: texts are too short for a vectorized search to pay off.
#[inline]
fn has_cr(raw: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const CRS: u64 = u64::from_ne_bytes([b'\r'; 8]);
    let mut chunks = raw.chunks_exact(8);
    // A byte of `x` is zero exactly where the text has a CR (the classic zero-byte test).
    let found = chunks.any(|chunk| {
        let x = word(chunk) ^ CRS;
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    });
    found || chunks.remainder().iter().fold(false, |cr, &b| cr | (b == b'\r'))
}

/// Eight bytes as one word.
#[inline]
fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    u64::from_ne_bytes(bytes)
}

/// Whether the reader decodes UTF-8 (the encoding changes only with the declaration).
#[inline]
fn is_utf8(decoder: Decoder) -> bool {
    decoder.encoding().name() == "UTF-8"
}

/// The local part of a qualified name (after the first `:`), by a plain scan: names are a
/// few bytes long, shorter than what a vectorized search pays to start.
#[inline]
fn local_name(qualified: &[u8]) -> &[u8] {
    match qualified.iter().position(|&b| b == b':') {
        Some(i) => &qualified[i + 1..],
        None => qualified,
    }
}

fn lossy(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn xml_error(err: quick_xml::Error, offset: u64, path: &[u8]) -> ReportError {
    match err {
        quick_xml::Error::Io(source) => ReportError::Io {
            offset,
            source: io::Error::new(source.kind(), source.to_string()),
        },
        other => ReportError::Syntax {
            offset,
            message: if path.is_empty() {
                other.to_string()
            } else {
                format!("{other} (inside {})", String::from_utf8_lossy(path))
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scans agree with the plain byte-by-byte definitions, on every
    /// length around the word size and every position of the byte that matters.
    #[test]
    fn word_scans_agree_with_byte_scans() {
        for len in 0..40 {
            for at in 0..len.max(1) {
                for byte in [
                    b' ', b'\n', b'\t', b'\r', 0x0C, b'a', b'<', 0x8D, 0x0D, 0xFF, 0x00, 0x0E,
                ] {
                    for fill in [b' ', b'\n', b'x'] {
                        let mut text = vec![fill; len];
                        if let Some(b) = text.get_mut(at) {
                            *b = byte;
                        }
                        assert_eq!(is_blank(&text), text.iter().all(u8::is_ascii_whitespace), "{text:?}");
                        assert_eq!(has_cr(&text), text.contains(&b'\r'), "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn local_names_drop_the_prefix() {
        assert_eq!(local_name(b"Ntry"), b"Ntry");
        assert_eq!(local_name(b"ns2:Ntry"), b"Ntry");
        assert_eq!(local_name(b"a:b:c"), b"b:c");
        assert_eq!(local_name(b""), b"");
    }

    /// Texts take the fast path and the general one (CR, entities, CDATA, other encodings)
    /// and come out the same as the XML rules say.
    #[test]
    fn texts_read_the_same_on_every_path() {
        let read = |xml: &[u8]| -> Vec<String> {
            let mut cursor = XmlCursor::new(xml, Limits::default()).unwrap();
            let mut texts = Vec::new();
            while let Ok(step) = cursor.next() {
                match step {
                    Step::Close => texts.push(cursor.text().to_owned()),
                    Step::Eof => break,
                    Step::Open => {}
                }
            }
            texts
        };
        assert_eq!(
            read(b"<a>\n  <b> x \r\n y </b>\n  <c>M &amp; Co</c><d><![CDATA[<>]]></d><e>caf\xC3\xA9</e>\n</a>"),
            ["x \n y", "M & Co", "<>", "caf\u{e9}", ""]
        );
        assert_eq!(
            read(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a><e>caf\xE9</e></a>"),
            ["caf\u{e9}", ""]
        );
        let bad = XmlCursor::new(&b"<a><e>caf\xE9</e></a>"[..], Limits::default())
            .and_then(|mut c| (0..4).try_for_each(|_| c.next().map(drop)));
        assert!(matches!(bad, Err(ReportError::Encoding { .. })), "{bad:?}");
        let long = format!("<a><b>{}</b></a>", "x".repeat(70_000));
        let too_long = XmlCursor::new(long.as_bytes(), Limits::default())
            .and_then(|mut c| (0..4).try_for_each(|_| c.next().map(drop)));
        assert!(matches!(too_long, Err(ReportError::TextTooLong { .. })), "{too_long:?}");
    }

    /// Attribute values are unescaped and normalized whether or not they need it.
    #[test]
    fn attributes_read_the_same_on_every_path() {
        let mut cursor = XmlCursor::new(
            &b"<a><b Ccy=\"EUR\" x:y='1 &amp; 2' z=\"l1\nl2\"/><c/></a>"[..],
            Limits::default(),
        )
        .unwrap();
        cursor.next().unwrap();
        assert_eq!(cursor.next().unwrap(), Step::Open);
        assert_eq!(cursor.attr(b"Ccy"), Some("EUR"));
        assert_eq!(cursor.attr(b"y"), Some("1 & 2"));
        assert_eq!(cursor.attr(b"z"), Some("l1 l2"));
        assert_eq!(cursor.next().unwrap(), Step::Close);
        assert_eq!(cursor.next().unwrap(), Step::Open);
        assert_eq!(cursor.attr(b"Ccy"), None, "the attributes of <b> are gone at <c>");
    }
}
