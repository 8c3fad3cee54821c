//! Micro-kernels: the innermost loop of the packed product, `C[0..MR][0..NR] += Ã·B̃` for one
//! register tile of `C`, one per instruction set, and the choice of which one runs. The
//! book's chapter "Making it fast" derives the tile sizes and measures each kernel.
//!
//! **Same answer, or nearly.** [`Portable`](Kernel::Portable) and [`Avx2`](Kernel::Avx2)
//! round every multiply and every add, in the reference loop's order: their results are
//! bit-identical to it and to each other. [`Fma`](Kernel::Fma), the default on AVX2
//! machines, and [`Avx512`](Kernel::Avx512), which gives the very same bits with a larger
//! tile, fuse each multiply-add and round once, so their `f32` results differ in the last
//! bits; to reproduce a run bit for bit across machines, choose a non-fusing kernel on both.
//! Whatever the kernel, the number of threads never changes a result.
//!
//! **Choosing a kernel.** The best one the CPU supports is chosen at the first product,
//! unless `SIMPLENN_KERNEL` (`portable`, `avx2`, `fma` or `avx512`) or [`set_kernel`] names
//! another. [`set_kernel`] refuses a kernel the CPU cannot run; an environment variable that
//! names no kernel, or one this machine cannot run, is ignored silently for the best
//! supported one, and [`kernel_var_ignored`] says so as a value, for the program to tell its
//! user: a library does not write to its program's terminal. `f64` (the gradient checks)
//! always runs the portable code, compiled a second time with AVX2 where the CPU has it.
//!
//! The sealed [`Float`](crate::float::Float) trait requires the crate-private `Element`,
//! implemented here for `f32` and `f64`, which maps a [`Kernel`] to that type's
//! micro-kernel.

pub mod avx2;
pub mod avx512;
pub mod portable;
pub mod sparse;

use crate::float::Float;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// A family of micro-kernels, one per instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust with fixed-size accumulator arrays that the compiler vectorises for the
    /// target's baseline (SSE2 on x86-64, NEON on aarch64). Runs everywhere.
    Portable,
    /// x86-64 AVX2: a hand-written 6×16 `f32` kernel on `ymm` registers; for `f64`, the
    /// portable code compiled with AVX2 enabled.
    Avx2,
    /// x86-64 AVX2 with fused multiply-add (FMA3): the same 6×16 `f32` tile, each
    /// multiply-add one instruction rounded once. The fastest kernel on AVX2 machines, and
    /// the only one whose `f32` results differ (in the last bits) from the others; `f64`
    /// runs the [`Avx2`](Kernel::Avx2) code.
    Fma,
    /// x86-64 AVX-512F: a 12×32 `f32` tile on `zmm` registers, fused like
    /// [`Fma`](Kernel::Fma) and bit-identical to it; `f64` runs the [`Avx2`](Kernel::Avx2)
    /// code.
    Avx512,
}

impl Kernel {
    /// Every kernel, from the most portable to the most specialised.
    pub const ALL: [Kernel; 4] = [Kernel::Portable, Kernel::Avx2, Kernel::Fma, Kernel::Avx512];

    /// The name used by `SIMPLENN_KERNEL` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Fma => "fma",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Parses a name as printed by [`name`](Self::name), ignoring case.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }

