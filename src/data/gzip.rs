//! gzip decompression from scratch: the DEFLATE format (RFC 1951) in the gzip container
//! (RFC 1952).
//!
//! MNIST is distributed as `.gz` files and the crate has no dependencies, so it unpacks
//! them itself. [`inflate`] decodes a raw DEFLATE stream, [`decompress`] reads a `.gz` file
//! around one and checks its CRC-32, and [`compress_stored`] writes the simplest valid
//! `.gz` file, one that is not compressed at all. Every byte is untrusted: a damaged or
//! hostile file gives an [`Error`] naming the byte offset, never a panic, an endless loop
//! or an unbounded allocation ([`MAX_RATIO`], [`decompress_limited`]). The book's chapter
//! "How inflate works" reads the format and this decoder from the bit order up.
//!
//! ```
//! use simplenn::gzip;
//!
//! let packed = gzip::compress_stored(b"hello, hello, hello");
//! assert!(gzip::is_gzip(&packed));
//! assert_eq!(gzip::decompress(&packed)?, b"hello, hello, hello");
//! # Ok::<(), simplenn::Error>(())
//! ```

use crate::data::crc32::crc32;
use crate::error::{Error, Result};

/// The most that one byte of DEFLATE data can expand to. The best case is a stream of
/// length 258 / distance 1 pairs, each coded in 2 bits: a 1-bit length code and a 1-bit
/// distance code (no Huffman code is shorter), with no extra bits. 258 bytes per 2 bits
/// is 1032 bytes per byte. A size field that promises more than 1032 times the input is
/// lying, so it cannot justify an allocation.
pub const MAX_RATIO: usize = 1032;

/// The fast decoding table is indexed by this many bits. Codes of up to 10 bits cover
/// nearly every symbol in practice (all but 0.2% of them in the MNIST and Fashion-MNIST
/// files), and the table, 1024 four-byte entries, fits easily in L1 cache. 9, 11 and 12
/// bits each measured a few percent slower on Fashion-MNIST. Codes of 11 to 15 bits fall
/// back to bit-at-a-time decoding.
const FAST_BITS: u32 = 10;

/// The most a stored block can hold: its length field LEN has 16 bits (RFC 1951 §3.2.4).
const MAX_STORED: usize = u16::MAX as usize;

/// Is `data` a gzip file? True if it starts with the gzip magic bytes `1f 8b` (RFC 1952
/// §2.3.1, ID1 and ID2). The rest of the file is not checked.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// Decompresses a whole `.gz` file.
///
/// A gzip file is one or more *members*, each a header, a DEFLATE stream and a trailer
/// (RFC 1952 §2.2). Like `gzip -d`, this returns the members' contents concatenated and
/// ignores zero bytes after the last member (tape padding). Any other trailing data is an
/// error: `gzip -d` also reports it, as a warning. It checks each member's CRC-32 and
/// length against its trailer, and the header's CRC-16 when there is one.
///
/// # Errors
/// An [`Error`] naming the byte offset in `data` where the problem was detected, if `data`
/// is not gzip, is truncated, or is corrupt.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>> {
    decompress_limited(data, usize::MAX)
}

/// Like [`decompress`], but refuses to produce more than `max_output` bytes in total. The
/// error comes as soon as the output would exceed the limit, before the memory for it is
/// allocated. A file can expand [`MAX_RATIO`] = 1032 times, so a small hostile file could
/// otherwise ask for gigabytes. With a limit, it costs at most `max_output` bytes.
///
/// # Errors
/// As for [`decompress`], and if the output would exceed `max_output` bytes.
pub fn decompress_limited(data: &[u8], max_output: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(size_hint(data, max_output));
    let mut pos = 0;
    loop {
        pos = read_header(data, pos)?;
        let member_start = out.len();
        pos = inflate_into(data, pos, &mut out, max_output)?;
        pos = check_trailer(data, pos, out.get(member_start..).unwrap_or_default())?;

        let rest = data.get(pos..).unwrap_or_default();
        if rest.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        if !is_gzip(rest) {
            return Err(Error::gzip(
                pos as u64,
                format!(
                    "{} bytes of trailing garbage after the last gzip member \
                     (they start with {:#04x}, not 1f 8b)",
                    rest.len(),
                    rest.first().copied().unwrap_or_default()
                ),
            ));
        }
    }
}

