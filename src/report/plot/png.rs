//! The smallest PNG writer that serves [`weights_svg`](super::weights_svg): 8-bit indexed
//! colour, each row unfiltered, the pixels in stored (uncompressed) DEFLATE blocks, so no
//! compressor is needed. An image of 28 × 28 values is 937 bytes this way.

use crate::data::crc32::crc32;
use crate::data::gzip::deflate_stored;

// ANCHOR: png
/// An indexed-colour PNG (ISO/IEC 15948): the 8-byte signature, then chunks of
/// `length, type, data, CRC-32`: `IHDR` (size, 8 bits per pixel, colour type 3), `PLTE` (the
/// palette), `IDAT` (the pixels, each row after a filter byte 0, as a zlib stream of stored
/// DEFLATE blocks) and `IEND`.
pub(super) fn png_indexed(
    width: usize,
    height: usize,
    palette: &[[u8; 3]],
    indices: &[u8],
) -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 3, 0, 0, 0]); // depth, colour type, compression, filter, interlace
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"PLTE", palette.as_flattened());
    let mut rows = Vec::with_capacity(height * (width + 1));
    for row in indices.chunks(width.max(1)) {
        rows.push(0); // filter type 0: the row as it is
        rows.extend_from_slice(row);
    }
    // zlib (RFC 1950): CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (so that CMF·256 + FLG
    // is a multiple of 31), the DEFLATE stream, then the Adler-32 of the data, big-endian.
    let mut zlib = vec![0x78, 0x01];
    zlib.extend_from_slice(&deflate_stored(&rows));
    zlib.extend_from_slice(&adler32(&rows).to_be_bytes());
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]); // over the type and the data
    png.extend_from_slice(&crc.to_be_bytes());
}

/// Adler-32 (RFC 1950 §8.2): two sums modulo 65521, of the bytes and of the running sums.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}
// ANCHOR_END: png

#[cfg(test)]
mod tests {
    use super::adler32;

    #[test]
    fn adler32_matches_known_values() {
        // RFC 1950 §8.2 starts the sums at 1 and 0, so nothing checksums to 1.
        assert_eq!(adler32(b""), 0x0000_0001);
        assert_eq!(adler32(b"a"), 0x0062_0062);
        // The worked example of the Wikipedia article "Adler-32".
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Long enough for both sums to wrap modulo 65521, against the definition in u64.
        let ones = vec![0xffu8; 6000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &ones {
            a += x as u64;
            b += a;
        }
        let want = ((b % 65521) << 16) | (a % 65521);
        assert_eq!(u64::from(adler32(&ones)), want);
    }
}
