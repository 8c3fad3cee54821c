//! The packed, register-tiled product: what the network uses, through [`gemm`](super::gemm).
//!
//! This is the design of Goto and van de Geijn ("Anatomy of high-performance matrix
//! multiplication", 2008), written out as five loops by BLIS (Van Zee & van de Geijn, 2015):
//! `C` is computed in `MR × NR` tiles held in registers by a micro-kernel ([`kernels`]), and
//! blocks of `A` and `B` are first packed into panels that the kernel reads with unit
//! stride, whether an operand is stored as is or read transposed. The packing buffers come
//! from a small per-type pool, so a training loop allocates them once, not on every call.
//! The book's chapter "Making it fast" walks through the loops, the block sizes and the
//! packing.

use super::kernels::{self, Kernel, MicroKernel, Strided, UnsupportedKernel};
use super::{View, dims};
use crate::blocks::matrix::Matrix;
use crate::float::Float;

/// Columns of `B` and `C` per block: sizes LOOP 5. The packed `KC × NC` block of `B` is
/// meant for the shared L3 cache (4 MiB in `f32`); the network's shapes (`n` ≤ 784) all fit
/// in one such block, so in practice only large square products see this loop turn.
pub const NC: usize = 4096;

/// Depth of a block, the stretch of the shared dimension `k` summed in one pass: sizes
/// LOOP 4. A packed `KC × NR` panel of `B` (16 KiB for the 6×16 `f32` kernel) stays in the
/// 32 KiB L1 cache while the micro-kernel streams every `MR × KC` panel of `A` past it.
/// When `k` is not a multiple, the blocks are evened out (`k` = 784 runs as 4 × 196, not
/// 3 × 256 + 16) so no pass is too short to amortise loading and storing the tile of `C`.
pub const KC: usize = 256;

/// Rows of `A` and `C` per block: sizes LOOP 3. The packed `MC × KC` block of `A`
/// (144 KiB in `f32`) stays in the L2 cache (512 KiB per core here) while LOOP 2 passes
/// every panel of `B` over it. A multiple of every kernel's `MR` (4, 6 and 12), so only the
/// last block has a ragged edge.
pub const MC: usize = 144;

/// Packing `A` is skipped when `C` is at most this many columns wide: each element of `A`
/// is then read by at most two panels of `B`, and copying it would cost about as much as
/// using it (`n` = 10 outputs: one panel). Sizes the choice in LOOP 3.
pub const PACK_A_ABOVE_COLUMNS: usize = 32;

/// The largest register tile any kernel uses, in elements, for the edge-tile buffer.
const MAX_TILE: usize = 384;

/// `c = a · b` on the calling thread with the kernel [`kernels::kernel`] names. `c` is
/// reshaped to `a.rows() × b.cols()`, reusing its allocation.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut Matrix<T>) {
    let (m, _, n) = dims(&a, &b);
    c.reshape_for_overwrite(m, n);
    gemm_into(
        kernels::micro_kernel(kernels::kernel()),
        a,
        b,
        c.as_mut_slice(),
        n,
    );
}

/// `c = a · b` on the calling thread with the given kernel, whatever [`kernels::kernel`]
/// says: how tests and benchmarks run every kernel side by side.
///
/// # Errors
/// If this machine cannot run `kernel`; `c` is then left untouched.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm_with_kernel<T: Float>(
    kernel: Kernel,
    a: View<'_, T>,
    b: View<'_, T>,
    c: &mut Matrix<T>,
) -> Result<(), UnsupportedKernel> {
    let (m, _, n) = dims(&a, &b);
    let Some(micro) = T::micro_kernel(kernel) else {
        return Err(UnsupportedKernel {
            kernel,
            reason: kernel
                .unsupported_reason()
                .unwrap_or_else(|| "no such kernel for this type".to_string()),
        });
    };
    c.reshape_for_overwrite(m, n);
    gemm_into(micro, a, b, c.as_mut_slice(), n);
    Ok(())
}

/// The size of the blocks that split `len` into pieces of at most `max` (a multiple of
/// `align`), as even as possible and each a multiple of `align`.
fn block_size(len: usize, max: usize, align: usize) -> usize {
    let blocks = len.div_ceil(max).max(1);
    len.div_ceil(blocks).next_multiple_of(align).min(max)
}