/// Decodes a raw DEFLATE stream (RFC 1951, with no gzip or zlib wrapper) from the start
/// of `data`. Returns the output and the number of bytes of `data` the stream occupies:
/// the stream ends with its final block, and anything after that is left alone.
///
/// # Errors
/// An [`Error`] naming the byte offset in `data` where the problem was detected, if the
/// stream is truncated or invalid.
pub fn inflate(data: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let end = inflate_into(data, 0, &mut out, usize::MAX)?;
    Ok((out, end))
}

/// A valid gzip file holding `data` in stored (uncompressed) blocks.
///
/// A stored block holds at most 65535 bytes, so the output is `data` plus 5 bytes for each
/// block, a 10-byte header and an 8-byte trailer. Any gzip reader accepts it. Use it to
/// write files that other tools can read, and to test a decoder: every byte of the output
/// is fixed by RFC 1951 and RFC 1952, so it is easy to check.
pub fn compress_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + stored_len(data.len()) + 8);
    // ID1 ID2, CM = 8, FLG = 0 (no optional fields), MTIME = 0 ("not available"),
    // XFL = 0, OS = 255 ("unknown").
    out.extend_from_slice(&[0x1f, 0x8b, CM_DEFLATE, 0, 0, 0, 0, 0, 0, 255]);
    push_stored_blocks(data, &mut out);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952 §2.3.1): truncating is the definition.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A raw DEFLATE stream (RFC 1951) holding `data` in stored blocks: what
/// [`compress_stored`] wraps in gzip, and what a zlib stream (a PNG's pixels) wraps in two
/// header bytes and a checksum. [`inflate`] reads it back.
pub fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored_len(data.len()));
    push_stored_blocks(data, &mut out);
    out
}

/// The length of `len` bytes in stored blocks: 5 bytes of header per block, at least one.
fn stored_len(len: usize) -> usize {
    5 * len.div_ceil(MAX_STORED).max(1) + len
}

fn push_stored_blocks(data: &[u8], out: &mut Vec<u8>) {
    let mut chunks = data.chunks(MAX_STORED).peekable();
    if data.is_empty() {
        // The stream still needs one block: final, stored, empty.
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        // The first byte holds BFINAL (bit 0) and BTYPE = 00 (bits 1-2). The next 5 bits
        // are padding up to the byte boundary, where LEN and NLEN start.
        let is_final = chunks.peek().is_none();
        out.push(u8::from(is_final));
        let len = chunk.len() as u16; // at most MAX_STORED = u16::MAX
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

// ---------------------------------------------------------------------------------------
// The gzip container (RFC 1952)
// ---------------------------------------------------------------------------------------

/// The first two bytes of every gzip member: ID1 and ID2.
const MAGIC: [u8; 2] = [0x1f, 0x8b];
/// CM = 8 is DEFLATE, the only compression method RFC 1952 defines.
const CM_DEFLATE: u8 = 8;
// The FLG bits (RFC 1952 §2.3.1). Bit 0, FTEXT, only hints that the data is probably
// text, so we ignore it.
const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
/// Bits 5-7 are reserved, and "a compliant decompressor must give an error indication if
/// any reserved bit is non-zero" (RFC 1952 §2.3.1.2), because they may mark fields that we
/// don't know how to skip.
const RESERVED: u8 = 0b1110_0000;

/// How much output to reserve up front: the ISIZE in the file's last four bytes, capped by
/// what the input could produce and by what the caller allows. ISIZE is the length of the
/// last member only, and only modulo 2^32, so it is a hint. For the usual single-member
/// file under 4 GiB it is exact and saves the reallocations.
fn size_hint(data: &[u8], max_output: usize) -> usize {
    let isize = data.last_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b));
    usize::try_from(isize)
        .unwrap_or(usize::MAX)
        .min(data.len().saturating_mul(MAX_RATIO))
        .min(max_output)
}

