//! Tests of [`simplenn::Rng`] and [`simplenn::rng::portable_ln`].
//!
//! The generator is the crate's promise of reproducibility: the same seed must give the same
//! network on every machine. So we test it three ways.
//!
//! 1. **Pinned outputs, computed independently.** The first outputs of `next_u64`,
//!    `next_f64`, `next_f32` and `normal` for seeds 0, 1 and 42 are pinned to numbers that
//!    were *not* produced by this crate: they come from the short Python script below, which
//!    implements the published algorithms (SplitMix64's output function, Steele, Lea & Flood
//!    2014, to scramble the seed; xorshift64* with shifts 12, 25, 27 and multiplier
//!    `0x2545F4914F6CDD1D`, Vigna 2016; Marsaglia's polar method with Python's `math.log`).
//!    If the Rust code and the papers disagree, these tests fail.
//! 2. **Statistics.** Uniformity of `below` and `shuffle` by chi-square tests, and the
//!    moments of `next_f64` and `normal` over a million samples. Every threshold is chosen
//!    so that a correct generator fails it with probability below 10⁻⁶ (chi-square critical
//!    values at p = 10⁻⁶, or six standard errors, two-sided p ≈ 2·10⁻⁹). The seeds are
//!    fixed, so the tests are deterministic; the thresholds say how unlucky a seed would
//!    have to be to fail, and how biased a generator can be and still pass.
//! 3. **Contracts.** Ranges, panics, `fork`, `Clone`, and `portable_ln` against `f64::ln`.
//!
//! The Python script (run it with `python3`; it needs nothing beyond the standard library):
//!
//! ```text
//! import math
//! M = (1 << 64) - 1
//!
//! def splitmix64(x):
//!     # SplitMix64 output function (Steele, Lea & Flood 2014; Vigna's splitmix64.c)
//!     z = (x + 0x9E3779B97F4A7C15) & M
//!     z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
//!     z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
//!     return z ^ (z >> 31)
//!
//! # The first output of splitmix64.c seeded with 0, a widely published value:
//! assert splitmix64(0) == 0xE220A8397B1DCDAF
//!
//! def stream(seed):
//!     # xorshift64* (Vigna 2016): shift triple (12, 25, 27), multiplier 0x2545F4914F6CDD1D
//!     x = splitmix64(seed) or 0x9E3779B97F4A7C15   # the state must not be 0
//!     while True:
//!         x ^= x >> 12
//!         x ^= (x << 25) & M
//!         x ^= x >> 27
//!         yield (x * 0x2545F4914F6CDD1D) & M
//!
//! def first(seed, n):
//!     g = stream(seed)
//!     return [next(g) for _ in range(n)]
//!
//! def normals(seed, n):
//!     # Marsaglia's polar method: first sample u·f, then v·f
//!     g = stream(seed)
//!     f64 = lambda: (next(g) >> 11) / 2**53
//!     out = []
//!     while len(out) < n:
//!         u, v = 2 * f64() - 1, 2 * f64() - 1
//!         s = u * u + v * v
//!         if 0 < s < 1:
//!             f = math.sqrt(-2 * math.log(s) / s)
//!             out += [u * f, v * f]
//!     return out[:n]
//!
//! for seed in (0, 1, 42):
//!     xs = first(seed, 5)
//!     print(seed, "u64", ["0x%016X" % v for v in xs])
//!     print(seed, "f64 = k / 2^53, k =", [v >> 11 for v in xs], [(v >> 11) / 2**53 for v in xs])
//!     print(seed, "f32 = k / 2^24, k =", [v >> 40 for v in xs])
//! print("normal", 42, normals(42, 6))
//! print("normal", 0, normals(0, 6))
//! ```

use simplenn::Rng;
use simplenn::rng::portable_ln;
use std::collections::HashSet;

// ---------------------------------------------------------------------------------------
// Pinned outputs (all computed by the Python script in the header, not by this crate)
// ---------------------------------------------------------------------------------------

