//! Tests of [`simplenn::gzip`], our own DEFLATE (RFC 1951) and gzip (RFC 1952) decoder.
//!
//! The decoder is checked against truth that does not come from it:
//!
//! 1. **Files made by other programs.** `tests/fixtures/gzip/` holds files compressed by
//!    the system's `gzip` 1.12 and by Python's `zlib` module (zlib 1.2.13), next to the
//!    originals. They cover stored, fixed and dynamic blocks, a flush point, codes longer
//!    than the decoder's 10-bit fast table, every optional header field, and several
//!    members. The tests also check that each fixture is what its name says (block type,
//!    header flags), so that a fixture cannot quietly stop testing its case.
//! 2. **The RFCs.** Hand-made streams, written bit by bit from RFC 1951's tables, test the
//!    rare and malformed cases and each error's offset and message. zlib agrees with every
//!    verdict on them (accepted or rejected, and the output and length if accepted), as
//!    it did on 40,000 randomly damaged copies of the raw fixtures. Both were checked once
//!    with Python while writing these tests.
//! 3. **Real data.** With `SIMPLENN_DATA_DIR` set, the MNIST files, against sizes, headers
//!    and CRC-32s computed with Python.
//! 4. **Hostile input.** Every truncation, thousands of random byte flips and random
//!    buffers must give an error, never a panic, and never a wrong result.
//!
//! The fixtures were made with this script (Python 3.11, run in `tests/fixtures/gzip/`
//! with `gzip` 1.12 on the path). Run again, it gives the same bytes, except for the
//! MTIME of `text.txt.9.gz`. `gzip -t` accepts `allfields.gz` and checks its header CRC.
//!
//! ```text
//! import random, zlib, struct, subprocess
//! rng = random.Random(1952)
//! words = "the quick brown fox jumps over lazy dog inflate deflate huffman window".split()
//! text = "".join(f"line {i:3}: {' '.join(rng.choice(words) for _ in range(rng.randint(2, 6)))}"
//!                f" ({i * 37 % 101})\n" for i in range(36)).encode()
//! binary = (bytes(300) + b"\xff" * 200 + bytes(rng.randrange(256) for _ in range(256))
//!           + b"ABCDEFG" * 40 + bytes(range(256)) + bytes(rng.randrange(256) for _ in range(64)))
//! open("text.txt", "wb").write(text); open("binary.bin", "wb").write(binary)
//! open("empty", "wb").write(b""); open("one.bin", "wb").write(b"Z")
//! sh = lambda cmd: subprocess.run(cmd, shell=True, check=True)
//! sh("gzip -1 -n -c text.txt > text.txt.1.gz")    # -n: no FNAME, no MTIME
//! sh("gzip -9 -c text.txt > text.txt.9.gz")       # with FNAME
//! sh("gzip -1 -n -c binary.bin > binary.bin.1.gz")
//! sh("gzip -9 -n -c binary.bin > binary.bin.9.gz")
//! sh("gzip -9 -n -c empty > empty.gz"); sh("gzip -9 -n -c one.bin > one.bin.gz")
//! sh("cat text.txt.1.gz empty.gz binary.bin.9.gz > multi.gz")
//! def raw(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, split=None):
//!     c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
//!     if split is None: return c.compress(data) + c.flush()
//!     return (c.compress(data[:split]) + c.flush(zlib.Z_SYNC_FLUSH)
//!             + c.compress(data[split:]) + c.flush())
//! open("text.stored.deflate", "wb").write(raw(text[:512], level=0))
//! open("text.fixed.deflate", "wb").write(raw(text, level=9, strategy=zlib.Z_FIXED))
//! open("text.flushed.deflate", "wb").write(raw(text, level=6, split=len(text) // 2))
//! geo = bytearray()            # byte k with probability ~2^-(k+1): codes of 11+ bits
//! for _ in range(3000):
//!     k = 0
//!     while rng.random() < 0.5 and k < 40: k += 1
//!     geo.append(k)
//! open("longcodes.deflate", "wb").write(raw(bytes(geo), 9, zlib.Z_HUFFMAN_ONLY))
//! print(len(geo), hex(zlib.crc32(bytes(geo))))   # 3000 0x13e3d821
//! flags = 0x1f                 # FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT
//! extra = b"AP" + struct.pack("<H", 4) + b"\x01\x02\x03\x04"
//! header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", 1700000000) + b"\x02\x03"
//! header += struct.pack("<H", len(extra)) + extra
//! header += b"text.txt\x00" + b"a comment, with FHCRC set\x00"
//! header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
//! open("allfields.gz", "wb").write(header + raw(text, level=9)
//!                                  + struct.pack("<II", zlib.crc32(text), len(text)))
//! ```