// ANCHOR: gzip_header
/// Reads the gzip member header that starts at `start` (RFC 1952 §2.3.1) and returns the
/// offset where its DEFLATE data begins.
///
/// ```text
/// +---+---+---+---+---+---+---+---+---+---+
/// |ID1|ID2|CM |FLG|     MTIME     |XFL|OS |  then, if FLG says so:
/// +---+---+---+---+---+---+---+---+---+---+
/// FEXTRA: XLEN (2 bytes) and XLEN bytes; FNAME, FCOMMENT: zero-terminated strings;
/// FHCRC: the low 16 bits of the CRC-32 of the header bytes before it.
/// ```
fn read_header(data: &[u8], start: usize) -> Result<usize> {
    let bytes = data.get(start..).unwrap_or_default();
    if !bytes.iter().zip(MAGIC).all(|(&byte, magic)| byte == magic) {
        return Err(not_gzip(start, bytes));
    }
    let Some(&[_, _, method, flags, ..]) = bytes.first_chunk::<10>() else {
        return Err(truncated(data, "the 10-byte gzip header"));
    };
    if method != CM_DEFLATE {
        let message = format!("unknown compression method {method} (gzip defines only 8, DEFLATE)");
        return Err(Error::gzip(start as u64 + 2, message));
    }
    if flags & RESERVED != 0 {
        let message = format!("reserved flag bits are set (FLG = {flags:#04x})");
        return Err(Error::gzip(start as u64 + 3, message));
    }
    // MTIME, XFL (compression level hint) and OS are informative only.
    let mut pos = start + 10;

    if flags & FEXTRA != 0 {
        let Some(&[lo, hi]) = data.get(pos..pos + 2) else {
            return Err(truncated(data, "the FEXTRA length"));
        };
        let xlen = usize::from(u16::from_le_bytes([lo, hi]));
        pos += 2;
        let remaining = data.len() - pos;
        if xlen > remaining {
            let message = format!(
                "truncated: the FEXTRA field says it has {xlen} bytes, but only {remaining} remain"
            );
            return Err(Error::gzip(pos as u64 - 2, message));
        }
        pos += xlen; // its subfields are for other programs; we skip them unread
    }
    if flags & FNAME != 0 {
        pos = skip_zero_terminated(data, pos, "the FNAME field (the original file name)")?;
    }
    if flags & FCOMMENT != 0 {
        pos = skip_zero_terminated(data, pos, "the FCOMMENT field")?;
    }
    if flags & FHCRC != 0 {
        let Some(&[lo, hi]) = data.get(pos..pos + 2) else {
            return Err(truncated(data, "the header CRC-16 (FHCRC)"));
        };
        let stored = u16::from_le_bytes([lo, hi]);
        let header = data.get(start..pos).unwrap_or_default();
        let computed = crc32(header) as u16; // the low 16 bits, by definition
        if stored != computed {
            let message = format!(
                "header CRC-16 mismatch: header says {stored:#06x}, header bytes give {computed:#06x}"
            );
            return Err(Error::gzip(pos as u64, message));
        }
        pos += 2;
    }
    Ok(pos)
}
// ANCHOR_END: gzip_header

/// Skips a zero-terminated string (FNAME or FCOMMENT) that starts at `pos`.
fn skip_zero_terminated(data: &[u8], pos: usize, what: &str) -> Result<usize> {
    let field = data.get(pos..).unwrap_or_default();
    match field.iter().position(|&b| b == 0) {
        Some(len) => Ok(pos + len + 1),
        None => Err(truncated(data, what)),
    }
}

/// Checks the member trailer at `pos` against the member's output: CRC-32, then ISIZE
/// (RFC 1952 §2.3.1). Returns the offset just past the trailer.
fn check_trailer(data: &[u8], pos: usize, output: &[u8]) -> Result<usize> {
    let trailer = data.get(pos..).unwrap_or_default();
    let Some(&[c0, c1, c2, c3, s0, s1, s2, s3]) = trailer.first_chunk::<8>() else {
        return Err(truncated(
            data,
            "the 8-byte gzip trailer (CRC-32 and ISIZE)",
        ));
    };
    let stored_crc = u32::from_le_bytes([c0, c1, c2, c3]);
    let computed_crc = crc32(output);
    if stored_crc != computed_crc {
        let message = format!(
            "CRC-32 mismatch: trailer says {stored_crc:#010x}, data gives {computed_crc:#010x}"
        );
        return Err(Error::gzip(pos as u64, message));
    }
    let stored_size = u32::from_le_bytes([s0, s1, s2, s3]);
    if stored_size != output.len() as u32 {
        let message = format!(
            "ISIZE mismatch: trailer says {stored_size} bytes (mod 2^32), data has {}",
            output.len()
        );
        return Err(Error::gzip(pos as u64 + 4, message));
    }
    Ok(pos + 8)
}

fn not_gzip(offset: usize, bytes: &[u8]) -> Error {
    let start: Vec<String> = bytes.iter().take(2).map(|b| format!("{b:02x}")).collect();
    let message = format!(
        "not gzip data: it starts with {}, not 1f 8b",
        start.join(" ")
    );
    Error::gzip(offset as u64, message)
}