// ANCHOR: loop_nest
/// `c = a · b`, with the micro-kernel `kern`, where `c` holds the `a.rows() × b.cols()`
/// result row-major with rows `ldc` apart (`ldc` ≥ `b.cols()`; more when `c` is a band of
/// columns of a wider matrix). What `c` held before is overwritten, never read: the first
/// slice of `k` starts every tile from zero. The threaded driver in [`super`] hands each
/// thread a band.
pub(crate) fn gemm_into<T: Float>(
    kern: MicroKernel<T>,
    a: View<'_, T>,
    b: View<'_, T>,
    c: &mut [T],
    ldc: usize,
) {
    let (m, k, n) = dims(&a, &b);
    if m == 0 || n == 0 {
        return; // nothing to write
    }
    // A narrow product on a wide tile would compute mostly padding.
    let kern = match kern.narrow {
        Some((mr, nr, run)) if n <= nr => MicroKernel {
            mr,
            nr,
            run,
            narrow: None,
        },
        _ => kern,
    };
    assert!(
        ldc >= n && c.len() >= (m - 1) * ldc + n,
        "gemm_into: {} elements {ldc} apart cannot hold a {m}×{n} result",
        c.len()
    );
    if k == 0 {
        // An empty sum is zero.
        for row in c.chunks_mut(ldc).take(m) {
            row[..n].fill(T::ZERO);
        }
        return;
    }
    let (mr, nr) = (kern.mr, kern.nr);
    let nc_max = block_size(n, NC, nr);
    let mc_max = block_size(m, MC, mr);

    // Packing A pays when many panels of B will read it, or when its strides are neither
    // rows nor columns of a matrix.
    let general_strides = a.row_stride != 1 && a.col_stride != 1;
    let pack_whole_a = nc_max > PACK_A_ABOVE_COLUMNS || general_strides;
    // A narrow product that reads A's rows where they lie runs each tile over the whole of
    // k at once: a row of A is then one long stream that the prefetcher can follow,
    // rather than k/KC short ones.
    let kc_max = if !pack_whole_a && a.col_stride == 1 {
        k
    } else {
        block_size(k, KC, 1)
    };

    let pool = T::buffer_pool();
    let (mut a_buf, mut b_buf) = pool
        .lock()
        .map(|mut p| p.pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    let packed_a = aligned(&mut a_buf, mc_max.next_multiple_of(mr) * kc_max);
    let packed_b = aligned(&mut b_buf, kc_max * nc_max.next_multiple_of(nr));

    // LOOP 5: split the columns of B and C into blocks NC wide.
    for jc in (0..n).step_by(nc_max) {
        let nc = nc_max.min(n - jc);
        // LOOP 4: split the shared dimension into slices KC deep, and pack the KC×NC block
        // of B into panels NR wide.
        for pc in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - pc);
            let packed_b = &mut packed_b[..kc * nc.next_multiple_of(nr)];
            pack_b(&b, pc, kc, jc, nc, nr, packed_b);
            // LOOP 3: split the rows of A and C into blocks MC tall, and pack the MC×KC
            // block of A into panels MR tall (or, when few panels of B will read it, let
            // the micro-kernel read A where it lies).
            for ic in (0..m).step_by(mc_max) {
                let mc = mc_max.min(m - ic);
                let packed_a = &mut packed_a[..mc.next_multiple_of(mr) * kc];
                if pack_whole_a {
                    pack_a(&a, ic, mc, pc, kc, mr, packed_a);
                }
                // LOOP 2: one panel of B (KC×NR, in L1) at a time...
                for (jr, b_panel) in (0..nc).step_by(nr).zip(packed_b.chunks_exact(kc * nr)) {
                    // LOOP 1: ...against every panel of A (MR×KC, from L2).
                    for ir in (0..mc).step_by(mr) {
                        let rows = mr.min(mc - ir);
                        let a_panel = if pack_whole_a {
                            Strided {
                                data: &packed_a[ir * kc..(ir + mr) * kc],
                                rs: 1,
                                cs: mr,
                            }
                        } else if rows == mr {
                            let start = (ic + ir) * a.row_stride + pc * a.col_stride;
                            Strided {
                                data: &a.data[start..],
                                rs: a.row_stride,
                                cs: a.col_stride,
                            }
                        } else {
                            // A ragged last panel is packed, zero-padded, all the same.
                            let panel = &mut packed_a[..mr * kc];
                            pack_a(&a, ic + ir, rows, pc, kc, mr, panel);
                            Strided {
                                data: &*panel,
                                rs: 1,
                                cs: mr,
                            }
                        };
                        let at = (ic + ir) * ldc + jc + jr;
                        let cols = nr.min(nc - jr);
                        let tile = &mut c[at..];
                        // LOOP 0, inside the micro-kernel: kc rank-1 updates of the tile,
                        // added to it, or (first slice of k) starting from zero.
                        let accumulate = pc > 0;
                        if rows == mr && cols == nr {
                            (kern.run)(kc, a_panel, b_panel, tile, ldc, accumulate);
                        } else {
                            let shape = (rows, cols);
                            edge_tile(kern, kc, a_panel, b_panel, tile, ldc, shape, accumulate);
                        }
                    }
                }
            }
        }
    }

    if let Ok(mut p) = pool.lock()
        && p.len() < 8
    {
        p.push((a_buf, b_buf));
    }
}
// ANCHOR_END: loop_nest