use simplenn::gzip;
use simplenn::{Error, ErrorKind, Location, Rng};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gzip")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The gzip fixtures and what each decompresses to.
fn gzip_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let text = fixture("text.txt");
    let binary = fixture("binary.bin");
    vec![
        ("text.txt.1.gz", text.clone()),
        ("text.txt.9.gz", text.clone()),
        ("binary.bin.1.gz", binary.clone()),
        ("binary.bin.9.gz", binary.clone()),
        ("empty.gz", Vec::new()),
        ("one.bin.gz", b"Z".to_vec()),
        ("allfields.gz", text.clone()),
        ("multi.gz", [text, binary].concat()),
    ]
}

/// Asserts that `result` is a gzip error at `offset` whose message contains `needle`.
#[track_caller]
fn assert_error<T: std::fmt::Debug>(result: simplenn::error::Result<T>, offset: u64, needle: &str) {
    let err: Error = match result {
        Ok(value) => panic!("expected an error containing {needle:?}, got Ok({value:?})"),
        Err(err) => err,
    };
    let shown = err.to_string();
    assert!(
        matches!(err.kind(), ErrorKind::Gzip(_)),
        "not a gzip error: {shown}"
    );
    assert_eq!(
        err.location(),
        Some(Location::Offset(offset)),
        "wrong offset in: {shown}"
    );
    assert!(
        shown.contains(needle),
        "{shown:?} does not contain {needle:?}"
    );
}

// --- Files made by gzip and zlib ---------------------------------------------------------

#[test]
fn gzip_fixtures_decode_to_their_originals() {
    for (name, original) in gzip_fixtures() {
        let packed = fixture(name);
        assert!(gzip::is_gzip(&packed), "{name}");
        let unpacked = gzip::decompress(&packed).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(unpacked == original, "{name} decodes to the wrong bytes");
    }
}

#[test]
fn fixtures_have_the_header_fields_their_names_promise() {
    // FLG is byte 3: FTEXT 1, FHCRC 2, FEXTRA 4, FNAME 8, FCOMMENT 16.
    assert_eq!(
        fixture("text.txt.1.gz")[3],
        0,
        "gzip -n writes no optional fields"
    );
    assert_eq!(
        fixture("text.txt.9.gz")[3],
        8,
        "gzip without -n writes FNAME"
    );
    assert_eq!(fixture("allfields.gz")[3], 0x1f, "every optional field");
    let members = [
        fixture("text.txt.1.gz"),
        fixture("empty.gz"),
        fixture("binary.bin.9.gz"),
    ];
    assert_eq!(fixture("multi.gz"), members.concat(), "three members");
}

#[test]
fn raw_deflate_fixtures_decode_and_report_their_length() {
    let text = fixture("text.txt");
    let stored = fixture("text.stored.deflate");
    let fixed = fixture("text.fixed.deflate");
    let flushed = fixture("text.flushed.deflate");
    let long_codes = fixture("longcodes.deflate");

    // The first block's type, BTYPE, is in bits 1-2 of the first byte (RFC 1951 §3.2.3).
    let btype = |data: &[u8]| (data[0] >> 1) & 3;
    assert_eq!(btype(&stored), 0, "zlib level 0 writes stored blocks");
    assert_eq!(btype(&fixed), 1, "Z_FIXED writes fixed-Huffman blocks");
    assert_eq!(btype(&flushed), 2, "dynamic blocks");
    assert!(
        flushed.windows(4).any(|w| w == [0, 0, 0xff, 0xff]),
        "Z_SYNC_FLUSH ends with an empty stored block"
    );
    assert_eq!(btype(&long_codes), 2);

    for (name, data, original) in [
        ("text.stored.deflate", &stored, &text[..512]),
        ("text.fixed.deflate", &fixed, &text[..]),
        ("text.flushed.deflate", &flushed, &text[..]),
    ] {
        let (out, used) = gzip::inflate(data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out == original, "{name} decodes to the wrong bytes");
        assert_eq!(used, data.len(), "{name}");
        // Bytes after the final block are not part of the stream.
        let followed = [&data[..], b"not deflate"].concat();
        assert_eq!(
            gzip::inflate(&followed).unwrap(),
            (out, data.len()),
            "{name}"
        );
    }

    // 3000 bytes, with CRC-32 0x13e3d821 by Python's zlib.crc32 (see the script above).
    let (out, used) = gzip::inflate(&long_codes).unwrap();
    assert_eq!((out.len(), used), (3000, long_codes.len()));
    assert_eq!(simplenn::crc32::crc32(&out), 0x13e3_d821);
}

// --- Real data ---------------------------------------------------------------------------