/// The error for input that ends too soon. It is reported at the end of the input, where
/// the problem shows.
fn truncated(data: &[u8], what: &str) -> Error {
    Error::gzip(
        data.len() as u64,
        format!("truncated: the stream ends inside {what}"),
    )
}

// ---------------------------------------------------------------------------------------
// Reading bits (RFC 1951 §3.1.1)
// ---------------------------------------------------------------------------------------

/// Reads the input as a stream of bits. DEFLATE packs bits into bytes starting with the
/// least significant bit (RFC 1951 §3.1.1). So a 64-bit buffer filled from the low end,
/// with the next bit in bit 0, yields them in order with shifts and masks.
struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte of `data` that has not been put in `bits`.
    pos: usize,
    /// Bits loaded but not yet consumed, the next one in bit 0.
    bits: u64,
    /// How many of `bits` are valid (at most 63).
    count: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], start: usize) -> Self {
        BitReader {
            data,
            pos: start,
            bits: 0,
            count: 0,
        }
    }

    /// Tops `bits` up to at least 56 valid bits, or to the end of the input.
    #[inline]
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.pos..).and_then(|d| d.first_chunk::<8>()) {
            // Fast path: OR in eight bytes at once and count the whole bytes that fit.
            // The bits above `count` belong to the next byte, which is ORed in again
            // (with the same value) next time.
            self.bits |= u64::from_le_bytes(*word) << self.count;
            let whole_bytes = (63 - self.count) / 8;
            self.pos += whole_bytes as usize;
            self.count += whole_bytes * 8;
        } else {
            // Near the end of the input: one byte at a time.
            while self.count < 56 {
                let Some(&byte) = self.data.get(self.pos) else {
                    break;
                };
                self.bits |= u64::from(byte) << self.count;
                self.pos += 1;
                self.count += 8;
            }
        }
    }

    /// The next `n` bits (n <= 32) as a number, the first bit read as its least significant
    /// bit (RFC 1951 §3.1.1: "data elements other than Huffman codes").
    #[inline]
    fn bits(&mut self, n: u32, what: &str) -> Result<usize> {
        if self.count < n {
            self.refill();
            if self.count < n {
                return Err(truncated(self.data, what));
            }
        }
        let value = self.bits & ((1 << n) - 1);
        self.consume(n);
        Ok(value as usize)
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.bits >>= n;
        self.count -= n;
    }

    /// Drops the bits up to the next byte boundary and hands back the byte position, so
    /// that a stored block can be read as bytes.
    fn align_to_byte(&mut self) -> usize {
        let pos = self.end();
        self.seek(pos);
        pos
    }

    /// Continues reading at byte `pos`.
    fn seek(&mut self, pos: usize) {
        self.pos = pos;
        self.bits = 0;
        self.count = 0;
    }

    /// The offset just past the last byte that has been (even partly) read. At the end of
    /// the final block, that is where the stream ends.
    fn end(&self) -> usize {
        self.pos - (self.count / 8) as usize
    }

    /// An error found while reading: it is reported at the byte that holds the last bit
    /// read.
    fn error(&self, message: impl Into<String>) -> Error {
        Error::gzip(self.end().saturating_sub(1) as u64, message)
    }
}

// ---------------------------------------------------------------------------------------
// Huffman codes (RFC 1951 §3.2.2)
// ---------------------------------------------------------------------------------------

/// The longest code DEFLATE allows.
const MAX_BITS: usize = 15;
/// The largest alphabet: 288 literal/length symbols in the fixed code (two of them unused).
const MAX_SYMBOLS: usize = 288;

/// One entry of the fast table: the symbol whose code the index starts with, and that
/// code's length. Length 0 means that no code of [`FAST_BITS`] bits or fewer matches.
#[derive(Clone, Copy, Default)]
struct FastEntry {
    symbol: u16,
    length: u8,
}