/// `(seed, first five next_u64 outputs)`.
const U64_PINS: [(u64, [u64; 5]); 3] = [
    (
        0,
        [
            0x7BBC_B40D_5506_82D0,
            0xDE7F_E413_D00C_C9FD,
            0xB3C6_3835_3C66_8C91,
            0xE073_AFC0_9491_95FC,
            0x7F2F_9E2E_B349_37F6,
        ],
    ),
    (
        1,
        [
            0x4B46_A55D_F361_1B9B,
            0xD7E1_F141_0E76_3EF4,
            0x5F14_EC66_975F_9B06,
            0x3B2C_74FA_D44D_6CDB,
            0xDBEA_40D6_0760_F050,
        ],
    ),
    (
        42,
        [
            0x31B0_ECE7_C4F6_97A2,
            0x9008_A3B1_CB68_6F03,
            0x7C71_73AB_D97B_E16F,
            0x4567_2C8C_8D6B_8C4F,
            0xCDBD_2CDF_34DA_70EA,
        ],
    ),
];

/// `(seed, k for the first five next_f64 = k / 2⁵³, the same values as decimals)`.
const F64_PINS: [(u64, [u64; 5], [f64; 5]); 3] = [
    (
        0,
        [
            4353612954902736,
            7828507798929817,
            6325245693103313,
            7897199183827506,
            4474959809636646,
        ],
        [
            0.4833481342839381,
            0.8691389606829488,
            0.7022433404894405,
            0.8767652363936291,
            0.4968203414930812,
        ],
    ),
    (
        1,
        [
            2648537414134819,
            7595693285953223,
            3345391044193267,
            2081988070246829,
            7737573011155998,
        ],
        [
            0.29404672187536496,
            0.8432913574055981,
            0.37141301636381596,
            0.23114710925829274,
            0.8590431711703592,
        ],
    ),
    (
        42,
        [
            1748350675754706,
            5067736975240461,
            4378454841307004,
            2441901803416945,
            7238796330834766,
        ],
        [
            0.1941059175341826,
            0.5626318272656207,
            0.4861061377100522,
            0.2711055606027185,
            0.8036678357064859,
        ],
    ),
];

/// `(seed, k for the first five next_f32 = k / 2²⁴)`.
const F32_PINS: [(u64, [u32; 5]); 3] = [
    (0, [8109236, 14581732, 11781688, 14709679, 8335262]),
    (1, [4933285, 14148081, 6231276, 3878004, 14412352]),
    (42, [3256556, 9439395, 8155507, 4548396, 13483308]),
];

/// `(seed, first six normal() samples)`, by the polar method with Python's `math.log`.
const NORMAL_PINS: [(u64, [f64; 6]); 2] = [
    (
        42,
        [
            -1.3444566733052659,
            0.27527756486749333,
            -0.1069866319770234,
            -1.7625513077887291,
            1.3144609399728522,
            0.3550394932474156,
        ],
    ),
    (
        0,
        [
            -0.049563934205395704,
            1.0987344884897818,
            0.3740670871648813,
            0.6968608913484164,
            -0.13557609247973204,
            -2.8364276349709168,
        ],
    ),
];

#[test]
fn next_u64_matches_the_published_algorithms() {
    for (seed, want) in U64_PINS {
        let mut rng = Rng::new(seed);
        let got: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
        assert_eq!(got, want, "seed {seed}");
    }
}

#[test]
fn next_u32_is_the_high_half_of_the_published_stream() {
    for (seed, want) in U64_PINS {
        let mut rng = Rng::new(seed);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(rng.next_u32(), (w >> 32) as u32, "seed {seed}, output {i}");
        }
    }
}

#[test]
fn next_f64_is_the_top_53_bits_times_two_to_the_minus_53() {
    for (seed, ks, decimals) in F64_PINS {
        let mut rng = Rng::new(seed);
        for (i, (&k, &decimal)) in ks.iter().zip(&decimals).enumerate() {
            let x = rng.next_f64();
            // k < 2⁵³ converts exactly and dividing by a power of two is exact.
            let want = k as f64 / 9_007_199_254_740_992.0; // 2⁵³
            assert_eq!(x.to_bits(), want.to_bits(), "seed {seed}, output {i}");
            assert_eq!(x.to_bits(), decimal.to_bits(), "seed {seed}, output {i}");
        }
    }
}

