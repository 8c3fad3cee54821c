//! The IDX reader and writer, against the format as the MNIST page defines it: bytes
//! written out by hand, round trips, and every kind of damage a file can suffer (truncation,
//! flipped bytes, headers that lie), none of which may panic.
//!
//! Real MNIST files are gzip-compressed; reading them is the loader's job and is tested
//! with it. Everything here is in memory.

use simplenn::{ErrorKind, Location, Rng, idx};

/// The error's byte offset, after checking that it is an IDX error.
fn offset_of(err: &simplenn::Error) -> u64 {
    assert!(
        matches!(err.kind(), ErrorKind::Idx(_)),
        "not an IDX error: {err}"
    );
    match err.location() {
        Some(Location::Offset(o)) => o,
        other => panic!("expected a byte offset, got {other:?} in {err}"),
    }
}

/// Parses `bytes`, expecting an error at `offset` whose message contains `needle`.
fn assert_error(bytes: &[u8], offset: u64, needle: &str) {
    let err = idx::parse(bytes).expect_err("expected an error");
    let text = err.to_string();
    assert_eq!(offset_of(&err), offset, "offset of: {text}");
    assert!(text.contains(needle), "{text:?} should contain {needle:?}");
}

/// A header for unsigned bytes with the given dimensions, written out by hand.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes
}

#[test]
fn known_bytes_for_a_2x2x2_file() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x00, 0x08, 0x03, // magic: two zeros, unsigned bytes, 3 dimensions
        0x00, 0x00, 0x00, 0x02, // 2
        0x00, 0x00, 0x00, 0x02, // × 2
        0x00, 0x00, 0x00, 0x02, // × 2
        1, 2, 3, 4, 5, 6, 7, 8,  // the data, row-major
    ];
    let file = idx::parse(&bytes).unwrap();
    assert_eq!(file.dims, [2, 2, 2]);
    assert_eq!(file.data, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(idx::to_bytes(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]), bytes);
    assert_eq!(idx::parse_header(&bytes).unwrap(), (vec![2, 2, 2], 16));
}

#[test]
fn dimensions_are_big_endian() {
    // 258 = 0x0102 and 70000 = 0x00011170: a little-endian reader would see other numbers.
    let bytes = [0, 0, 8, 2, 0, 0, 1, 2, 0, 1, 0x11, 0x70];
    assert_eq!(idx::parse_header(&bytes).unwrap(), (vec![258, 70000], 12));
    let written = idx::to_bytes(&[258, 1], &[9; 258]);
    assert_eq!(&written[..12], &[0, 0, 8, 2, 0, 0, 1, 2, 0, 0, 0, 1]);
    let written = idx::to_bytes(&[70000], &[9; 70000]);
    assert_eq!(&written[..8], &[0, 0, 8, 1, 0, 1, 0x11, 0x70]);
}

#[test]
fn mnist_label_and_image_magic_numbers() {
    // The MNIST page: 0x00000801 (2049) for label files, 0x00000803 (2051) for images.
    let labels = idx::to_bytes(&[3], &[5, 0, 4]);
    assert_eq!(u32::from_be_bytes(labels[..4].try_into().unwrap()), 2049);
    let images = idx::to_bytes(&[1, 28, 28], &[0; 784]);
    assert_eq!(u32::from_be_bytes(images[..4].try_into().unwrap()), 2051);
    assert_eq!(images.len(), 16 + 784);
}

#[test]
fn round_trips() {
    let mut rng = Rng::new(1);
    let shapes: &[&[usize]] = &[
        &[1],
        &[10],
        &[256],
        &[5, 28, 28],
        &[2, 3, 4, 5],
        &[3, 1],
        &[0],
        &[0, 28, 28],
        &[5, 0, 28],
        &[7, 28, 0],
        &[1, 1, 1, 1],
    ];
    for dims in shapes {
        let n: usize = dims.iter().product();
        let data: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        let bytes = idx::to_bytes(dims, &data);
        assert_eq!(bytes.len(), 4 + 4 * dims.len() + n, "{dims:?}");
        let file = idx::parse(&bytes).unwrap_or_else(|e| panic!("{dims:?}: {e}"));
        assert_eq!(file.dims, *dims);
        assert_eq!(file.data, data);
    }
}

