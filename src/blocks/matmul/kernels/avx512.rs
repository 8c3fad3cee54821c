//! The AVX-512F micro-kernel: not built yet.
//!
//! The plan is the AVX2 kernel on `zmm` registers: a tile of 14×32 `f32` (28 of the 32
//! registers) or the portable body compiled with `avx512f` enabled. It is left out for two
//! reasons, both checkable: the AVX-512 intrinsics and `#[target_feature(enable =
//! "avx512f")]` are stable only from Rust 1.89, newer than the crate's `rust-version`
//! (1.86), and the machine this was written on does not expose AVX-512F, so the kernel could
//! not have been tested, and untested SIMD code has no place here.
//!
//! [`Kernel::Avx512`](super::Kernel::Avx512) therefore always reports itself unsupported:
//! [`set_kernel`](super::set_kernel) refuses it and `SIMPLENN_KERNEL=avx512` falls back.

use super::MicroKernel;

/// Whether an AVX-512F kernel can run: never, in this build.
pub(crate) fn detected() -> bool {
    false
}

/// Why the AVX-512F kernel cannot run.
pub(crate) fn unsupported_reason() -> Option<String> {
    let cpu = cpu_has_avx512f();
    Some(format!(
        "this build has no AVX-512F kernel (it needs Rust 1.89){}",
        if cpu {
            "; the CPU has AVX-512F"
        } else {
            " and this CPU lacks AVX-512F anyway"
        }
    ))
}

fn cpu_has_avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The `f32` kernel: none in this build.
pub(crate) fn f32_kernel() -> Option<MicroKernel<f32>> {
    None
}

/// The `f64` kernel: none in this build.
pub(crate) fn f64_kernel() -> Option<MicroKernel<f64>> {
    None
}