#[test]
fn next_f32_is_the_top_24_bits_times_two_to_the_minus_24() {
    for (seed, ks) in F32_PINS {
        let mut rng = Rng::new(seed);
        for (i, &k) in ks.iter().enumerate() {
            let x = rng.next_f32();
            let want = k as f32 / 16_777_216.0; // 2²⁴; exact
            assert_eq!(x.to_bits(), want.to_bits(), "seed {seed}, output {i}");
        }
    }
}

#[test]
fn normal_matches_the_polar_method() {
    // The oracle used libm's log, `normal` uses `portable_ln`: they may differ in the last
    // bits, so allow a relative error of 1e-14 (a few dozen ulps after the √ and ×). Any
    // mistake in the method itself (order of u and v, rejection, the spare) is far larger.
    for (seed, want) in NORMAL_PINS {
        let mut rng = Rng::new(seed);
        for (i, &w) in want.iter().enumerate() {
            let z = rng.normal();
            assert!(
                (z - w).abs() <= 1e-14 * w.abs(),
                "seed {seed}, sample {i}: got {z:e}, want {w:e}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Seeding and reproducibility
// ---------------------------------------------------------------------------------------

#[test]
fn same_seed_gives_the_same_stream() {
    for seed in [0, 1, 42, u64::MAX, 0x9E37_79B9_7F4A_7C15] {
        let mut a = Rng::new(seed);
        let mut b = Rng::new(seed);
        for i in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64(), "seed {seed}, output {i}");
        }
        for i in 0..1000 {
            assert_eq!(
                a.normal().to_bits(),
                b.normal().to_bits(),
                "seed {seed}, normal {i}"
            );
        }
    }
}

#[test]
fn a_clone_continues_the_same_stream_including_the_spare_normal() {
    let mut a = Rng::new(7);
    a.normal(); // leaves a spare sample behind
    let mut b = a.clone();
    for i in 0..100 {
        assert_eq!(a.normal().to_bits(), b.normal().to_bits(), "normal {i}");
        assert_eq!(a.next_u64(), b.next_u64(), "output {i}");
    }
}

#[test]
fn different_seeds_give_different_streams() {
    // The first output of 10 000 consecutive seeds: a collision among 10⁴ random 64-bit
    // numbers has probability ~3·10⁻¹²; consecutive seeds must not give related streams.
    let firsts: HashSet<u64> = (0..10_000).map(|s| Rng::new(s).next_u64()).collect();
    assert_eq!(firsts.len(), 10_000);

    // Streams of different seeds never share a run of outputs in their first 1000.
    let a: Vec<u64> = {
        let mut r = Rng::new(1);
        (0..1000).map(|_| r.next_u64()).collect()
    };
    let b: HashSet<u64> = {
        let mut r = Rng::new(2);
        (0..1000).map(|_| r.next_u64()).collect()
    };
    assert!(a.iter().all(|x| !b.contains(x)));
}

#[test]
fn nearby_seeds_give_unrelated_first_outputs() {
    // For unrelated 64-bit numbers the Hamming distance is Binomial(64, ½): mean 32,
    // standard deviation 4. Over 4096 pairs of consecutive seeds the mean distance has a
    // standard error of 4/64 = 0.0625; ±0.5 is 8 standard errors. A generator seeded
    // without scrambling (state = seed) fails this by a wide margin.
    let pairs = 4096u64;
    let total: u64 = (0..pairs)
        .map(|s| u64::from((Rng::new(s).next_u64() ^ Rng::new(s + 1).next_u64()).count_ones()))
        .sum();
    let mean = total as f64 / pairs as f64;
    assert!((mean - 32.0).abs() < 0.5, "mean Hamming distance {mean}");
}

#[test]
fn seed_zero_gives_a_lively_stream() {
    // xorshift's all-zero state is a fixed point; seeding must avoid it. Besides the pins
    // above, check that seed 0 gives many distinct outputs with about half their bits set.
    let mut rng = Rng::new(0);
    let xs: Vec<u64> = (0..10_000).map(|_| rng.next_u64()).collect();
    assert!(xs.iter().all(|&x| x != 0));
    assert_eq!(xs.iter().collect::<HashSet<_>>().len(), xs.len());
    // 640 000 bits, each set with probability ½: the mean has standard error 0.000625.
    let ones: u64 = xs.iter().map(|x| u64::from(x.count_ones())).sum();
    let fraction = ones as f64 / (64.0 * xs.len() as f64);
    assert!(
        (fraction - 0.5).abs() < 0.004,
        "fraction of set bits {fraction}"
    );
}

#[test]
fn fork_gives_a_different_reproducible_stream_and_advances_the_parent_by_one() {
    let mut parent = Rng::new(9);
    let mut child = parent.fork();

    // The parent moved on by exactly one output.
    let mut fresh = Rng::new(9);
    fresh.next_u64();
    let parent_next: Vec<u64> = (0..100).map(|_| parent.next_u64()).collect();
    let fresh_next: Vec<u64> = (0..100).map(|_| fresh.next_u64()).collect();
    assert_eq!(parent_next, fresh_next);

    // The child's stream shares nothing with the parent's, nor with a fresh seed-9 stream.
    let child_out: Vec<u64> = (0..100).map(|_| child.next_u64()).collect();
    let mut seed9 = Rng::new(9);
    let seed9_out: HashSet<u64> = (0..200).map(|_| seed9.next_u64()).collect();
    assert!(child_out.iter().all(|x| !seed9_out.contains(x)));

    // Forking is itself reproducible, and two forks in a row give two different streams.
    let mut again = Rng::new(9);
    let mut child_again = again.fork();
    let mut second_child = again.fork();
    let child_again_out: Vec<u64> = (0..100).map(|_| child_again.next_u64()).collect();
    assert_eq!(child_again_out, child_out);
    let second_out: HashSet<u64> = (0..100).map(|_| second_child.next_u64()).collect();
    assert!(child_out.iter().all(|x| !second_out.contains(x)));
}

// ---------------------------------------------------------------------------------------
// Uniform samples
// ---------------------------------------------------------------------------------------

#[test]
fn next_f64_and_next_f32_are_in_the_unit_interval() {
    let mut rng = Rng::new(3);
    for _ in 0..100_000 {
        let x = rng.next_f64();
        assert!((0.0..1.0).contains(&x), "{x}");
        let y = rng.next_f32();
        assert!((0.0..1.0).contains(&y), "{y}");
    }
}

/// Mean and variance of `n` samples drawn by `draw`.
fn mean_and_variance(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..n).map(|_| draw()).collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
    (mean, var)
}

#[test]
fn next_f64_has_the_moments_of_the_uniform_distribution() {
    // U(0, 1): mean ½, variance 1/12. Over n = 10⁶ samples the standard error of the mean
    // is √(1/12/n) = 2.9·10⁻⁴, and that of the variance √((1/80 − 1/144)/n) = 7.5·10⁻⁵.
    // Allow 6 standard errors.
    let n = 1_000_000;
    let mut rng = Rng::new(11);
    let (mean, var) = mean_and_variance(n, || rng.next_f64());
    assert!((mean - 0.5).abs() < 6.0 * 2.9e-4, "mean {mean}");
    assert!((var - 1.0 / 12.0).abs() < 6.0 * 7.5e-5, "variance {var}");
}

#[test]
fn next_f32_has_the_moments_of_the_uniform_distribution() {
    let n = 1_000_000;
    let mut rng = Rng::new(12);
    let (mean, var) = mean_and_variance(n, || f64::from(rng.next_f32()));
    assert!((mean - 0.5).abs() < 6.0 * 2.9e-4, "mean {mean}");
    assert!((var - 1.0 / 12.0).abs() < 6.0 * 7.5e-5, "variance {var}");
}

#[test]
fn uniform_stays_in_its_half_open_range_and_fills_it() {
    let mut rng = Rng::new(5);
    let ranges = [
        (0.0, 1.0),
        (-0.5, 0.5),
        (-3.0, -2.0),
        (1e-3, 2e-3),
        (-1e6, 1e9),
        (100.0, 100.5),
    ];
    for (low, high) in ranges {
        let mut lo_seen = f64::INFINITY;
        let mut hi_seen = f64::NEG_INFINITY;
        for _ in 0..20_000 {
            let x = rng.uniform(low, high);
            assert!(low <= x && x < high, "uniform({low}, {high}) gave {x}");
            lo_seen = lo_seen.min(x);
            hi_seen = hi_seen.max(x);
        }
        // 20 000 samples: the extremes are within 0.1% of the ends except with probability
        // 2·(0.999)^20000 ≈ 4·10⁻⁹.
        let width = high - low;
        assert!(
            lo_seen < low + 1e-3 * width,
            "min {lo_seen} for [{low}, {high})"
        );
        assert!(
            hi_seen > high - 1e-3 * width,
            "max {hi_seen} for [{low}, {high})"
        );
    }
}

#[test]
fn uniform_never_returns_high_even_when_rounding_would_reach_it() {
    // On [1, 1 + 2ε) the exact value 1 + (2ε)·u rounds to 1 + 2ε = high for every u ≥ ¾,
    // so a quarter of the raw results land on `high`; the method must not return them.
    let low = 1.0;
    let high = 1.0 + 2.0 * f64::EPSILON;
    let mut rng = Rng::new(6);
    for _ in 0..10_000 {
        let x = rng.uniform(low, high);
        assert!(low <= x && x < high, "{x:e}");
    }
}

#[test]
fn uniform_on_an_empty_range_returns_low() {
    // `low == high` is allowed (only `low > high` panics); the only sensible value is low.
    let mut rng = Rng::new(6);
    for _ in 0..100 {
        assert_eq!(rng.uniform(2.5, 2.5), 2.5);
    }
}

#[test]
#[should_panic(expected = "Rng::uniform: bad range [2, 1)")]
fn uniform_with_low_above_high_panics() {
    Rng::new(0).uniform(2.0, 1.0);
}

#[test]
#[should_panic(expected = "Rng::uniform: bad range")]
fn uniform_with_a_nan_bound_panics() {
    Rng::new(0).uniform(0.0, f64::NAN);
}

#[test]
#[should_panic(expected = "Rng::uniform: bad range")]
fn uniform_with_an_infinite_bound_panics() {
    Rng::new(0).uniform(f64::NEG_INFINITY, 0.0);
}

/// With finite bounds whose difference overflows, `high - low` is infinite; `uniform` must
/// still sample the range rather than return `inf`, `NaN` or always `low`.
#[test]
fn uniform_on_the_widest_finite_range_samples_it() {
    let mut rng = Rng::new(1);
    let xs: Vec<f64> = (0..1000)
        .map(|_| rng.uniform(-f64::MAX, f64::MAX))
        .collect();
    assert!(xs.iter().all(|x| x.is_finite()));
    // Half the samples should be positive; 1000 samples all negative has probability 2⁻¹⁰⁰⁰.
    assert!(xs.iter().any(|&x| x > 0.0));
}

// ---------------------------------------------------------------------------------------
// Integers in a range
// ---------------------------------------------------------------------------------------

/// Pearson's chi-square statistic of `counts` against equal expected counts.
fn chi_square_uniform(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

// Upper critical values of the chi-square distribution at p = 10⁻⁶, rounded up; computed
// with mpmath: `gammainc(df/2, x/2, inf, regularized=True)` is 9.5e-7, 9.2e-7 and 9.5e-7.
const CHI2_DF5_P1E6: f64 = 36.0;
const CHI2_DF9_P1E6: f64 = 45.0;
const CHI2_DF99_P1E6: f64 = 181.0;

#[test]
fn below_stays_in_range() {
    let mut rng = Rng::new(8);
    for n in [1, 2, 3, 7, 10, 1000, (1 << 32) + 1, u64::MAX / 3, u64::MAX] {
        for _ in 0..2000 {
            let x = rng.below(n);
            assert!(x < n, "below({n}) gave {x}");
        }
    }
}

#[test]
fn below_one_is_always_zero() {
    let mut rng = Rng::new(8);
    assert!((0..1000).all(|_| rng.below(1) == 0));
}

#[test]
#[should_panic(expected = "Rng::below(0)")]
fn below_zero_panics() {
    Rng::new(0).below(0);
}

#[test]
fn below_ten_is_uniform_by_chi_square() {
    let mut rng = Rng::new(2024);
    let mut counts = [0u64; 10];
    for _ in 0..100_000 {
        counts[rng.below(10) as usize] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < CHI2_DF9_P1E6, "chi² = {chi2}, counts {counts:?}");
}

#[test]
fn below_hundred_is_uniform_by_chi_square() {
    let mut rng = Rng::new(77);
    let mut counts = [0u64; 100];
    for _ in 0..200_000 {
        counts[rng.below(100) as usize] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < CHI2_DF99_P1E6, "chi² = {chi2}");
}

#[test]
fn below_has_no_modulo_bias_for_a_large_range() {
    // n = 3·2⁶²: `next_u64() % n` would make 0..2⁶² twice as likely as the rest, so that
    // P(x < 2⁶³) = ¾ instead of the correct ⅔. With 10⁵ draws the standard error of the
    // fraction is √(⅔·⅓/10⁵) = 0.0015; ±0.01 is almost 7 standard errors, and ¾ is 55 away.
    let n = 3u64 << 62;
    let mut rng = Rng::new(31);
    let draws = 100_000;
    let low_half = (0..draws).filter(|_| rng.below(n) < 1u64 << 63).count();
    let fraction = low_half as f64 / draws as f64;
    assert!(
        (fraction - 2.0 / 3.0).abs() < 0.01,
        "P(x < 2⁶³) ≈ {fraction}"
    );
}

#[test]
fn below_rejects_the_biased_sliver() {
    // For n = 3·2⁶², the multiply-shift maps x to ⌊3x/4⌋: writing x = 4q + r, that is
    // 3q + (0, 0, 1, 2) for r = 0, 1, 2, 3, so without rejection the result is ≡ 0 (mod 3)
    // half the time. Lemire's method rejects exactly the x with r = 0 (a quarter of them,
    // since 2⁶⁴ mod n = 2⁶²), which leaves the residues mod 3 uniform. Chi-square with 2
    // degrees of freedom: P(χ² > x) = e^(−x/2), so the p = 10⁻⁶ critical value is 27.7.
    let n = 3u64 << 62;
    let mut rng = Rng::new(32);
    let mut counts = [0u64; 3];
    for _ in 0..30_000 {
        counts[(rng.below(n) % 3) as usize] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < 27.7, "chi² = {chi2}, counts {counts:?}");
}

// ---------------------------------------------------------------------------------------
// Normal samples
// ---------------------------------------------------------------------------------------

#[test]
fn normal_has_the_moments_of_the_standard_normal() {
    // Over n = 10⁶ samples of N(0, 1) the standard errors are: mean 1/√n = 0.001, variance
    // √(2/n) = 0.0014, skewness √(6/n) = 0.0024, excess kurtosis √(24/n) = 0.0049. Allow 6.
    let n = 1_000_000;
    let mut rng = Rng::new(1234);
    let zs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    assert!(zs.iter().all(|z| z.is_finite()));
    let nf = n as f64;
    let mean = zs.iter().sum::<f64>() / nf;
    let central = |p: i32| zs.iter().map(|z| (z - mean).powi(p)).sum::<f64>() / nf;
    let var = central(2);
    let skew = central(3) / var.powf(1.5);
    let kurt = central(4) / (var * var);
    assert!(mean.abs() < 6.0 * 0.001, "mean {mean}");
    assert!((var - 1.0).abs() < 6.0 * 0.0014, "variance {var}");
    assert!(skew.abs() < 6.0 * 0.0024, "skewness {skew}");
    assert!((kurt - 3.0).abs() < 6.0 * 0.0049, "kurtosis {kurt}");

    // P(|Z| < 1) = erf(1/√2) = 0.682689…, standard error √(p(1−p)/n) = 4.7·10⁻⁴.
    let within = zs.iter().filter(|z| z.abs() < 1.0).count() as f64 / nf;
    assert!(
        (within - 0.682_689_492).abs() < 6.0 * 4.7e-4,
        "P(|Z|<1) ≈ {within}"
    );
    // P(|Z| > 3) = 0.0026998…, standard error 5.2·10⁻⁵: checks the tails.
    let tails = zs.iter().filter(|z| z.abs() > 3.0).count() as f64 / nf;
    assert!(
        (tails - 0.002_699_796).abs() < 6.0 * 5.2e-5,
        "P(|Z|>3) ≈ {tails}"
    );
}

#[test]
fn consecutive_normal_samples_are_uncorrelated() {
    // The polar method returns its two samples one after the other; they must be
    // independent. The sample correlation of 5·10⁵ pairs has standard error 1/√(5·10⁵).
    let pairs = 500_000;
    let mut rng = Rng::new(99);
    let mut sum_xy = 0.0;
    for _ in 0..pairs {
        sum_xy += rng.normal() * rng.normal();
    }
    let corr = sum_xy / pairs as f64;
    assert!(
        corr.abs() < 6.0 / (pairs as f64).sqrt(),
        "correlation {corr}"
    );
}

// ---------------------------------------------------------------------------------------
// Shuffling
// ---------------------------------------------------------------------------------------

#[test]
fn shuffle_gives_a_permutation() {
    let mut rng = Rng::new(4);
    for len in [0, 1, 2, 3, 10, 1000] {
        for _ in 0..20 {
            let mut v: Vec<usize> = (0..len).collect();
            rng.shuffle(&mut v);
            let mut sorted = v.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..len).collect::<Vec<_>>(), "len {len}");
        }
    }
}

