//! The AVX2 micro-kernels (x86-64).
//!
//! For `f32`, a hand-written 6×16 tile held in 12 `ymm` accumulators, from one
//! `#[inline(always)]` body with a `const FMA: bool` that two `#[target_feature]` wrappers
//! each inline: [`Kernel::Avx2`](super::Kernel::Avx2) multiplies and adds in separate
//! instructions, rounding as the reference loop does, and [`Kernel::Fma`](super::Kernel::Fma)
//! fuses them. For `f64`, the portable kernel's body compiled with AVX2 enabled, on a 6×8
//! tile. The separate kernel needs only AVX; it asks for AVX2 because every CPU with AVX2
//! has the fast AVX units it was tuned for. The book's chapter "Making it fast" takes the
//! tile apart register by register.

use super::MicroKernel;

/// True when the CPU runs AVX2.
pub(crate) fn detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when the CPU runs AVX2 and FMA (every AVX2 CPU made by Intel or AMD does).
pub(crate) fn fma_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        detected() && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Why the AVX2+FMA kernel cannot run here, or `None` if it can.
pub(crate) fn fma_unsupported_reason() -> Option<String> {
    if fma_detected() {
        None
    } else if cfg!(target_arch = "x86_64") {
        Some("this CPU lacks AVX2 or FMA".to_string())
    } else {
        Some("it exists on x86-64 only".to_string())
    }
}

/// Why the AVX2 kernel cannot run here, or `None` if it can.
pub(crate) fn unsupported_reason() -> Option<String> {
    if detected() {
        None
    } else if cfg!(target_arch = "x86_64") {
        Some("this CPU lacks AVX2".to_string())
    } else {
        Some("it exists on x86-64 only".to_string())
    }
}

/// The 6×16 `f32` kernel, if the CPU has AVX2.
pub(crate) fn f32_kernel() -> Option<MicroKernel<f32>> {
    #[cfg(target_arch = "x86_64")]
    if detected() {
        return Some(MicroKernel {
            mr: x86::MR,
            nr: x86::NR,
            run: x86::run_f32,
            narrow: None,
        });
    }
    None
}

/// The 6×16 `f32` kernel with fused multiply-adds, if the CPU has AVX2 and FMA.
pub(crate) fn f32_fma_kernel() -> Option<MicroKernel<f32>> {
    #[cfg(target_arch = "x86_64")]
    if fma_detected() {
        return Some(MicroKernel {
            mr: x86::MR,
            nr: x86::NR,
            run: x86::run_f32_fma,
            narrow: None,
        });
    }
    None
}