    /// True when this build has the kernel and this CPU can run it.
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Portable => true,
            Kernel::Avx2 => avx2::detected(),
            Kernel::Fma => avx2::fma_detected(),
            Kernel::Avx512 => avx512::detected(),
        }
    }

    /// The kernels this machine can run, [`Portable`](Kernel::Portable) first.
    pub fn supported() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// True when the kernel uses fused multiply-add for `f32`, so its results differ in the
    /// last bits from the reference loop's (see the [module docs](self)). `f64` never
    /// fuses.
    pub fn fuses_multiply_add(self) -> bool {
        matches!(self, Kernel::Fma | Kernel::Avx512)
    }

    /// The fastest kernel this machine can run: the most specialised one, except that
    /// [`Avx512`](Kernel::Avx512) is taken only if it measures faster than
    /// [`Fma`](Kernel::Fma) here (timed once, on a small product; the two give the same
    /// bits, so only the speed depends on it).
    pub fn best() -> Kernel {
        Kernel::supported()
            .into_iter()
            .rfind(|&k| k != Kernel::Avx512 || avx512::measures_faster())
            .unwrap_or(Kernel::Portable)
    }

    /// Why this kernel cannot run here, or `None` if it can.
    pub fn unsupported_reason(self) -> Option<String> {
        match self {
            Kernel::Portable => None,
            Kernel::Avx2 => avx2::unsupported_reason(),
            Kernel::Fma => avx2::fma_unsupported_reason(),
            Kernel::Avx512 => avx512::unsupported_reason(),
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error [`set_kernel`] returns for a kernel this machine cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedKernel {
    /// The kernel asked for.
    pub kernel: Kernel,
    /// Why it cannot run, for a person.
    pub reason: String,
}

impl fmt::Display for UnsupportedKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} matrix kernel cannot run here: {}",
            self.kernel, self.reason
        )
    }
}

impl std::error::Error for UnsupportedKernel {}

/// A value of `SIMPLENN_KERNEL` that was not honoured: what it said, why, and the kernel the
/// products use instead. `Display` says all of it on one line, for a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredKernelVar {
    /// The variable's value, as set (lossily, if it is not Unicode).
    pub value: String,
    /// The kernel it names, if it names one: then one this machine cannot run.
    pub named: Option<Kernel>,
    /// Why it was not honoured, for a person.
    pub reason: String,
    /// The kernel used instead: the best one this machine runs, [`Kernel::best`].
    pub instead: Kernel,
}

impl fmt::Display for IgnoredKernelVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SIMPLENN_KERNEL={}: {}; using the {} kernel",
            self.value, self.reason, self.instead
        )
    }
}

/// The kernel `SIMPLENN_KERNEL=value` chooses on this machine, or, if it names no kernel or
/// one this machine cannot run, why not and what runs instead. The variable itself is read
/// once, at the first product; this says what any value would do.
pub fn kernel_for_var(value: &str) -> Result<Kernel, IgnoredKernelVar> {
    let ignored = |named, reason: String| IgnoredKernelVar {
        value: value.to_string(),
        named,
        reason,
        instead: Kernel::best(),
    };
    match Kernel::from_name(value) {
        None => Err(ignored(None, "not portable, avx2, fma or avx512".into())),
        Some(k) => match k.unsupported_reason() {
            None => Ok(k),
            Some(reason) => Err(ignored(Some(k), reason)),
        },
    }
}

/// Whether the products ignore the environment's `SIMPLENN_KERNEL`, and why: `None` when it
/// is not set or names a kernel this machine runs.
///
/// The fallback is silent, as the module docs say: a program that wants its users to know
/// calls this once and prints what it returns. It reports the variable whether or not
/// [`set_kernel`] has overridden it since.
pub fn kernel_var_ignored() -> Option<IgnoredKernelVar> {
    default_choice().1.clone()
}

// ANCHOR: selection
/// The kernel chosen by [`set_kernel`]; `UNSET` until then.
static CHOSEN: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = u8::MAX;

/// Makes every later packed product (and so [`gemm`](super::gemm) and the network) use
/// `kernel`. Only speed changes, and, between the [`Fma`](Kernel::Fma) kernel and the
/// others, the last bits of `f32` results.
///
/// # Errors
/// If this machine (or this build) cannot run `kernel`; the choice is then left unchanged.
pub fn set_kernel(kernel: Kernel) -> Result<(), UnsupportedKernel> {
    if let Some(reason) = kernel.unsupported_reason() {
        return Err(UnsupportedKernel { kernel, reason });
    }
    CHOSEN.store(kernel as u8, Ordering::Relaxed);
    Ok(())
}