#[test]
fn shuffle_actually_moves_elements() {
    // A shuffle of 1000 elements leaves on average one element in place (Poisson(1));
    // more than 20 fixed points has probability below 10⁻¹⁸.
    let mut rng = Rng::new(4);
    let mut v: Vec<usize> = (0..1000).collect();
    rng.shuffle(&mut v);
    let fixed = v.iter().enumerate().filter(|&(i, &x)| i == x).count();
    assert!(fixed <= 20, "{fixed} fixed points");
}

#[test]
fn all_six_permutations_of_three_are_equally_likely() {
    // 60 000 shuffles of [0, 1, 2]; each permutation should appear 10 000 times.
    let mut rng = Rng::new(17);
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut counts = [0u64; 6];
    for _ in 0..60_000 {
        let mut v = [0, 1, 2];
        rng.shuffle(&mut v);
        let which = perms
            .iter()
            .position(|p| *p == v)
            .expect("not a permutation");
        counts[which] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < CHI2_DF5_P1E6, "chi² = {chi2}, counts {counts:?}");
}

#[test]
fn every_element_is_equally_likely_to_come_first_or_last() {
    // 100 000 shuffles of 0..10: which element lands in position 0, and in position 9.
    let mut rng = Rng::new(18);
    let mut first = [0u64; 10];
    let mut last = [0u64; 10];
    for _ in 0..100_000 {
        let mut v: Vec<usize> = (0..10).collect();
        rng.shuffle(&mut v);
        first[v[0]] += 1;
        last[v[9]] += 1;
    }
    let chi2_first = chi_square_uniform(&first);
    let chi2_last = chi_square_uniform(&last);
    assert!(
        chi2_first < CHI2_DF9_P1E6,
        "first: chi² = {chi2_first}, {first:?}"
    );
    assert!(
        chi2_last < CHI2_DF9_P1E6,
        "last: chi² = {chi2_last}, {last:?}"
    );
}

