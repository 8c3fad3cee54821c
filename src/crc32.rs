//! CRC-32, the checksum gzip (RFC 1952) and our model files use to detect corruption.
//!
//! This is the CRC of ISO 3309 / ITU-T V.42 / zlib / PNG: the reflected polynomial
//! `0xEDB88320`, initial value and final XOR `0xFFFFFFFF`. It is computed a byte at a time
//! from a 256-entry table built at compile time (Sarwate, "Computation of cyclic redundancy
//! checks via table look-up", CACM 1988). Fast enough here: the MNIST files are read once.
//!
//! ```
//! // The standard check value: CRC-32 of the ASCII digits "123456789".
//! assert_eq!(simplenn::crc32::crc32(b"123456789"), 0xCBF4_3926);
//! ```

/// The reflected CRC-32 polynomial.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// `TABLE[b]` is the CRC register's update for the byte value `b`.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
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
        table[b] = crc;
        b += 1;
    }
    table
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
        let mut crc = self.register;
        for &byte in data {
            crc = TABLE[((crc ^ byte as u32) & 0xFF) as usize] ^ (crc >> 8);
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