/// The portable body on a 6×8 `f64` tile compiled with AVX2, if the CPU has AVX2.
pub(crate) fn f64_kernel() -> Option<MicroKernel<f64>> {
    #[cfg(target_arch = "x86_64")]
    if detected() {
        return Some(MicroKernel {
            mr: 6,
            nr: 8,
            run: x86::run_f64,
            narrow: None,
        });
    }
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::{Strided, check_tile, portable};
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps,
        _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };

    /// Rows of the `f32` register tile.
    pub(super) const MR: usize = 6;
    /// Columns of the `f32` register tile: two `ymm` registers of 8 lanes.
    pub(super) const NR: usize = 16;

    /// The safe entry of the separate multiply-add kernel.
    pub(super) fn run_f32(
        kc: usize,
        a: Strided<'_, f32>,
        b: &[f32],
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        run::<false>(kc, a, b, c, ldc, accumulate);
    }

    /// The safe entry of the fused kernel.
    pub(super) fn run_f32_fma(
        kc: usize,
        a: Strided<'_, f32>,
        b: &[f32],
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        run::<true>(kc, a, b, c, ldc, accumulate);
    }

    /// Checks the slices, then the CPU, then runs the `f32` kernel, fused or not.
    fn run<const FMA: bool>(
        kc: usize,
        a: Strided<'_, f32>,
        b: &[f32],
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        check_tile((MR, NR), kc, a, b, c, ldc);
        if FMA {
            assert!(
                super::fma_detected(),
                "the AVX2+FMA kernel called on a CPU without AVX2 and FMA"
            );
        } else {
            assert!(
                super::detected(),
                "the AVX2 kernel called on a CPU without AVX2"
            );
        }
        let (a, rs, cs, b, c) = (a.data.as_ptr(), a.rs, a.cs, b.as_ptr(), c.as_mut_ptr());
        // A packed panel (the common case) gets its own copy of the kernel, with the
        // strides known at compile time, which saves the loop five address computations.
        let packed = (rs, cs) == (1, MR);
        // SAFETY: the CPU has AVX2, and FMA for the fused kernel (checked just above; the
        // check is a cached load), and `check_tile` proved that `a` holds element
        // i·rs + p·cs for every i < MR, p < kc, that `b` holds kc·NR elements, and `c` MR
        // rows of NR elements `ldc` apart, which is all the kernels read and write.
        unsafe {
            match (FMA, packed) {
                (false, true) => kernel_6x16::<true>(kc, a, rs, cs, b, c, ldc, accumulate),
                (false, false) => kernel_6x16::<false>(kc, a, rs, cs, b, c, ldc, accumulate),
                (true, true) => kernel_6x16_fma::<true>(kc, a, rs, cs, b, c, ldc, accumulate),
                (true, false) => kernel_6x16_fma::<false>(kc, a, rs, cs, b, c, ldc, accumulate),
            }
        }
    }

    /// The safe entry of the `f64` kernel.
    pub(super) fn run_f64(
        kc: usize,
        a: Strided<'_, f64>,
        b: &[f64],
        c: &mut [f64],
        ldc: usize,
        accumulate: bool,
    ) {
        assert!(
            super::detected(),
            "the AVX2 kernel called on a CPU without AVX2"
        );
        // SAFETY: the CPU has AVX2 (checked just above); `portable_6x8` is safe code
        // (it checks its own slices) and needs nothing from the CPU but AVX2.
        unsafe { portable_6x8(kc, a, b, c, ldc, accumulate) }
    }

    /// The portable body, compiled with AVX2 so the compiler may use `ymm` registers.
    #[target_feature(enable = "avx2")]
    unsafe fn portable_6x8(
        kc: usize,
        a: Strided<'_, f64>,
        b: &[f64],
        c: &mut [f64],
        ldc: usize,
        accumulate: bool,
    ) {
        portable::body::<f64, 6, 8>(kc, a, b, c, ldc, accumulate);
    }

    // ANCHOR: avx2_kernel
    /// `C[0..6][0..16] += Ã·B̃` over `kc` steps (or `=`, with `accumulate` false), the tile
    /// held in 12 `ymm` registers; each product and sum rounded separately (`FMA = false`)
    /// or fused (`FMA = true`).
    ///
    /// # Safety
    /// The CPU must support AVX2, and FMA when `FMA` is true; the caller must run this
    /// inlined into a function compiled with those features (the two wrappers below). `a`
    /// must be valid for reads at `i·rsa + p·csa` for i < 6, p < kc, `b` for `kc·16`
    /// reads, and `c` for reads and writes of 6 rows of 16 elements `ldc` apart. With
    /// `PACKED`, `rsa` and `csa` must be 1 and 6.
    // A kernel takes its operands as raw parts: bundling them would only move the count.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile_6x16<const PACKED: bool, const FMA: bool>(
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
        // guarantees: rows i < 6 of c at i·ldc, columns < 16; a[i·rsa + p·csa] and
        // b[p·16 + j] for p < kc. Unaligned loads and stores (`loadu`/`storeu`) need no
        // alignment. The intrinsics need AVX2 (and FMA), which the caller guarantees.
        unsafe {
            let (rsa, csa) = if PACKED { (1, MR) } else { (rsa, csa) };
            // Where each row of Ã starts; step p of the loop reads a_rows[i] + p·csa.
            let a_rows: [*const f32; MR] = std::array::from_fn(|i| a.add(i * rsa));
            // The tile of C, row i in acc[i][0] (columns 0..8) and acc[i][1] (8..16): loaded
            // from C to add to it, or zero for the first slice of k.
            let mut acc = [[_mm256_setzero_ps(); 2]; MR];
            if accumulate {
                for (i, row) in acc.iter_mut().enumerate() {
                    row[0] = _mm256_loadu_ps(c.add(i * ldc));
                    row[1] = _mm256_loadu_ps(c.add(i * ldc + 8));
                }
            }
            for p in 0..kc {
                // A row of B̃, 16 wide, in two registers.
                let b0 = _mm256_loadu_ps(b.add(p * NR));
                let b1 = _mm256_loadu_ps(b.add(p * NR + 8));
                for (i, row) in acc.iter_mut().enumerate() {
                    // Ã[p][i] in all 8 lanes, times the row of B̃, added to row i of the tile.
                    let a_pi: __m256 = _mm256_broadcast_ss(&*a_rows[i].add(p * csa));
                    if FMA {
                        row[0] = _mm256_fmadd_ps(a_pi, b0, row[0]);
                        row[1] = _mm256_fmadd_ps(a_pi, b1, row[1]);
                    } else {
                        row[0] = _mm256_add_ps(row[0], _mm256_mul_ps(a_pi, b0));
                        row[1] = _mm256_add_ps(row[1], _mm256_mul_ps(a_pi, b1));
                    }
                }
            }
            for (i, row) in acc.iter().enumerate() {
                _mm256_storeu_ps(c.add(i * ldc), row[0]);
                _mm256_storeu_ps(c.add(i * ldc + 8), row[1]);
            }
        }
    }
    // ANCHOR_END: avx2_kernel

    /// [`tile_6x16`] compiled for AVX2, multiplying and adding separately.
    ///
    /// # Safety
    /// As [`tile_6x16`]; the CPU must support AVX2.
    // A kernel takes its operands as raw parts: bundling them would only move the count.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2")]
    unsafe fn kernel_6x16<const PACKED: bool>(
        kc: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: forwarded from the caller; this function has AVX2 enabled.
        unsafe { tile_6x16::<PACKED, false>(kc, a, rsa, csa, b, c, ldc, accumulate) }
    }

    /// [`tile_6x16`] compiled for AVX2 and FMA, with fused multiply-adds.
    ///
    /// # Safety
    /// As [`tile_6x16`]; the CPU must support AVX2 and FMA.
    // A kernel takes its operands as raw parts: bundling them would only move the count.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn kernel_6x16_fma<const PACKED: bool>(
        kc: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: forwarded from the caller; this function has AVX2 and FMA enabled.
        unsafe { tile_6x16::<PACKED, true>(kc, a, rsa, csa, b, c, ldc, accumulate) }
    }
}