/// The kernel products use now: the one given to [`set_kernel`], else the one named by
/// the environment variable `SIMPLENN_KERNEL` if this machine supports it, else the best
/// one it supports.
pub fn kernel() -> Kernel {
    match CHOSEN.load(Ordering::Relaxed) {
        UNSET => default_kernel(),
        k => Kernel::ALL[k as usize],
    }
}

/// The name of the kernel products use now, as [`kernel`] returns it.
pub fn kernel_name() -> &'static str {
    kernel().name()
}

fn default_kernel() -> Kernel {
    default_choice().0
}

/// The kernel chosen without [`set_kernel`], and the `SIMPLENN_KERNEL` it ignored, if any:
/// worked out once, at the first product.
fn default_choice() -> &'static (Kernel, Option<IgnoredKernelVar>) {
    static DEFAULT: OnceLock<(Kernel, Option<IgnoredKernelVar>)> = OnceLock::new();
    DEFAULT.get_or_init(|| match std::env::var_os("SIMPLENN_KERNEL") {
        None => (Kernel::best(), None),
        Some(value) => match kernel_for_var(&value.to_string_lossy()) {
            Ok(k) => (k, None),
            Err(ignored) => (ignored.instead, Some(ignored)),
        },
    })
}
// ANCHOR_END: selection

pub(crate) use internal::{Element, MicroKernel, Strided};

/// Items that must be `pub` because the sealed `Float` trait requires [`Element`], but
/// that live in a private module so nothing outside the crate can name them.
mod internal {
    use super::sparse::{self, CombineFn};
    use super::{Kernel, avx2, avx512, portable};
    use std::sync::Mutex;