#[test]
fn real_mnist_files_decompress_to_the_known_bytes() {
    let Some(dir) = std::env::var_os("SIMPLENN_DATA_DIR") else {
        // Straight to stderr: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED real_mnist_files_decompress_to_the_known_bytes: SIMPLENN_DATA_DIR is not set"
        );
        return;
    };
    let dir = PathBuf::from(dir).join("mnist-10k");
    // Sizes, IDX headers and CRC-32s of the decompressed files, computed once with
    // Python: `d = gzip.open(f).read(); len(d), d[:8].hex(), hex(zlib.crc32(d))`.
    let files: [(&str, usize, [u8; 8], u32); 4] = [
        (
            "train-labels-idx1-ubyte.gz",
            10_008,
            [0, 0, 8, 1, 0, 0, 0x27, 0x10],
            0x1038_00ee,
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            10_008,
            [0, 0, 8, 1, 0, 0, 0x27, 0x10],
            0x4ab9_eff9,
        ),
        (
            "train-images-idx3-ubyte.gz",
            7_840_016,
            [0, 0, 8, 3, 0, 0, 0x27, 0x10],
            0xd467_19af,
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            7_840_016,
            [0, 0, 8, 3, 0, 0, 0x27, 0x10],
            0x9137_3bdf,
        ),
    ];
    for (name, size, header, crc) in files {
        let path = dir.join(name);
        let packed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let data = gzip::decompress(&packed).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.len(), size, "{name}");
        assert_eq!(data[..8], header, "{name}");
        assert_eq!(simplenn::crc32::crc32(&data), crc, "{name}");
    }
}

// --- compress_stored ---------------------------------------------------------------------

#[test]
fn compress_stored_writes_the_bytes_the_rfcs_prescribe() {
    // "123456789" has the standard CRC-32 check value 0xCBF43926.
    let expected = [
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255][..], // header: no flags, no MTIME, OS unknown
        &[1, 9, 0, 0xf6, 0xff],                      // final stored block, LEN 9, NLEN !9
        b"123456789",
        &[0x26, 0x39, 0xf4, 0xcb, 9, 0, 0, 0], // CRC-32 and ISIZE, little-endian
    ]
    .concat();
    assert_eq!(gzip::compress_stored(b"123456789"), expected);
}

#[test]
fn compress_stored_round_trips_in_blocks_of_at_most_65535_bytes() {
    let mut rng = Rng::new(7);
    for size in [0usize, 1, 65_535, 65_536, 200_000] {
        let data: Vec<u8> = (0..size).map(|_| rng.below(256) as u8).collect();
        let packed = gzip::compress_stored(&data);
        assert_eq!(gzip::decompress(&packed).unwrap(), data, "size {size}");

        // Walk the blocks by hand: each is BFINAL/BTYPE, LEN, NLEN, LEN bytes.
        let mut pos = 10;
        let mut blocks = 0;
        loop {
            let len = usize::from(u16::from_le_bytes([packed[pos + 1], packed[pos + 2]]));
            let nlen = u16::from_le_bytes([packed[pos + 3], packed[pos + 4]]);
            assert_eq!(nlen, !(len as u16));
            assert!(
                len == 65_535 || packed[pos] == 1,
                "only the last block may be short"
            );
            blocks += 1;
            pos += 5 + len;
            if packed[pos - 5 - len] == 1 {
                break;
            }
            assert_eq!(packed[pos - 5 - len], 0, "BTYPE 00, not final");
        }
        assert_eq!(blocks, size.div_ceil(65_535).max(1), "size {size}");
        assert_eq!(pos + 8, packed.len(), "size {size}");
    }
}

// --- Hand-made streams -------------------------------------------------------------------

/// Writes a DEFLATE bit stream: values least significant bit first, Huffman codes most
/// significant bit first (RFC 1951 §3.1.1).
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn bit(&mut self, bit: u32) {
        if self.bits.is_multiple_of(8) {
            self.bytes.push(0);
        }
        *self.bytes.last_mut().unwrap() |= ((bit & 1) as u8) << (self.bits % 8);
        self.bits += 1;
    }
    fn value(&mut self, value: u32, n: u32) {
        (0..n).for_each(|i| self.bit(value >> i));
    }
    fn code(&mut self, code: u32, len: u32) {
        (0..len).rev().for_each(|i| self.bit(code >> i));
    }
    /// A stored block (BTYPE 00) holding `data`.
    fn stored(&mut self, is_final: bool, data: &[u8]) {
        self.value(u32::from(is_final), 1);
        self.value(0, 2);
        self.bits = self.bytes.len() * 8; // pad to the byte boundary
        let len = data.len() as u16;
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&(!len).to_le_bytes());
        self.bytes.extend_from_slice(data);
        self.bits = self.bytes.len() * 8;
    }
    /// A literal/length symbol in the fixed code (RFC 1951 §3.2.6).
    fn fixed_symbol(&mut self, symbol: u32) {
        match symbol {
            0..=143 => self.code(0x30 + symbol, 8),
            144..=255 => self.code(0x190 + symbol - 144, 9),
            256..=279 => self.code(symbol - 256, 7),
            _ => self.code(0xc0 + symbol - 280, 8),
        }
    }
    /// A dynamic block header (RFC 1951 §3.2.7) for these code lengths. The code-length
    /// code gives each of the symbols 0-15 a 4-bit code (a complete code; the code for
    /// symbol `s` is `s`) and does not use the run symbols 16-18.
    fn dynamic_header(&mut self, is_final: bool, litlen: &[u8], dist: &[u8]) {
        self.value(u32::from(is_final), 1);
        self.value(2, 2);
        self.value(litlen.len() as u32 - 257, 5);
        self.value(dist.len() as u32 - 1, 5);
        self.value(19 - 4, 4);
        for symbol in [
            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
        ] {
            self.value(if symbol < 16 { 4 } else { 0 }, 3);
        }
        for &len in litlen.iter().chain(dist) {
            self.code(u32::from(len), 4);
        }
    }
    /// The offset of the byte holding the last bit written.
    fn last_byte(&self) -> u64 {
        (self.bits as u64 - 1) / 8
    }
}

