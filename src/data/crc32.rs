//! CRC-32, the checksum gzip (RFC 1952) and our model files use to detect corruption.
//!
//! This is the CRC of ISO 3309 / ITU-T V.42 / zlib / PNG: the reflected polynomial
//! `0xEDB88320`, initial value and final XOR `0xFFFFFFFF`. It folds eight bytes per step
//! through eight tables built at compile time ("slicing-by-8"); the book's chapter "How
//! inflate works" explains the checksum and why eight tables beat one.
//!
//! ```
//! // The standard check value: CRC-32 of the ASCII digits "123456789".
//! assert_eq!(simplenn::crc32::crc32(b"123456789"), 0xCBF4_3926);
//! ```

/// The reflected CRC-32 polynomial.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// `TABLES[0][b]` is the CRC register's update for the byte value `b` (Sarwate's table);
/// `TABLES[k][b]` is the update for `b` followed by `k` zero bytes.
const TABLES: [[u32; 256]; 8] = {
    let mut tables = [[0u32; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = tables[k - 1][b];
            tables[k][b] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            b += 1;
        }
        k += 1;
    }
    tables
};

/// A running CRC-32, for data that arrives in pieces.
#[derive(Clone, Copy, Debug)]
pub struct Crc32 {
    register: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// A CRC of no data yet.
    pub fn new() -> Self {
        Crc32 {
            register: 0xFFFF_FFFF,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        let t = &TABLES;
        let mut crc = self.register;
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            // The first four bytes meet the register; the last four only shift through.
            let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            crc = t[7][(lo & 0xFF) as usize]
                ^ t[6][((lo >> 8) & 0xFF) as usize]
                ^ t[5][((lo >> 16) & 0xFF) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][c[4] as usize]
                ^ t[2][c[5] as usize]
                ^ t[1][c[6] as usize]
                ^ t[0][c[7] as usize];
        }
        for &byte in chunks.remainder() {
            crc = t[0][((crc ^ byte as u32) & 0xFF) as usize] ^ (crc >> 8);
        }
        self.register = crc;
    }

    /// The CRC of everything fed so far.
    pub fn finish(&self) -> u32 {
        self.register ^ 0xFFFF_FFFF
    }
}

/// The CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(data);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sarwate's byte-at-a-time loop: the definition the sliced version must agree with.
    fn bytewise(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc = TABLES[0][((crc ^ byte as u32) & 0xFF) as usize] ^ (crc >> 8);
        }
        crc ^ 0xFFFF_FFFF
    }

    #[test]
    fn slicing_by_8_agrees_with_the_bytewise_loop() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(crc32(&data[..len]), bytewise(&data[..len]), "length {len}");
        }
        // Fed in pieces of every size, the running CRC is the same.
        for piece in 1..20 {
            let mut crc = Crc32::new();
            data.chunks(piece).for_each(|c| crc.update(c));
            assert_eq!(crc.finish(), bytewise(&data));
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