/// A tile that sticks out of `C` (only `rows × cols` of it is inside): the kernel works
/// on a full-size copy, and the part inside `C` is copied back. The arithmetic is the same
/// as for a whole tile, so the results are too.
#[allow(clippy::too_many_arguments)]
fn edge_tile<T: Float>(
    kern: MicroKernel<T>,
    kc: usize,
    a_panel: Strided<'_, T>,
    b_panel: &[T],
    c: &mut [T],
    ldc: usize,
    (rows, cols): (usize, usize),
    accumulate: bool,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    let mut tile = [T::ZERO; MAX_TILE];
    let tile = &mut tile[..mr * nr];
    if accumulate {
        for i in 0..rows {
            tile[i * nr..i * nr + cols].copy_from_slice(&c[i * ldc..i * ldc + cols]);
        }
    }
    (kern.run)(kc, a_panel, b_panel, tile, nr, accumulate);
    for i in 0..rows {
        c[i * ldc..i * ldc + cols].copy_from_slice(&tile[i * nr..i * nr + cols]);
    }
}

/// `len` elements of `buf`, starting at a 64-byte boundary (a cache line, and a whole
/// AVX-512 register), growing `buf` if it is too short. Stale contents are fine: packing
/// overwrites every element the kernel reads.
fn aligned<T: Float>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    let slack = 64 / size_of::<T>();
    if buf.len() < len + slack {
        buf.resize(len + slack, T::ZERO);
    }
    let offset = buf.as_ptr().align_offset(64).min(slack);
    &mut buf[offset..offset + len]
}

// ANCHOR: packing
/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of `a` into panels `mr` rows tall, each
/// stored column by column (`kc` columns of `mr` numbers); rows past `mc` are zeros.
///
/// Element `(p, ii)` of a panel is `a[first + ii][p0 + p]`, which is `aᵀ[p0 + p][first + ii]`:
/// packing `A` into row panels is packing `Aᵀ` into column panels, laid out exactly as
/// [`pack_b`] lays out `B`. So it is `pack_b` on the transposed view, and the two cases of
/// `A` (stored, or read transposed) are `pack_b`'s two cases the other way round.
fn pack_a<T: Float>(
    a: &View<'_, T>,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    mr: usize,
    out: &mut [T],
) {
    pack_b(&a.t(), p0, kc, i0, mc, mr, out);
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of `b` into panels `nr` columns wide, each
/// stored row by row (`kc` rows of `nr` numbers); columns past `nc` are zeros.
fn pack_b<T: Float>(
    b: &View<'_, T>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
    out: &mut [T],
) {
    // The panel widths in use (tile widths, and tile heights for `pack_a`) get their own
    // copy of the code, with the width a constant the compiler can unroll and vectorise by.
    match nr {
        4 => pack_b_panels::<T, 4>(b, p0, kc, j0, nc, out),
        6 => pack_b_panels::<T, 6>(b, p0, kc, j0, nc, out),
        8 => pack_b_panels::<T, 8>(b, p0, kc, j0, nc, out),
        12 => pack_b_panels::<T, 12>(b, p0, kc, j0, nc, out),
        16 => pack_b_panels::<T, 16>(b, p0, kc, j0, nc, out),
        32 => pack_b_panels::<T, 32>(b, p0, kc, j0, nc, out),
        _ => unreachable!("no kernel has a tile {nr} wide or tall"),
    }
}

fn pack_b_panels<T: Float, const NR: usize>(
    b: &View<'_, T>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    out: &mut [T],
) {
    for (panel, dst) in out.chunks_exact_mut(NR * kc).enumerate() {
        let first = j0 + panel * NR;
        let cols = NR.min(j0 + nc - first);
        if b.col_stride == 1 {
            // B as stored (or A read transposed): a row of the panel is contiguous.
            let rows = dst.chunks_exact_mut(NR).enumerate();
            if cols == NR {
                // A whole panel: a fixed-size copy, which compiles to two vector moves
                // (a `copy_from_slice` of variable length would call `memmove` per row).
                for (p, d) in rows {
                    let src = &b.data[(p0 + p) * b.row_stride + first..][..NR];
                    let d: &mut [T; NR] = d.try_into().expect("chunks are NR long");
                    *d = src.try_into().expect("sliced NR long");
                }
            } else {
                for (p, d) in rows {
                    let src = &b.data[(p0 + p) * b.row_stride + first..][..cols];
                    d[..cols].copy_from_slice(src);
                    d[cols..].fill(T::ZERO);
                }
            }
        } else if b.row_stride == 1 && cols == NR {
            // B read transposed (or A as stored): each column of the panel is contiguous. Read
            // the NR columns side by side, writing the panel in order.
            let src: [&[T]; NR] =
                std::array::from_fn(|jj| &b.data[(first + jj) * b.col_stride + p0..][..kc]);
            for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
                for jj in 0..NR {
                    d[jj] = src[jj][p];
                }
            }
        } else {
            // The last, partial panel of a transposed B (a stored A), or other strides.
            for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
                for (jj, x) in d.iter_mut().enumerate() {
                    *x = if jj < cols {
                        b.get(p0 + p, first + jj)
                    } else {
                        T::ZERO
                    };
                }
            }
        }
    }
}
// ANCHOR_END: packing