/// Code lengths for a tiny literal/length code: 'A' (65), end-of-block (256) and the
/// length symbols 257 (length 3) and 258 (length 4), 2 bits each. Canonical codes, in
/// symbol order: 'A' = 00, 256 = 01, 257 = 10, 258 = 11.
fn tiny_litlen() -> Vec<u8> {
    let mut lengths = vec![0u8; 259];
    for symbol in [65, 256, 257, 258] {
        lengths[symbol] = 2;
    }
    lengths
}

#[test]
fn invalid_block_type_3() {
    // BFINAL = 1, BTYPE = 11.
    assert_error(gzip::inflate(&[0b111]), 0, "invalid block type 3");
    let err = gzip::inflate(&[0b111]).unwrap_err();
    assert_eq!(err.to_string(), "offset 0: gzip: invalid block type 3");
}

#[test]
fn stored_block_length_must_match_its_complement() {
    // A non-final stored block first, so the bad one starts at offset 7.
    let mut w = BitWriter::default();
    w.stored(false, b"ab");
    w.stored(true, b"cd");
    w.bytes[10] ^= 0x01; // NLEN's low byte: header byte 7, LEN 8-9, NLEN 10-11
    assert_error(
        gzip::inflate(&w.bytes),
        8,
        "stored block length 0x0002 does not match its complement 0xfffc",
    );
}

#[test]
fn stored_block_longer_than_the_input_is_truncated_not_allocated() {
    let mut data = vec![0x01, 0xff, 0xff, 0x00, 0x00]; // final, LEN 65535
    data.extend_from_slice(b"only a few bytes");
    assert_error(
        gzip::inflate(&data),
        data.len() as u64,
        "truncated: the stream ends inside a stored block of 65535 bytes",
    );
}

#[test]
fn distance_too_far_back() {
    let mut w = BitWriter::default();
    w.stored(false, &[b'x'; 1200]);
    w.value(1, 1); // final
    w.value(1, 2); // fixed Huffman
    w.fixed_symbol(257); // length 3
    w.code(23, 5); // distance symbol 23: 3073 + 10 extra bits
    w.value(4000 - 3073, 10);
    let at = w.last_byte();
    assert_eq!(at, 1205 + 3); // 1205 bytes of stored block, then 3 + 7 + 5 + 10 bits
    w.fixed_symbol(256);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "distance 4000 too far back (only 1200 bytes written)",
    );
}

#[test]
fn overlapping_copies_repeat_the_pattern() {
    // "ab" then length 10 at distance 2, then length 258 at distance 1.
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(1, 2);
    w.fixed_symbol(u32::from(b'a'));
    w.fixed_symbol(u32::from(b'b'));
    w.fixed_symbol(264); // length 10
    w.code(1, 5); // distance 2
    w.fixed_symbol(285); // length 258
    w.code(0, 5); // distance 1
    w.fixed_symbol(256);
    let (out, used) = gzip::inflate(&w.bytes).unwrap();
    let expected = [b"abababababab".as_slice(), &[b'b'; 258]].concat();
    assert_eq!(out, expected);
    assert_eq!(used, w.bytes.len());
}

#[test]
fn fixed_code_symbols_that_do_not_exist() {
    // Literal/length 286 and 287 and distances 30 and 31 have fixed codes but no meaning.
    for symbol in [286, 287] {
        let mut w = BitWriter::default();
        w.value(1, 1);
        w.value(1, 2);
        w.fixed_symbol(symbol);
        let message = format!("invalid literal/length symbol {symbol}");
        assert_error(gzip::inflate(&w.bytes), w.last_byte(), &message);
    }
    for symbol in [30, 31] {
        let mut w = BitWriter::default();
        w.value(1, 1);
        w.value(1, 2);
        w.fixed_symbol(u32::from(b'a'));
        w.fixed_symbol(257);
        w.code(symbol, 5);
        let message = format!("invalid distance symbol {symbol}");
        assert_error(gzip::inflate(&w.bytes), w.last_byte(), &message);
    }
}