/// A canonical Huffman code, ready for decoding.
///
/// DEFLATE sends only the code *length* of each symbol. The codes follow from the lengths:
/// shorter codes come first, and codes of the same length are consecutive numbers in
/// symbol order (RFC 1951 §3.2.2). So `counts` and `symbols` describe the code completely,
/// and they are all the bit-at-a-time decoder needs. `fast` is a cache on top of them.
struct Huffman {
    /// Which alphabet this is, for error messages.
    name: &'static str,
    /// `counts[len]`: how many symbols have a code of `len` bits (`counts[0]` is unused).
    counts: [u16; MAX_BITS + 1],
    /// The symbols with a code, in code order: by length, then by symbol.
    symbols: [u16; MAX_SYMBOLS],
    /// `fast[i]`: the symbol whose code is a prefix of the next [`FAST_BITS`] bits `i`.
    fast: [FastEntry; 1 << FAST_BITS],
}

impl Huffman {
    fn new(name: &'static str) -> Self {
        Huffman {
            name,
            counts: [0; MAX_BITS + 1],
            symbols: [0; MAX_SYMBOLS],
            fast: [FastEntry::default(); 1 << FAST_BITS],
        }
    }

    // ANCHOR: build_table
    /// Builds the code for these code lengths (one per symbol, 0 = symbol unused).
    /// Lengths are at most 15 and there are at most 288 of them, as the callers ensure.
    ///
    /// Like zlib, this rejects an *over-subscribed* set of lengths (more codes than there
    /// are bit strings for) and an *incomplete* one (bit strings left over). There is one
    /// exception, from RFC 1951 §3.2.7: "If only one distance code is used, it is encoded
    /// using one bit, not zero bits; in this case there is a single code length of one,
    /// with one unused code." zlib also accepts such a one-symbol code for literals and
    /// lengths, and so do we. A set with no codes at all is accepted too, because a block
    /// of literals needs no distance codes. A block that uses a missing code fails when
    /// it tries.
    fn build(&mut self, lengths: &[u8]) -> std::result::Result<(), String> {
        // How many codes of each length.
        self.counts = [0; MAX_BITS + 1];
        for &len in lengths {
            self.counts[usize::from(len)] += 1;
        }
        self.counts[0] = 0;

        // Kraft's inequality. Start with one empty prefix. Each extra bit doubles the
        // prefixes available, and each code of that length takes one of them.
        let mut left: i32 = 1;
        for &count in &self.counts[1..] {
            left = 2 * left - i32::from(count);
            if left < 0 {
                return Err(format!(
                    "invalid code lengths: over-subscribed Huffman code ({} code)",
                    self.name
                ));
            }
        }
        let used: u16 = self.counts.iter().sum();
        let single_one_bit_code = used == 1 && self.counts[1] == 1;
        if left > 0 && used > 0 && !(single_one_bit_code && self.name != CODE_LENGTH) {
            return Err(format!(
                "invalid code lengths: incomplete Huffman code ({} code)",
                self.name
            ));
        }

        // The symbols in code order: a counting sort by length. `next[len]` is where the
        // next symbol with a `len`-bit code goes.
        let mut next = [0u16; MAX_BITS + 1];
        for len in 1..MAX_BITS {
            next[len + 1] = next[len] + self.counts[len];
        }
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                let slot = &mut next[usize::from(len)];
                self.symbols[usize::from(*slot)] = symbol as u16;
                *slot += 1;
            }
        }

        // The fast table. Walk the codes in order: consecutive numbers within a length,
        // doubling when the length grows, as in RFC 1951 §3.2.2. Codes are sent most
        // significant bit first, but the reader collects bits from the least significant
        // end, so a code's table index is its bits reversed. A code of `len` bits is a
        // prefix of 2^(FAST_BITS - len) indices, those that agree with it in the low `len`
        // bits, and every one of them decodes to its symbol.
        self.fast = [FastEntry::default(); 1 << FAST_BITS];
        let mut code: u32 = 0;
        let mut index = 0;
        for len in 1..=FAST_BITS {
            for _ in 0..self.counts[len as usize] {
                let entry = FastEntry {
                    symbol: self.symbols[index],
                    length: len as u8,
                };
                let reversed = (code.reverse_bits() >> (32 - len)) as usize;
                for slot in self.fast.iter_mut().skip(reversed).step_by(1 << len) {
                    *slot = entry;
                }
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        Ok(())
    }
    // ANCHOR_END: build_table
}

/// The name of the code that codes the code lengths of a dynamic block. It is the one
/// code that must be complete even when it has a single symbol (zlib agrees).
const CODE_LENGTH: &str = "code-length";