    /// A panel of `A` for a micro-kernel: element `(i, p)` is `data[i·rs + p·cs]`.
    #[derive(Clone, Copy)]
    pub struct Strided<'a, T> {
        /// The elements, starting at `(0, 0)`.
        pub data: &'a [T],
        /// Step from one row to the next.
        pub rs: usize,
        /// Step from one column (one step of `p`) to the next.
        pub cs: usize,
    }

    /// One type's micro-kernel: `C[0..mr][0..nr] += Ã·B̃` over `kc` steps, or, with
    /// `accumulate` false, `C[0..mr][0..nr] = Ã·B̃`.
    ///
    /// `run(kc, a, b, c, ldc, accumulate)` reads `Ã[p][i]` at `a.data[i·a.rs + p·a.cs]` (a
    /// packed panel has `rs = 1`, `cs = mr`; an unpacked one is read where it lies),
    /// `B̃[p][j]` at `b[p·nr + j]` (always packed), and updates the tile of `c` whose row `i`
    /// is `c[i·ldc..i·ldc + nr]`, adding to what it holds or, with `accumulate` false,
    /// starting from zero, so that `C` needs no zeroing before the first slice of `k`.
    /// Starting the sums at zero in registers rounds exactly as adding to zeros in memory.
    /// Its arguments are plain slices: every kernel checks their lengths before it touches
    /// memory, so calling one is safe whatever the arguments.
    #[derive(Clone, Copy)]
    pub struct MicroKernel<T> {
        /// Rows of the register tile.
        pub mr: usize,
        /// Columns of the register tile.
        pub nr: usize,
        /// The kernel itself.
        pub run: KernelFn<T>,
        /// For products at most this wide (its `nr`), a kernel with a narrower tile that
        /// gives the very same bits, as `(mr, nr, run)`; `None` for most kernels.
        pub narrow: Option<(usize, usize, KernelFn<T>)>,
    }

    /// A micro-kernel's signature: `(kc, a, b, c, ldc, accumulate)`, see [`MicroKernel`].
    pub type KernelFn<T> =
        fn(kc: usize, a: Strided<'_, T>, b: &[T], c: &mut [T], ldc: usize, accumulate: bool);

    /// Reusable packing buffers: the packed block of `A` and the packed block of `B`.
    pub type PackBuffers<T> = (Vec<T>, Vec<T>);

    /// What the packed product needs to know about an element type; implemented for `f32` and
    /// `f64` only, and required by the sealed [`Float`] trait.
    pub trait Element: Sized + 'static {
        /// The micro-kernel of family `kernel` for this type, if this machine can run it.
        fn micro_kernel(kernel: Kernel) -> Option<MicroKernel<Self>>;

        /// A pool of packing buffers, so that products in a training loop reuse memory
        /// instead of allocating it on every call (one set per thread at work).
        fn buffer_pool() -> &'static Mutex<Vec<PackBuffers<Self>>>;

        /// A pool of buffers for the bands of columns that threads compute apart from `C`.
        fn band_pool() -> &'static Mutex<Vec<Vec<Self>>>;

        /// The sparse products' kernel of family `kernel` for this type.
        fn combine_kernel(kernel: Kernel) -> CombineFn<Self>;
    }

    impl Element for f32 {
        fn micro_kernel(kernel: Kernel) -> Option<MicroKernel<f32>> {
            match kernel {
                Kernel::Portable => Some(portable::kernel::<f32>()),
                Kernel::Avx2 => avx2::f32_kernel(),
                Kernel::Fma => avx2::f32_fma_kernel(),
                Kernel::Avx512 => avx512::f32_kernel(),
            }
        }
        fn buffer_pool() -> &'static Mutex<Vec<PackBuffers<f32>>> {
            static POOL: Mutex<Vec<PackBuffers<f32>>> = Mutex::new(Vec::new());
            &POOL
        }
        fn band_pool() -> &'static Mutex<Vec<Vec<f32>>> {
            static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
            &POOL
        }
        fn combine_kernel(kernel: Kernel) -> CombineFn<f32> {
            sparse::f32_kernel(kernel)
        }
    }

    impl Element for f64 {
        fn micro_kernel(kernel: Kernel) -> Option<MicroKernel<f64>> {
            match kernel {
                Kernel::Portable => Some(portable::kernel::<f64>()),
                Kernel::Avx2 | Kernel::Fma => avx2::f64_kernel(),
                Kernel::Avx512 => avx512::f64_kernel(),
            }
        }
        fn buffer_pool() -> &'static Mutex<Vec<PackBuffers<f64>>> {
            static POOL: Mutex<Vec<PackBuffers<f64>>> = Mutex::new(Vec::new());
            &POOL
        }
        fn band_pool() -> &'static Mutex<Vec<Vec<f64>>> {
            static POOL: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());
            &POOL
        }
        fn combine_kernel(kernel: Kernel) -> CombineFn<f64> {
            sparse::f64_kernel(kernel)
        }
    }
}

/// The micro-kernel of family `kernel` for `T`, falling back to the portable one when this
/// machine cannot run it (callers have checked support already where it matters).
pub(crate) fn micro_kernel<T: Float>(kernel: Kernel) -> MicroKernel<T> {
    T::micro_kernel(kernel).unwrap_or_else(portable::kernel::<T>)
}

/// Panics unless the slices hold what a `kc`-step kernel with an `mr × nr` tile reads and
/// writes. Every kernel calls this before touching memory; it is what makes calling a
/// kernel safe.
#[inline(always)]
pub(crate) fn check_tile<T>(
    (mr, nr): (usize, usize),
    kc: usize,
    a: Strided<'_, T>,
    b: &[T],
    c: &[T],
    ldc: usize,
) {
    assert!(
        kc > 0
            && a.data.len() > (mr - 1) * a.rs + (kc - 1) * a.cs
            && b.len() >= kc * nr
            && ldc >= nr
            && c.len() >= (mr - 1) * ldc + nr,
        "micro-kernel: slices too short for a {mr}×{nr} tile over {kc} steps"
    );
}