#[test]
fn dynamic_block_decodes() {
    // 'A', then length 4 at distance 1 (one distance code, of one bit: allowed).
    let mut w = BitWriter::default();
    w.dynamic_header(true, &tiny_litlen(), &[1]);
    w.code(0b00, 2); // 'A'
    w.code(0b11, 2); // 258: length 4
    w.code(0, 1); // distance symbol 0: distance 1
    w.code(0b01, 2); // end of block
    assert_eq!(
        gzip::inflate(&w.bytes).unwrap(),
        (b"AAAAA".to_vec(), w.bytes.len())
    );
}

#[test]
fn dynamic_block_with_thirty_empty_distance_codes() {
    // HDIST says 30 distance codes, all of length 0. zlib accepts such a block as long as
    // it has only literals (checked with Python's zlib.decompress(data, -15)), and so do
    // we; a length symbol in it is an error.
    let mut w = BitWriter::default();
    w.dynamic_header(true, &tiny_litlen(), &[0; 30]);
    w.code(0b00, 2); // 'A'
    w.code(0b01, 2); // end of block
    assert_eq!(gzip::inflate(&w.bytes).unwrap().0, b"A");

    let mut w = BitWriter::default();
    w.dynamic_header(true, &tiny_litlen(), &[0; 30]);
    w.code(0b00, 2); // 'A'
    w.code(0b10, 2); // 257: length 3, which needs a distance
    let at = w.last_byte();
    w.code(0b0000, 4);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "a distance symbol is needed, but this block has no distance codes",
    );
}

#[test]
fn single_one_bit_code_is_allowed_as_zlib_allows_it() {
    // A literal/length code with only end-of-block, given one bit: an empty block.
    // zlib accepts it (checked with Python's zlib), the other one-bit string is unused.
    let mut litlen = vec![0u8; 257];
    litlen[256] = 1;
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[0]);
    w.code(0, 1);
    assert_eq!(
        gzip::inflate(&w.bytes).unwrap(),
        (Vec::new(), w.bytes.len())
    );
    // The unused string is an invalid code. The decoder gives up after looking at the
    // longest code's worth of bits, 15, and reports the byte holding the last of them.
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[0]);
    let at = (w.bits as u64 + 15 - 1) / 8;
    w.value(u32::MAX, 20);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "invalid literal/length code: no code matches the next 15 bits",
    );
}

#[test]
fn over_subscribed_and_incomplete_codes_are_rejected() {
    // Three one-bit codes: over-subscribed.
    let mut litlen = tiny_litlen();
    litlen[65] = 1;
    litlen[256] = 1;
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[1]);
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "invalid code lengths: over-subscribed Huffman code (literal/length code)",
    );

    // Three two-bit codes: incomplete.
    let mut litlen = tiny_litlen();
    litlen[258] = 0;
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[1]);
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "invalid code lengths: incomplete Huffman code (literal/length code)",
    );

    // Two distance codes of lengths 1 and 2: incomplete, and not the one-code exception.
    let mut w = BitWriter::default();
    w.dynamic_header(true, &tiny_litlen(), &[1, 2]);
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "incomplete Huffman code (distance code)",
    );

    // A code-length code with 19 one-bit codes.
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(2, 2);
    w.value(0, 5);
    w.value(0, 5);
    w.value(15, 4);
    (0..19).for_each(|_| w.value(1, 3));
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "over-subscribed Huffman code (code-length code)",
    );

    // A code-length code with a single code: incomplete, and never allowed there (zlib).
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(2, 2);
    w.value(0, 5);
    w.value(0, 5);
    w.value(0, 4); // 4 code-length codes: 16, 17, 18, 0
    [0, 0, 0, 1].iter().for_each(|&len| w.value(len, 3));
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "incomplete Huffman code (code-length code)",
    );
}