impl BitReader<'_> {
    // ANCHOR: decode_symbol
    /// Decodes one symbol of code `h`.
    ///
    /// The fast path looks the next [`FAST_BITS`] bits up in `h.fast`. When the input
    /// ends, the missing bits read as zeros, so the entry must be checked against the bits
    /// that are really there.
    #[inline]
    fn decode(&mut self, h: &Huffman, what: &str) -> Result<u16> {
        if self.count < MAX_BITS as u32 {
            self.refill();
        }
        let entry = h.fast[(self.bits & ((1 << FAST_BITS) - 1)) as usize];
        if entry.length != 0 && u32::from(entry.length) <= self.count {
            self.consume(u32::from(entry.length));
            return Ok(entry.symbol);
        }
        self.decode_slow(h, what)
    }

    /// Decodes one symbol a bit at a time: the canonical-code decoder of Mark Adler's
    /// `puff.c`. After `len` bits, `code` holds them (first bit most significant), and
    /// the `len`-bit codes are the numbers `first .. first + counts[len]`. If `code` is
    /// one of them, it is a code and we are done. Otherwise go on to the next length,
    /// where the first code is `2 * (first + counts[len])`.
    #[cold]
    fn decode_slow(&mut self, h: &Huffman, what: &str) -> Result<u16> {
        if h.counts.iter().all(|&c| c == 0) {
            return Err(self.error(format!(
                "a {} symbol is needed, but this block has no {} codes",
                h.name, h.name
            )));
        }
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_BITS as u32 {
            if len > self.count {
                return Err(truncated(self.data, what));
            }
            code |= ((self.bits >> (len - 1)) & 1) as i32;
            let count = i32::from(h.counts[len as usize]);
            if code < first + count {
                let symbol = h.symbols.get((index + code - first) as usize).copied();
                self.consume(len);
                // Always `Some`: the index is below the number of codes.
                return symbol.ok_or_else(|| self.error("internal error: Huffman table"));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        // The code is incomplete, and these are the bits it leaves unused.
        self.consume(MAX_BITS as u32);
        Err(self.error(format!(
            "invalid {} code: no code matches the next 15 bits",
            h.name
        )))
    }
    // ANCHOR_END: decode_symbol
}

// ---------------------------------------------------------------------------------------
// Blocks (RFC 1951 §3.2.3 - §3.2.7)
// ---------------------------------------------------------------------------------------

/// Where the fixed code lengths come from: RFC 1951 §3.2.6.
const FIXED_LITLEN_LENGTHS: [u8; 288] = {
    let mut lengths = [8u8; 288]; // 0-143 and 280-287
    let mut i = 144;
    while i < 256 {
        lengths[i] = 9;
        i += 1;
    }
    while i < 280 {
        lengths[i] = 7;
        i += 1;
    }
    lengths
};
/// Fixed distance codes are 5 bits. 32 codes fill the code space, though 30 and 31 are
/// never valid.
const FIXED_DIST_LENGTHS: [u8; 32] = [5; 32];

/// The lengths for symbols 257..=285: (base, extra bits) from RFC 1951 §3.2.5. The length
/// is `base` plus a number read from the extra bits.
#[rustfmt::skip]
const LENGTHS: [(u16, u8); 29] = [
    (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), (8, 0), (9, 0), (10, 0), (11, 1), (13, 1),
    (15, 1), (17, 1), (19, 2), (23, 2), (27, 2), (31, 2), (35, 3), (43, 3), (51, 3),
    (59, 3), (67, 4), (83, 4), (99, 4), (115, 4), (131, 5), (163, 5), (195, 5), (227, 5),
    (258, 0),
];
/// The distances for symbols 0..=29: (base, extra bits) from RFC 1951 §3.2.5.
#[rustfmt::skip]
const DISTANCES: [(u16, u8); 30] = [
    (1, 0), (2, 0), (3, 0), (4, 0), (5, 1), (7, 1), (9, 2), (13, 2), (17, 3), (25, 3),
    (33, 4), (49, 4), (65, 5), (97, 5), (129, 6), (193, 6), (257, 7), (385, 7), (513, 8),
    (769, 8), (1025, 9), (1537, 9), (2049, 10), (3073, 10), (4097, 11), (6145, 11),
    (8193, 12), (12289, 12), (16385, 13), (24577, 13),
];
/// The order in which a dynamic block header sends the code-length code's lengths
/// (RFC 1951 §3.2.7): the most often used first, so that trailing zeros can be left off.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Decodes the DEFLATE stream that starts at `data[start]`, appending the output to `out`
/// (which may already hold earlier members' output) but never growing it beyond `limit`
/// bytes. Returns the offset just past the end of the stream.
fn inflate_into(data: &[u8], start: usize, out: &mut Vec<u8>, limit: usize) -> Result<usize> {
    let mut inflater = Inflater {
        input: BitReader::new(data, start),
        window_start: out.len(),
        out,
        limit,
        litlen: Huffman::new("literal/length"),
        dist: Huffman::new("distance"),
    };
    inflater.blocks()
}

/// The state of one DEFLATE stream being decoded.
struct Inflater<'a, 'o> {
    input: BitReader<'a>,
    out: &'o mut Vec<u8>,
    /// Where this stream's output starts in `out`. Back-references cannot reach before it.
    window_start: usize,
    /// The most `out` may hold.
    limit: usize,
    /// The current block's codes.
    litlen: Huffman,
    dist: Huffman,
}

impl Inflater<'_, '_> {
    // ANCHOR: block_loop
    /// Decodes blocks until the one marked final (RFC 1951 §3.2.3).
    fn blocks(&mut self) -> Result<usize> {
        const HEADER: &str = "a block header";
        loop {
            // Three header bits: BFINAL, then BTYPE, which says how the block is coded.
            let is_final = self.input.bits(1, HEADER)? == 1;
            match self.input.bits(2, HEADER)? {
                0 => self.stored_block()?,
                1 => {
                    self.use_codes(&FIXED_LITLEN_LENGTHS, &FIXED_DIST_LENGTHS)?;
                    self.compressed_block()?;
                }
                2 => {
                    self.dynamic_header()?;
                    self.compressed_block()?;
                }
                btype => return Err(self.input.error(format!("invalid block type {btype}"))),
            }
            if is_final {
                return Ok(self.input.end());
            }
        }
    }
    // ANCHOR_END: block_loop

    /// A stored block (RFC 1951 §3.2.4): after the header bits, skip to a byte boundary,
    /// then LEN and NLEN (LEN's ones' complement, a check), then LEN bytes to copy.
    fn stored_block(&mut self) -> Result<()> {
        let data = self.input.data;
        let pos = self.input.align_to_byte();
        let Some(&[l0, l1, n0, n1]) = data.get(pos..pos + 4) else {
            return Err(truncated(data, "a stored block header"));
        };
        let len = u16::from_le_bytes([l0, l1]);
        let nlen = u16::from_le_bytes([n0, n1]);
        if nlen != !len {
            let message =
                format!("stored block length {len:#06x} does not match its complement {nlen:#06x}");
            return Err(Error::gzip(pos as u64, message));
        }
        let body = pos + 4;
        let Some(bytes) = data.get(body..body + usize::from(len)) else {
            let message = format!(
                "a stored block of {len} bytes ({} are there)",
                data.len() - body
            );
            return Err(truncated(data, &message));
        };
        self.reserve(bytes.len())?;
        self.out.extend_from_slice(bytes);
        self.input.seek(body + usize::from(len));
        Ok(())
    }

    /// Reads a dynamic block's description of its codes (RFC 1951 §3.2.7) and builds them.
    fn dynamic_header(&mut self) -> Result<()> {
        const HEADER: &str = "a dynamic block header";
        let input = &mut self.input;
        let hlit = input.bits(5, HEADER)? + 257;
        let hdist = input.bits(5, HEADER)? + 1;
        let hclen = input.bits(4, HEADER)? + 4;
        if hlit > 286 {
            let message = format!("the block declares {hlit} literal/length codes; only 286 exist");
            return Err(input.error(message));
        }
        if hdist > 30 {
            let message = format!("the block declares {hdist} distance codes; only 30 exist");
            return Err(input.error(message));
        }

        // First, the code that codes the code lengths: 3 bits for each of its symbols.
        let mut code_length_lengths = [0u8; 19];
        for &symbol in &CODE_LENGTH_ORDER[..hclen] {
            code_length_lengths[symbol] = input.bits(3, HEADER)? as u8;
        }
        let mut code_lengths = Huffman::new(CODE_LENGTH);
        code_lengths
            .build(&code_length_lengths)
            .map_err(|message| input.error(message))?;

        // Then, with it, the literal/length and distance code lengths, as one sequence
        // (a run may cross from one to the other). Symbols 0-15 are lengths; 16, 17 and
        // 18 are runs, their length in the extra bits that follow.
        let total = hlit + hdist;
        let mut lengths = [0u8; 286 + 30];
        let mut i = 0;
        while i < total {
            let symbol = input.decode(&code_lengths, HEADER)?;
            let (length, run) = match symbol {
                0..=15 => (symbol as u8, 1),
                16 => {
                    let Some(&previous) = i.checked_sub(1).and_then(|p| lengths.get(p)) else {
                        return Err(
                            input.error("code length 16 (repeat the previous length) comes first")
                        );
                    };
                    (previous, 3 + input.bits(2, HEADER)?)
                }
                17 => (0, 3 + input.bits(3, HEADER)?),
                _ => (0, 11 + input.bits(7, HEADER)?), // 18: the code has no other symbols
            };
            if run > total - i {
                let message = format!(
                    "a run of {run} code lengths at position {i} overflows the {total} declared"
                );
                return Err(input.error(message));
            }
            lengths[i..i + run].fill(length);
            i += run;
        }
        let (litlen_lengths, dist_lengths) = lengths[..total].split_at(hlit);
        if litlen_lengths[256] == 0 {
            return Err(input.error("the block has no code for end-of-block (symbol 256)"));
        }
        self.use_codes(litlen_lengths, dist_lengths)
    }

    /// Builds the block's two codes from their code lengths.
    fn use_codes(&mut self, litlen_lengths: &[u8], dist_lengths: &[u8]) -> Result<()> {
        let input = &self.input;
        self.litlen
            .build(litlen_lengths)
            .map_err(|m| input.error(m))?;
        self.dist.build(dist_lengths).map_err(|m| input.error(m))
    }

    // ANCHOR: length_distance
    /// Decodes the symbols of a fixed or dynamic block up to its end-of-block symbol
    /// (RFC 1951 §3.2.5).
    fn compressed_block(&mut self) -> Result<()> {
        const BLOCK: &str = "a compressed block";
        loop {
            let symbol = self.input.decode(&self.litlen, BLOCK)?;
            if symbol < 256 {
                self.reserve(1)?;
                self.out.push(symbol as u8);
                continue;
            }
            if symbol == 256 {
                return Ok(()); // end of block
            }
            // A length symbol, then its extra bits, then a distance symbol and its extra bits.
            let Some(&(base, extra)) = LENGTHS.get(usize::from(symbol - 257)) else {
                return Err(self
                    .input
                    .error(format!("invalid literal/length symbol {symbol}")));
            };
            let length = usize::from(base) + self.input.bits(u32::from(extra), BLOCK)?;
            let symbol = self.input.decode(&self.dist, BLOCK)?;
            let Some(&(base, extra)) = DISTANCES.get(usize::from(symbol)) else {
                return Err(self
                    .input
                    .error(format!("invalid distance symbol {symbol}")));
            };
            let distance = usize::from(base) + self.input.bits(u32::from(extra), BLOCK)?;
            self.copy_match(distance, length)?;
        }
    }

    /// Appends `length` bytes copied from `distance` bytes back.
    ///
    /// When `distance < length` the copy overlaps its own output. The bytes from
    /// `distance` back to the end then repeat with period `distance`, so they can be copied
    /// in chunks: first the `distance` bytes that exist, then twice as many, and so on.
    /// Each chunk is one `memcpy` from bytes already written.
    fn copy_match(&mut self, distance: usize, length: usize) -> Result<()> {
        let written = self.out.len() - self.window_start;
        if distance > written {
            let message =
                format!("distance {distance} too far back (only {written} bytes written)");
            return Err(self.input.error(message));
        }
        self.reserve(length)?;
        let from = self.out.len() - distance;
        let mut remaining = length;
        while remaining > 0 {
            let chunk = remaining.min(self.out.len() - from);
            self.out.extend_from_within(from..from + chunk);
            remaining -= chunk;
        }
        Ok(())
    }
    // ANCHOR_END: length_distance

    /// Makes room for `n` more bytes of output, or fails if that would pass the limit.
    /// Capacity at least doubles each time, as `Vec` does by itself, but it never grows
    /// past the limit, so the limit bounds the memory as well as the output.
    #[inline]
    fn reserve(&mut self, n: usize) -> Result<()> {
        let len = self.out.len();
        let allowed = self.limit.saturating_sub(len);
        if n > allowed {
            let message = format!("the output would exceed the limit of {} bytes", self.limit);
            return Err(self.input.error(message));
        }
        if n > self.out.capacity() - len {
            self.out.reserve_exact(n.max(len.min(allowed)));
        }
        Ok(())
    }
}