#[test]
fn largest_dimension_round_trips_in_the_header() {
    // u32::MAX is a legal dimension; with a 0 beside it the file is empty and cheap.
    let dims = [u32::MAX as usize, 0];
    let bytes = idx::to_bytes(&dims, &[]);
    assert_eq!(&bytes[4..8], &[0xFF; 4]);
    assert_eq!(idx::parse(&bytes).unwrap().dims, dims);
}

#[test]
fn parse_header_needs_only_the_header() {
    let bytes = header(&[60000, 28, 28]);
    assert_eq!(
        idx::parse_header(&bytes).unwrap(),
        (vec![60000, 28, 28], 16)
    );
    // ...and ignores whatever follows it.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        idx::parse_header(&longer).unwrap(),
        (vec![60000, 28, 28], 16)
    );
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = idx::to_bytes(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
    for cut in 0..bytes.len() {
        let err = idx::parse(&bytes[..cut]).expect_err(&format!("cut at {cut}"));
        assert_eq!(offset_of(&err), cut as u64, "cut at {cut}: {err}");
        assert!(err.to_string().contains("truncated"), "cut at {cut}: {err}");
    }
    assert!(idx::parse(&bytes).is_ok());
}

#[test]
fn truncated_data_says_how_much_is_missing() {
    let mut bytes = header(&[2, 3]);
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    assert_error(
        &bytes,
        bytes.len() as u64,
        "truncated: header promises 6 bytes of data, file has 4",
    );
}

#[test]
fn trailing_bytes_are_an_error_at_the_first_extra_byte() {
    let mut bytes = idx::to_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    bytes.extend_from_slice(&[7, 8, 9]);
    assert_error(&bytes, 12 + 6, "3 trailing bytes after the data");
    // An empty set followed by junk, too.
    let mut bytes = idx::to_bytes(&[0], &[]);
    bytes.push(0);
    assert_error(&bytes, 8, "1 trailing byte after the data");
}

#[test]
fn lying_header_errors_without_allocating_the_promised_size() {
    // 60000 × 28 × 28 = 47 MB promised, 10 bytes present.
    let mut bytes = header(&[60000, 28, 28]);
    bytes.extend_from_slice(&[0; 10]);
    assert_error(
        &bytes,
        26,
        "truncated: header promises 47040000 bytes of data, file has 10",
    );
    // 2^40 bytes (a terabyte) promised: a reader that allocated before checking would abort
    // here, so this test passing shows that it checks first. (On 32-bit targets the product
    // overflows, which is also an error.)
    let mut bytes = header(&[1 << 16, 1 << 12, 1 << 12]);
    bytes.extend_from_slice(&[0; 10]);
    assert!(idx::parse(&bytes).is_err());
}

#[test]
fn dimensions_whose_product_overflows_are_an_error() {
    // (2^32 - 1)^3 > 2^64 > usize::MAX. The third dimension is where it overflows on 64-bit
    // targets (the first two multiply to less than 2^64).
    let bytes = header(&[u32::MAX, u32::MAX, u32::MAX]);
    let err = idx::parse(&bytes).unwrap_err();
    let expected_offset = if usize::BITS == 64 { 12 } else { 8 };
    assert_eq!(offset_of(&err), expected_offset, "{err}");
    assert!(err.to_string().contains("overflows"), "{err}");
    assert!(idx::parse_header(&bytes).is_err());
    // A zero dimension does not excuse the others: `dims.iter().product()` must not
    // overflow part way, whatever the order.
    assert!(idx::parse(&header(&[u32::MAX, u32::MAX, u32::MAX, 0])).is_err());
    assert!(idx::parse(&header(&[0, u32::MAX, u32::MAX, u32::MAX])).is_err());
}

#[test]
fn wrong_magic() {
    let good = idx::to_bytes(&[2], &[1, 2]);
    let mut bad = good.clone();
    bad[0] = 0x12;
    assert_error(&bad, 0, "bad magic 0x12000801: not an IDX file");
    let mut bad = good.clone();
    bad[1] = 0x01;
    assert_error(&bad, 1, "bad magic 0x00010801");
    // Text, and a file someone forgot to gunzip.
    assert_error(b"label,pixel0\n", 0, "not an IDX file");
    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3];
    assert_error(&gzip, 0, "gzip-compressed");
}