/// A dynamic header whose code-length code has just two one-bit codes: `0` for symbol
/// `a` and `1` for symbol `b` (RFC 1951's order sends 16, 17, 18, 0, ... so both must
/// be among the first `count` of that order).
fn two_symbol_code_length_header(w: &mut BitWriter, hlit: u32, hdist: u32, a: u32, b: u32) {
    const ORDER: [u32; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    w.value(1, 1);
    w.value(2, 2);
    w.value(hlit - 257, 5);
    w.value(hdist - 1, 5);
    w.value(0, 4); // HCLEN = 0: four code-length codes, for 16, 17, 18 and 0
    for symbol in &ORDER[..4] {
        w.value(u32::from(*symbol == a || *symbol == b), 3);
    }
}

#[test]
fn bad_dynamic_headers() {
    // HLIT = 31 says 288 literal/length codes; only 286 exist.
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(2, 2);
    w.value(31, 5);
    w.value(0, 9);
    assert_error(
        gzip::inflate(&[w.bytes.clone(), vec![0; 20]].concat()),
        2, // detected after HLIT, HDIST and HCLEN: bits 0-16
        "288 literal/length codes; only 286 exist",
    );

    // HDIST = 31 says 32 distance codes; only 30 exist.
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(2, 2);
    w.value(0, 5);
    w.value(31, 5);
    w.value(0, 4);
    assert_error(
        gzip::inflate(&[w.bytes.clone(), vec![0; 20]].concat()),
        2,
        "32 distance codes; only 30 exist",
    );

    // Symbol 16, "repeat the previous length", with nothing before it.
    let mut w = BitWriter::default();
    two_symbol_code_length_header(&mut w, 257, 1, 0, 16); // 0 -> "0", 16 -> "1"
    w.code(1, 1);
    let at = w.last_byte();
    w.value(0, 2);
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "code length 16 (repeat the previous length) comes first",
    );

    // Runs of zeros past the 258 lengths declared: 138 + 138.
    let mut w = BitWriter::default();
    two_symbol_code_length_header(&mut w, 257, 1, 0, 18); // 0 -> "0", 18 -> "1"
    w.code(1, 1);
    w.value(127, 7);
    w.code(1, 1);
    w.value(127, 7);
    let at = w.last_byte();
    assert_error(
        gzip::inflate(&w.bytes),
        at,
        "a run of 138 code lengths at position 138 overflows the 258 declared",
    );

    // A literal/length code without end-of-block: a block that could never end.
    let mut litlen = vec![0u8; 257];
    litlen[b'a' as usize] = 1;
    litlen[b'b' as usize] = 1;
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[0]);
    let at = w.last_byte();
    w.value(0, 16);
    assert_error(gzip::inflate(&w.bytes), at, "no code for end-of-block");

    // The stream ends in the middle of the header.
    let mut w = BitWriter::default();
    w.dynamic_header(true, &tiny_litlen(), &[1]);
    assert_error(
        gzip::inflate(&w.bytes[..20]),
        20,
        "truncated: the stream ends inside a dynamic block header",
    );
}

// --- The gzip container ------------------------------------------------------------------

#[test]
fn gzip_header_errors_name_the_field() {
    let good = fixture("text.txt.1.gz");
    let with = |i: usize, byte: u8| {
        let mut data = good.clone();
        data[i] = byte;
        data
    };
    assert_error(
        gzip::decompress(b"PK\x03\x04 a zip file"),
        0,
        "not gzip data: it starts with 50 4b",
    );
    assert_error(gzip::decompress(b""), 0, "truncated");
    assert_error(
        gzip::decompress(&good[..5]),
        5,
        "truncated: the stream ends inside the 10-byte gzip header",
    );
    assert_error(
        gzip::decompress(&with(2, 7)),
        2,
        "unknown compression method 7",
    );
    assert_error(
        gzip::decompress(&with(3, 0x20)),
        3,
        "reserved flag bits are set (FLG = 0x20)",
    );
    assert_error(gzip::decompress(&with(3, 0x80)), 3, "reserved flag bits");

    // FEXTRA whose length runs past the end of the file.
    let mut lying = good[..10].to_vec();
    lying[3] = 4; // FEXTRA
    lying.extend_from_slice(&[0xff, 0xff, 1, 2, 3]);
    assert_error(
        gzip::decompress(&lying),
        10,
        "truncated: the FEXTRA field says it has 65535 bytes, but only 3 remain",
    );

    // FNAME without its terminating zero.
    let mut unterminated = good[..10].to_vec();
    unterminated[3] = 8; // FNAME
    unterminated.extend_from_slice(b"name.txt");
    assert_error(
        gzip::decompress(&unterminated),
        18,
        "inside the FNAME field",
    );

    // A changed comment no longer matches the header CRC-16, which follows it.
    let all = fixture("allfields.gz");
    let comment = all.windows(9).position(|w| w == b"a comment").unwrap();
    let crc_at = comment + "a comment, with FHCRC set".len() + 1;
    let mut changed = all.clone();
    changed[comment] = b'A';
    assert_error(
        gzip::decompress(&changed),
        crc_at as u64,
        "header CRC-16 mismatch",
    );
}

#[test]
fn optional_fields_are_skipped_exactly() {
    // compress_stored writes no optional fields; add them one at a time (RFC 1952 §2.3.1).
    let plain = gzip::compress_stored(b"hello");
    let with_field = |flag: u8, field: &[u8]| {
        let mut data = plain[..10].to_vec();
        data[3] = flag;
        data.extend_from_slice(field);
        data.extend_from_slice(&plain[10..]);
        data
    };
    for (flag, field) in [
        (4, &b"\x03\x00abc"[..]), // FEXTRA: XLEN = 3, then 3 bytes
        (4, b"\x00\x00"),         // FEXTRA: XLEN = 0
        (8, b"hello.txt\x00"),    // FNAME
        (8, b"\x00"),             // FNAME, empty
        (16, b"a comment\x00"),   // FCOMMENT
    ] {
        let data = with_field(flag, field);
        assert_eq!(gzip::decompress(&data).unwrap(), b"hello", "{field:?}");
    }
    // FHCRC: the low 16 bits of the CRC-32 of the header before it.
    let crc16 = (simplenn::crc32::crc32(&with_field(2, b"")[..10]) as u16).to_le_bytes();
    assert_eq!(gzip::decompress(&with_field(2, &crc16)).unwrap(), b"hello");
}

