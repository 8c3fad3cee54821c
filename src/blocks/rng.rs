//! [`Rng`]: a small, seeded, portable pseudo-random number generator (xorshift64*).
//!
//! Everything random in training draws from it: the initial weights, the shuffles, the
//! augmentation, dropout, the validation split. The same seed must give the same stream on
//! every machine, so every step is integer or correctly rounded floating-point arithmetic.
//! The book's chapter "The random number generator" derives each method.
//!
//! ```
//! use simplenn::Rng;
//!
//! let mut a = Rng::new(42);
//! let mut b = Rng::new(42);
//! assert_eq!(a.next_u64(), b.next_u64()); // same seed, same stream
//!
//! let x = a.uniform(-0.5, 0.5);
//! assert!((-0.5..0.5).contains(&x));
//!
//! let mut order: Vec<usize> = (0..10).collect();
//! a.shuffle(&mut order); // a random permutation, the same one for seed 42 everywhere
//! ```

// ANCHOR: rng
/// The xorshift64* generator of Vigna (2016), seeded through SplitMix64.
///
/// **Why this one.** Marsaglia's xorshift (2003) updates 64 bits of state with three shifts
/// and XORs: a full-period (2⁶⁴ − 1) linear generator that costs a few cycles. Its low bits
/// fail statistical tests, so Vigna's "star" variant multiplies the output by an odd
/// constant, which mixes every state bit into the high bits; xorshift64* passes BigCrush
/// except for tests on its lowest bits, and we only ever use the high bits (floats take the
/// top 53 or 24). It is not cryptographic, and need not be.
///
/// Reference: S. Vigna, "An experimental exploration of Marsaglia's xorshift generators,
/// scrambled", ACM TOMS 42(4), 2016. The shift triple (12, 25, 27) and the multiplier
/// `0x2545F4914F6CDD1D` are the ones given there.
///
/// **Portability.** Every output is computed with integer operations and IEEE-754 `+ − × ÷ √`,
/// which are exactly rounded on every platform. [`normal`](Rng::normal) needs a logarithm,
/// and `f64::ln` may differ in the last bit between C libraries, so it uses its own
/// ([`portable_ln`]), built from those exact operations only. Same seed, same stream,
/// everywhere.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    /// The second normal sample of the last polar-method pair, not yet returned.
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator seeded with `seed`. Every seed, including 0, gives a good stream.
    pub fn new(seed: u64) -> Self {
        // xorshift's state must never be zero, and nearby seeds (1, 2, 3...) should give
        // unrelated streams. SplitMix64 (Steele, Lea & Flood, 2014) scrambles the seed;
        // it is a bijection, so only one seed maps to 0, and we replace that one.
        let state = match splitmix64(seed) {
            0 => 0x9E37_79B9_7F4A_7C15,
            s => s,
        };
        Rng {
            state,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    // ANCHOR_END: rng

    /// The next 32 random bits (the high half of [`next_u64`](Rng::next_u64)).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `[0, 1)`: the top 53 bits of the next output, times 2⁻⁵³. Every value
    /// is a multiple of 2⁻⁵³, and all 2⁵³ of them are equally likely.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, 1)` as `f32`: the top 24 bits times 2⁻²⁴.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform in `[low, high)`.
    ///
    /// # Panics
    /// If `low > high` or either bound is not finite.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        assert!(
            low.is_finite() && high.is_finite() && low <= high,
            "Rng::uniform: bad range [{low}, {high})"
        );
        let u = self.next_f64();
        let width = high - low;
        let x = if width.is_finite() {
            low + width * u
        } else {
            // The width overflows (e.g. −MAX..MAX); interpolate, each term stays finite.
            low * (1.0 - u) + high * u
        };
        // Rounding can land exactly on `high` when the range is wide; keep the promise.
        if x < high { x } else { low }
    }

    /// Uniform integer in `0..n`, without bias: Lemire's multiply-and-reject method
    /// ("Fast random integer generation in an interval", ACM TOMICS, 2019).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        // The high 64 bits of x·n are uniform in 0..n except for a sliver of x values,
        // which the rejection loop removes (it loops with probability < n / 2⁶⁴).
        let mut product = u128::from(self.next_u64()) * u128::from(n);
        if (product as u64) < n {
            // Only now can the draw be in the biased sliver; the division is rarely needed.
            let threshold = n.wrapping_neg() % n; // = 2⁶⁴ mod n
            while (product as u64) < threshold {
                product = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (product >> 64) as u64
    }

    // ANCHOR: normal
    /// A sample from the standard normal distribution `N(0, 1)`, by Marsaglia's polar
    /// method (1964).
    ///
    /// Pick a point `(u, v)` uniformly in the unit disc (by rejection from the square, which
    /// succeeds with probability π/4); with `s = u² + v²`, the two numbers
    /// `u·√(−2 ln s / s)` and `v·√(−2 ln s / s)` are independent standard normals. It is
    /// Box-Muller without the sine and cosine. The second sample is kept for the next call.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.next_f64() - 1.0;
            let v = 2.0 * self.next_f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let factor = (-2.0 * portable_ln(s) / s).sqrt();
                self.spare_normal = Some(v * factor);
                return u * factor;
            }
        }
    }
    // ANCHOR_END: normal

    // ANCHOR: shuffle
    /// Shuffles `items` in place: every permutation equally likely (Fisher–Yates, in
    /// Durstenfeld's in-place form). Walking from the end, swap each element with a
    /// uniformly chosen one at or before it.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
    // ANCHOR_END: shuffle

    /// A new generator whose stream is independent of this one's, advancing this one by
    /// one step. Useful to give each part of a program (initialisation, shuffling) its own
    /// stream derived from one seed.
    #[must_use = "a dropped fork still advances this generator"]
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// The generator's whole state: the xorshift word and the spare normal sample, if one is
    /// waiting. [`Rng::from_state`] makes a generator that continues the same stream, which is
    /// how a [checkpoint](crate::train::checkpoint) resumes training bit for bit.
    ///
    /// ```
    /// use simplenn::Rng;
    /// let mut a = Rng::new(7);
    /// a.normal(); // leaves a spare normal sample waiting
    /// let (word, spare) = a.state();
    /// let mut b = Rng::from_state(word, spare).unwrap();
    /// assert_eq!(a.normal(), b.normal());
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn state(&self) -> (u64, Option<f64>) {
        (self.state, self.spare_normal)
    }

    /// The generator whose [`state`](Rng::state) this is; `None` for the word 0, which
    /// xorshift can never be in.
    pub fn from_state(word: u64, spare_normal: Option<f64>) -> Option<Rng> {
        (word != 0).then_some(Rng {
            state: word,
            spare_normal,
        })
    }
}