// ---------------------------------------------------------------------------------------
// portable_ln
// ---------------------------------------------------------------------------------------

/// The distance in units in the last place between two finite doubles of the same sign.
fn ulps(a: f64, b: f64) -> u64 {
    assert!(
        a == b || a.is_sign_negative() == b.is_sign_negative(),
        "{a:e} and {b:e} have different signs"
    );
    a.to_bits().abs_diff(b.to_bits())
}

/// `portable_ln(x)` must be within 4 ulps of libm's `ln`, which is itself within 1 ulp of
/// the true value (glibc's is correctly rounded in practice), or within 10⁻¹⁵ relative.
fn assert_close_to_ln(x: f64) {
    let got = portable_ln(x);
    let want = x.ln();
    if got == want {
        return;
    }
    let rel = ((got - want) / want).abs();
    assert!(
        ulps(got, want) <= 4 || rel <= 1e-15,
        "portable_ln({x:e}) = {got:e}, ln = {want:e}: {} ulps, relative {rel:e}",
        ulps(got, want)
    );
}

#[test]
fn portable_ln_of_one_two_and_e() {
    assert_eq!(portable_ln(1.0), 0.0);
    assert!(ulps(portable_ln(2.0), std::f64::consts::LN_2) <= 1);
    assert!(ulps(portable_ln(std::f64::consts::E), 1.0) <= 2);
    assert!(ulps(portable_ln(0.5), -std::f64::consts::LN_2) <= 1);
    assert!(ulps(portable_ln(10.0), std::f64::consts::LN_10) <= 2);
}