#[test]
fn unsupported_and_invalid_types() {
    let names = [
        (0x09, "i8"),
        (0x0B, "i16"),
        (0x0C, "i32"),
        (0x0D, "f32"),
        (0x0E, "f64"),
    ];
    for (type_byte, name) in names {
        let mut bytes = idx::to_bytes(&[2], &[1, 2]);
        bytes[2] = type_byte;
        let needle = format!(
            "IDX type 0x{type_byte:02X} ({name}) is not supported: only unsigned bytes (0x08)"
        );
        assert_error(&bytes, 2, &needle);
    }
    for type_byte in [0x00, 0x07, 0x0A, 0x0F, 0xFF] {
        let mut bytes = idx::to_bytes(&[2], &[1, 2]);
        bytes[2] = type_byte;
        assert_error(
            &bytes,
            2,
            &format!("invalid IDX type byte 0x{type_byte:02X}"),
        );
    }
}

#[test]
fn number_of_dimensions_must_be_1_to_4() {
    assert_error(&[0, 0, 8, 0], 3, "0 dimensions");
    let mut five = header(&[1, 1, 1, 1, 1]);
    five.push(7);
    assert_error(&five, 3, "5 dimensions");
    assert_error(&[0, 0, 8, 255], 3, "255 dimensions");
}

#[test]
fn random_byte_flips_never_panic_and_never_lie() {
    let data: Vec<u8> = (0..60).collect();
    let good = idx::to_bytes(&[3, 4, 5], &data);
    let header_len = 16;
    let mut rng = Rng::new(2024);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..6000 {
        let mut bytes = good.clone();
        let mut header_touched = false;
        for _ in 0..1 + rng.below(3) {
            // Half the flips land in the header, where they do the most damage.
            let at = if rng.below(2) == 0 {
                rng.below(header_len as u64) as usize
            } else {
                rng.below(bytes.len() as u64) as usize
            };
            let mask = 1 + rng.below(255) as u8; // never 0: always a real change
            bytes[at] ^= mask;
            header_touched |= at < header_len;
        }
        match idx::parse(&bytes) {
            Ok(file) => {
                ok += 1;
                assert_eq!(file.dims.iter().product::<usize>(), file.data.len());
                assert_eq!(4 + 4 * file.dims.len() + file.data.len(), bytes.len());
                assert_eq!(file.data, bytes[bytes.len() - file.data.len()..]);
                if !header_touched {
                    assert_eq!(file.dims, [3, 4, 5]);
                }
            }
            Err(e) => {
                err += 1;
                assert!(offset_of(&e) <= bytes.len() as u64, "{e}");
            }
        }
    }
    // Both outcomes must actually occur, or the test is not testing what it claims.
    assert!(ok > 500 && err > 500, "ok {ok}, err {err}");
}

#[test]
fn errors_display_their_offset() {
    let err = idx::parse(&[0, 0, 8, 9]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "offset 3: IDX: 9 dimensions: this reader accepts 1 to 4"
    );
    let err = err.in_file("train-images-idx3-ubyte");
    assert!(
        err.to_string()
            .starts_with("train-images-idx3-ubyte: offset 3: IDX: ")
    );
}

#[test]
#[should_panic(expected = "need 8 bytes, data has 7")]
fn to_bytes_panics_on_a_length_mismatch() {
    idx::to_bytes(&[2, 2, 2], &[0; 7]);
}

#[test]
#[should_panic(expected = "0 dimensions")]
fn to_bytes_panics_without_dimensions() {
    idx::to_bytes(&[], &[]);
}

#[test]
#[should_panic(expected = "5 dimensions")]
fn to_bytes_panics_on_too_many_dimensions() {
    idx::to_bytes(&[1, 1, 1, 1, 1], &[0]);
}

#[cfg(target_pointer_width = "64")]
#[test]
#[should_panic(expected = "does not fit in the format's u32")]
fn to_bytes_panics_on_a_dimension_over_u32_max() {
    idx::to_bytes(&[1 << 32, 0], &[]);
}

/// `parse_owned` is `parse` without the copy: the same answer, and the same errors, for
/// every truncation of a small file.
#[test]
fn parse_owned_agrees_with_parse() {
    let file = idx::to_bytes(&[3, 2, 2], &(0..12).collect::<Vec<u8>>());
    for len in 0..=file.len() {
        let borrowed = idx::parse(&file[..len]).map_err(|e| e.to_string());
        let owned = idx::parse_owned(file[..len].to_vec()).map_err(|e| e.to_string());
        assert_eq!(borrowed, owned, "length {len}");
    }
    let mut long = file.clone();
    long.push(0);
    assert_eq!(
        idx::parse(&long).map_err(|e| e.to_string()),
        idx::parse_owned(long).map_err(|e| e.to_string())
    );
}
