//! The AVX-512F micro-kernel (x86-64).
//!
//! For `f32`, the AVX2 kernel's tile on `zmm` registers: 12 rows of 32 columns, 24
//! accumulators, each multiply-add fused. It adds the products of every element of `C` in
//! the same order as [`Kernel::Fma`](super::Kernel::Fma), so its results are
//! **bit-identical to the `fma` kernel's**, and the tests hold it to that. A product at most
//! 16 columns wide runs on the `fma` kernel's 6×16 tile instead, and `f64` on the AVX2 code.
//! Whether it is the default is measured at run time (`measures_faster`), because cores that
//! split each 512-bit instruction in two may run it no faster; the choice changes the speed,
//! never a result. The book's chapter "Making it fast" has the measurements.

use super::MicroKernel;
use std::sync::OnceLock;
use std::time::Instant;

/// True when this kernel computed a 96×256·256×256 product faster than the `fma` kernel,
/// best of 5 runs each, the first time it was asked (the answer is kept); false when the
/// CPU cannot run it.
pub(crate) fn measures_faster() -> bool {
    static FASTER: OnceLock<bool> = OnceLock::new();
    *FASTER.get_or_init(|| {
        let (Some(wide), Some(fma)) = (f32_kernel(), super::avx2::f32_fma_kernel()) else {
            return false;
        };
        let (m, k, n) = (96, 256, 256);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.25 - 1.5).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.5 - 1.5).collect();
        let mut c = vec![0.0f32; m * n];
        let mut time = |kernel| {
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    crate::blocks::matmul::packed::gemm_into(
                        kernel,
                        crate::blocks::matmul::View::from_slice(&a, m, k),
                        crate::blocks::matmul::View::from_slice(&b, k, n),
                        &mut c,
                        n,
                    );
                    start.elapsed()
                })
                .min()
                .expect("five runs")
        };
        time(wide) < time(fma)
    })
}

/// True when the CPU runs AVX-512F (and FMA, which every AVX-512F CPU has).
pub(crate) fn detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && super::avx2::fma_detected()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Why the AVX-512F kernel cannot run here, or `None` if it can.
pub(crate) fn unsupported_reason() -> Option<String> {
    if detected() {
        None
    } else if cfg!(target_arch = "x86_64") {
        Some("this CPU lacks AVX-512F".to_string())
    } else {
        Some("it exists on x86-64 only".to_string())
    }
}

/// The 12×32 `f32` kernel, if the CPU has AVX-512F.
pub(crate) fn f32_kernel() -> Option<MicroKernel<f32>> {
    #[cfg(target_arch = "x86_64")]
    if detected() {
        return Some(MicroKernel {
            mr: x86::MR,
            nr: x86::NR,
            run: x86::run_f32,
            // A product at most 16 wide would fill only half of each 32-wide tile: the
            // `fma` kernel's 6×16 tile does it, with the same bits.
            narrow: super::avx2::f32_fma_kernel().map(|k| (k.mr, k.nr, k.run)),
        });
    }
    None
}

/// The `f64` kernel: the AVX2 one.
pub(crate) fn f64_kernel() -> Option<MicroKernel<f64>> {
    if detected() {
        super::avx2::f64_kernel()
    } else {
        None
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::{Strided, check_tile};
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };

    /// Rows of the register tile.
    pub(super) const MR: usize = 12;
    /// Columns of the register tile: two `zmm` registers of 16 lanes.
    pub(super) const NR: usize = 32;

    /// Checks the slices, then the CPU, then runs the kernel.
    pub(super) fn run_f32(
        kc: usize,
        a: Strided<'_, f32>,
        b: &[f32],
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        check_tile((MR, NR), kc, a, b, c, ldc);
        assert!(
            super::detected(),
            "the AVX-512F kernel called on a CPU without AVX-512F"
        );
        let (a, rs, cs, b, c) = (a.data.as_ptr(), a.rs, a.cs, b.as_ptr(), c.as_mut_ptr());
        // As in the AVX2 kernel: a packed panel gets a copy with its strides as constants.
        let packed = (rs, cs) == (1, MR);
        // SAFETY: the CPU has AVX-512F and FMA (checked just above), and `check_tile`
        // proved that `a` holds element i·rs + p·cs for every i < MR, p < kc, that `b`
        // holds kc·NR elements, and `c` MR rows of NR elements `ldc` apart, which is all
        // the kernel reads and writes.
        unsafe {
            if packed {
                kernel_12x32::<true>(kc, a, rs, cs, b, c, ldc, accumulate)
            } else {
                kernel_12x32::<false>(kc, a, rs, cs, b, c, ldc, accumulate)
            }
        }
    }

    // ANCHOR: avx512_kernel
    /// `C[0..12][0..32] += Ã·B̃` over `kc` steps (or `=`, with `accumulate` false), the tile
    /// held in 24 `zmm` registers, each multiply-add fused.
    ///
    /// # Safety
    /// The CPU must support AVX-512F. `a` must be valid for reads at `i·rsa + p·csa` for
    /// i < 12, p < kc, `b` for `kc·32` reads, and `c` for reads and writes of 12 rows of 32
    /// elements `ldc` apart. With `PACKED`, `rsa` and `csa` must be 1 and 12.
    // A kernel takes its operands as raw parts: bundling them would only move the count.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    unsafe fn kernel_12x32<const PACKED: bool>(
        kc: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: every pointer offset below stays within the bounds the caller
        // guarantees: rows i < 12 of c at i·ldc, columns < 32; a[i·rsa + p·csa] and
        // b[p·32 + j] for p < kc. Unaligned loads and stores need no alignment. The
        // intrinsics need AVX-512F, which this function is compiled for and the caller
        // guarantees the CPU has.
        unsafe {
            let (rsa, csa) = if PACKED { (1, MR) } else { (rsa, csa) };
            let a_rows: [*const f32; MR] = std::array::from_fn(|i| a.add(i * rsa));
            let mut acc = [[_mm512_setzero_ps(); 2]; MR];
            if accumulate {
                for (i, row) in acc.iter_mut().enumerate() {
                    row[0] = _mm512_loadu_ps(c.add(i * ldc));
                    row[1] = _mm512_loadu_ps(c.add(i * ldc + 16));
                }
            }
            for p in 0..kc {
                let b0 = _mm512_loadu_ps(b.add(p * NR));
                let b1 = _mm512_loadu_ps(b.add(p * NR + 16));
                for (i, row) in acc.iter_mut().enumerate() {
                    let a_pi: __m512 = _mm512_set1_ps(*a_rows[i].add(p * csa));
                    row[0] = _mm512_fmadd_ps(a_pi, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(a_pi, b1, row[1]);
                }
            }
            for (i, row) in acc.iter().enumerate() {
                _mm512_storeu_ps(c.add(i * ldc), row[0]);
                _mm512_storeu_ps(c.add(i * ldc + 16), row[1]);
            }
        }
    }
    // ANCHOR_END: avx512_kernel
}