#[test]
fn portable_ln_agrees_with_libm_across_the_unit_interval() {
    // Log-uniformly across (10⁻³⁰⁰, 1]: x = 10^(−300·u).
    let mut rng = Rng::new(21);
    for _ in 0..200_000 {
        let x = 10f64.powf(-300.0 * rng.next_f64());
        if x > 0.0 && x <= 1.0 {
            assert_close_to_ln(x);
        }
    }
    // Uniformly in (0, 1], which puts most points in the last few binades.
    for _ in 0..100_000 {
        let x = 1.0 - rng.next_f64(); // in (0, 1]
        assert_close_to_ln(x);
    }
}

#[test]
fn portable_ln_is_accurate_near_one_and_at_binade_edges() {
    // Near 1 the logarithm is tiny and any absolute error is a large relative one.
    let mut x = 1.0f64;
    for _ in 0..200 {
        x = f64::from_bits(x.to_bits() - 1); // the doubles just below 1
        assert_close_to_ln(x);
    }
    let mut x = 1.0f64;
    for _ in 0..200 {
        x = f64::from_bits(x.to_bits() + 1); // and just above
        assert_close_to_ln(x);
    }
    for k in 1..60 {
        let d = 2f64.powi(-k);
        assert_close_to_ln(1.0 - d);
        assert_close_to_ln(1.0 + d);
    }
    // Powers of two, √2 times them (where the mantissa range [√½, √2) wraps), and their
    // neighbours.
    for e in -1021..1023 {
        let power = f64::from_bits(((e + 1023) as u64) << 52); // 2^e, exactly
        for base in [power, std::f64::consts::SQRT_2 * power] {
            for x in [
                base,
                f64::from_bits(base.to_bits() - 1),
                f64::from_bits(base.to_bits() + 1),
            ] {
                if x != 1.0 {
                    assert_close_to_ln(x);
                }
            }
        }
    }
}

#[test]
fn portable_ln_above_one() {
    for x in [
        1.5,
        2.0,
        std::f64::consts::E,
        10.0,
        12345.678,
        1e10,
        1e100,
        1e300,
        f64::MAX,
    ] {
        assert_close_to_ln(x);
    }
    assert_close_to_ln(f64::MIN_POSITIVE); // the smallest normal number
    let mut rng = Rng::new(22);
    for _ in 0..10_000 {
        assert_close_to_ln(10f64.powf(300.0 * rng.next_f64()));
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "portable_ln(0)")]
fn portable_ln_of_zero_panics_in_debug_builds() {
    portable_ln(0.0);
}