#[test]
fn unchecked_header_fields_do_not_matter() {
    // MTIME (bytes 4-7), XFL (8), OS (9) and FTEXT are informative only.
    let good = fixture("text.txt.1.gz");
    let text = fixture("text.txt");
    for i in 4..10 {
        let mut data = good.clone();
        data[i] ^= 0x5a;
        assert_eq!(gzip::decompress(&data).unwrap(), text, "byte {i}");
    }
    let mut data = good.clone();
    data[3] |= 1; // FTEXT
    assert_eq!(gzip::decompress(&data).unwrap(), text);
}

#[test]
fn trailer_errors() {
    let good = fixture("text.txt.9.gz");
    let n = good.len();

    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 0x01;
    let stored = u32::from_le_bytes(bad_crc[n - 8..n - 4].try_into().unwrap());
    let actual = stored ^ 0x01;
    let message =
        format!("CRC-32 mismatch: trailer says {stored:#010x}, data gives {actual:#010x}");
    assert_error(gzip::decompress(&bad_crc), n as u64 - 8, &message);

    // An ISIZE of 4 GiB - 1 is a lie, and neither an allocation nor a success.
    let mut huge = good.clone();
    huge[n - 4..].copy_from_slice(&[0xff; 4]);
    assert_error(
        gzip::decompress(&huge),
        n as u64 - 4,
        "ISIZE mismatch: trailer says 4294967295 bytes (mod 2^32), data has 1453",
    );

    assert_error(
        gzip::decompress(&good[..n - 3]),
        n as u64 - 3,
        "truncated: the stream ends inside the 8-byte gzip trailer",
    );
}

#[test]
fn what_may_follow_the_last_member() {
    let good = fixture("one.bin.gz");
    // Zeros are ignored, as gzip ignores them.
    let padded = [&good[..], &[0; 100]].concat();
    assert_eq!(gzip::decompress(&padded).unwrap(), b"Z");
    // Anything else is an error.
    let followed = [&good[..], b"\x00garbage"].concat();
    assert_error(
        gzip::decompress(&followed),
        good.len() as u64,
        "8 bytes of trailing garbage after the last gzip member",
    );
    // Zeros and then another member: gzip stops at the zeros too (with a warning).
    let zeros_between = [&good[..], &[0; 4], &good[..]].concat();
    assert_error(
        gzip::decompress(&zeros_between),
        good.len() as u64,
        "25 bytes of trailing garbage",
    );
    let two = [&good[..], &good[..]].concat();
    assert_eq!(gzip::decompress(&two).unwrap(), b"ZZ");
}

#[test]
fn back_references_do_not_reach_into_the_previous_member() {
    // Member 2: fixed block, length 3 at distance 1, with nothing written in this member.
    let mut w = BitWriter::default();
    w.value(1, 1);
    w.value(1, 2);
    w.fixed_symbol(257);
    w.code(0, 5);
    let at = w.last_byte();
    w.fixed_symbol(256);
    let first = gzip::compress_stored(b"abc");
    assert_eq!(first.len(), 26);
    let second = [&first[..10], &w.bytes, &[0; 8]].concat();
    assert_error(
        gzip::decompress(&[first, second].concat()),
        26 + 10 + at,
        "distance 1 too far back (only 0 bytes written)",
    );
}

// --- Limits ------------------------------------------------------------------------------

#[test]
fn decompress_limited_stops_at_the_limit() {
    let big = gzip::compress_stored(&vec![42; 100_000]);
    let mut cases: Vec<(Vec<u8>, usize)> = gzip_fixtures()
        .into_iter()
        .map(|(name, original)| (fixture(name), original.len()))
        .collect();
    cases.push((big, 100_000));
    for (packed, size) in cases {
        assert_eq!(gzip::decompress_limited(&packed, size).unwrap().len(), size);
        if size > 0 {
            let err = gzip::decompress_limited(&packed, size - 1).unwrap_err();
            let shown = err.to_string();
            let limit = format!("the output would exceed the limit of {} bytes", size - 1);
            assert!(shown.contains(&limit), "{shown}");
        }
    }
}