/// SplitMix64's output function (Steele, Lea & Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): a bijective mixer of 64-bit integers.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The natural logarithm of a positive, finite, normal `x`, using only `+ − × ÷` so that it
/// gives the same bits on every platform (libm's `ln` is not required to be correctly
/// rounded, and implementations differ in the last bit). Within a few ulps of the true
/// logarithm: `e·ln 2` plus eleven terms of the series of `2·atanh`, as the book's chapter
/// "The random number generator" derives.
///
/// # Panics
/// In debug builds, if `x` is not positive, finite and normal.
pub fn portable_ln(x: f64) -> f64 {
    debug_assert!(x.is_normal() && x > 0.0, "portable_ln({x})");
    const SQRT_2: f64 = std::f64::consts::SQRT_2;
    // ln 2 split in two (fdlibm's constants): LN2_HI's low 21 bits are zero, so e·LN2_HI is
    // exact for every exponent, and LN2_LO carries the rest.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 6.93147180369123816490e-01
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.90821492927058770002e-10

    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000); // [1, 2)
    if m >= SQRT_2 {
        m *= 0.5; // exact
        e += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    // Horner's rule for t·(1 + t²/3 + t⁴/5 + … + t²⁰/21), smallest terms first.
    let mut series = 1.0 / 21.0;
    for k in (0..10).rev() {
        series = series * t2 + 1.0 / (2 * k + 1) as f64;
    }
    let ln_m = 2.0 * t * series;
    let e = e as f64;
    e * LN2_HI + (ln_m + e * LN2_LO)
}