#[test]
fn the_best_ratio_is_1032_to_1_and_the_limit_stops_it() {
    // Length 258 (symbol 285) with a 1-bit code and distance 1 with a 1-bit code: 258
    // bytes for every 2 bits, DEFLATE's best ratio. Codes: 285 = 0, 'A' = 10, 256 = 11.
    let mut litlen = vec![0u8; 286];
    litlen[65] = 2;
    litlen[256] = 2;
    litlen[285] = 1;
    let mut w = BitWriter::default();
    w.dynamic_header(true, &litlen, &[1]);
    let header = w.bytes.len();
    w.code(0b10, 2); // 'A'
    for _ in 0..4000 {
        w.code(0, 1); // length 258
        w.code(0, 1); // distance 1
    }
    w.code(0b11, 2);
    let (out, _) = gzip::inflate(&w.bytes).unwrap();
    assert!(out.len() == 1 + 258 * 4000 && out.iter().all(|&b| b == b'A'));
    let body = w.bytes.len() - header;
    assert!(out.len() <= gzip::MAX_RATIO * body && out.len() > 1030 * body);

    let packed = [
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255][..],
        &w.bytes,
        &simplenn::crc32::crc32(&out).to_le_bytes(),
        &(out.len() as u32).to_le_bytes(),
    ]
    .concat();
    assert_eq!(gzip::decompress(&packed).unwrap(), out);
    assert!(gzip::decompress_limited(&packed, 1_000_000).is_err());
}

// --- Hostile input -----------------------------------------------------------------------

#[test]
fn every_truncation_is_an_error() {
    for name in [
        "text.txt.9.gz",
        "binary.bin.1.gz",
        "one.bin.gz",
        "empty.gz",
        "allfields.gz",
    ] {
        let data = fixture(name);
        for len in 0..data.len() {
            assert!(
                gzip::decompress(&data[..len]).is_err(),
                "{name} cut to {len} bytes decoded"
            );
        }
    }
    for name in [
        "text.stored.deflate",
        "text.fixed.deflate",
        "text.flushed.deflate",
        "longcodes.deflate",
    ] {
        let data = fixture(name);
        for len in 0..data.len() {
            assert!(
                gzip::inflate(&data[..len]).is_err(),
                "{name} cut to {len} bytes decoded"
            );
        }
    }
}

#[test]
fn truncating_a_multi_member_file_between_members_leaves_the_earlier_members() {
    let data = fixture("multi.gz");
    let text = fixture("text.txt");
    let ends = [
        fixture("text.txt.1.gz").len(),
        fixture("text.txt.1.gz").len() + fixture("empty.gz").len(),
    ];
    for len in 0..data.len() {
        let result = gzip::decompress(&data[..len]);
        if ends.contains(&len) {
            assert_eq!(result.unwrap(), text, "cut at the end of a member, {len}");
        } else {
            assert!(result.is_err(), "multi.gz cut to {len} bytes decoded");
        }
    }
}

#[test]
fn random_byte_flips_give_an_error_or_the_original() {
    let fixtures = gzip_fixtures();
    let mut rng = Rng::new(1951);
    let (mut errors, mut unchanged) = (0, 0);
    for round in 0..6000 {
        let (name, original) = &fixtures[round % fixtures.len()];
        let mut data = fixture(name);
        let flips = 1 + rng.below(3);
        for _ in 0..flips {
            let i = rng.below(data.len() as u64) as usize;
            data[i] ^= 1 + rng.below(255) as u8;
        }
        match gzip::decompress(&data) {
            Err(_) => errors += 1,
            Ok(out) => {
                // Only fields gzip does not check (MTIME, XFL, OS, FTEXT, the file name,
                // padding bits after the last block) may change without an error.
                assert!(
                    out == *original,
                    "round {round}: {name} decoded to other bytes"
                );
                unchanged += 1;
            }
        }
    }
    // Most flips land in checked data; the few that do not are mostly in the small files.
    assert!(errors > 4500, "{errors} errors, {unchanged} unchanged");
}

#[test]
fn random_flips_of_raw_deflate_never_panic() {
    // Raw DEFLATE has no checksum, so a flip may decode to other bytes. It must not panic,
    // and a success must end inside the input.
    let mut rng = Rng::new(1952);
    let names = [
        "text.fixed.deflate",
        "text.flushed.deflate",
        "longcodes.deflate",
        "text.stored.deflate",
    ];
    for round in 0..4000 {
        let mut data = fixture(names[round % names.len()]);
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(data.len() as u64) as usize;
            data[i] ^= 1 + rng.below(255) as u8;
        }
        if let Ok((_, used)) = gzip::inflate(&data) {
            assert!(used <= data.len());
        }
    }
}

#[test]
fn random_garbage_is_rejected() {
    let mut rng = Rng::new(1953);
    let header = &fixture("text.txt.1.gz")[..10];
    for round in 0..3000 {
        let len = rng.below(400) as usize;
        let garbage: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        // Raw: anything but a panic. Behind a gzip header: an error (a random stream would
        // have to end well and match a CRC-32 by chance).
        if let Ok((_, used)) = gzip::inflate(&garbage) {
            assert!(used <= garbage.len());
        }
        let data = if round % 2 == 0 {
            garbage
        } else {
            [header, &garbage].concat()
        };
        assert!(gzip::decompress(&data).is_err(), "round {round}");
    }
}
