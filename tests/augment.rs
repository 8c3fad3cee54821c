//! Augmentation by random translations: `shift_image` against shifts worked out by hand,
//! its invariants (a shift of 0 changes nothing, ink is neither made nor lost while it stays
//! in the frame, shifting back undoes a shift), the random shifts' range, and training with
//! augmentation: reproducible, and refused for samples that are not images. Warps (rotation
//! and scaling) against a plain reimplementation with the C library's trigonometry, and
//! against what they must do to a known picture.

use simplenn::augment::{Warp, random_shifts, safe_warp, shift_image, warp_image};
use simplenn::dataset::{Dataset, Images};
use simplenn::samples::MatrixSamples;
use simplenn::{Activation, Batch, Matrix, Network, Rng, TrainConfig};

/// The 4×3 image
/// ```text
///  1  2  3  4
///  5  6  7  8
///  9 10 11 12
/// ```
fn numbered() -> Vec<f64> {
    (1..=12).map(f64::from).collect()
}

fn shifted(image: &[f64], width: usize, height: usize, dx: isize, dy: isize) -> Vec<f64> {
    let mut out = vec![f64::NAN; image.len()]; // NaN: any pixel left unwritten shows
    shift_image(image, width, height, dx, dy, &mut out);
    out
}

#[test]
fn shifts_of_a_known_image_match_the_hand_computed_ones() {
    let image = numbered();
    #[rustfmt::skip]
    let cases: [((isize, isize), [f64; 12]); 6] = [
        // One pixel right: the left column comes in empty, the right column falls out.
        ((1, 0), [0.0, 1.0, 2.0, 3.0,
                  0.0, 5.0, 6.0, 7.0,
                  0.0, 9.0, 10.0, 11.0]),
        // One pixel left.
        ((-1, 0), [2.0, 3.0, 4.0, 0.0,
                   6.0, 7.0, 8.0, 0.0,
                   10.0, 11.0, 12.0, 0.0]),
        // One pixel down: the top row comes in empty.
        ((0, 1), [0.0, 0.0, 0.0, 0.0,
                  1.0, 2.0, 3.0, 4.0,
                  5.0, 6.0, 7.0, 8.0]),
        // One pixel up.
        ((0, -1), [5.0, 6.0, 7.0, 8.0,
                   9.0, 10.0, 11.0, 12.0,
                   0.0, 0.0, 0.0, 0.0]),
        // Two right and one up: only the top-left 2×2 block, from rows 1–2, columns 0–1.
        ((2, -1), [0.0, 0.0, 5.0, 6.0,
                   0.0, 0.0, 9.0, 10.0,
                   0.0, 0.0, 0.0, 0.0]),
        // Three left and two down: the top-right pixel lands in the bottom-left corner.
        ((-3, 2), [0.0, 0.0, 0.0, 0.0,
                   0.0, 0.0, 0.0, 0.0,
                   4.0, 0.0, 0.0, 0.0]),
    ];
    for ((dx, dy), want) in cases {
        assert_eq!(shifted(&image, 4, 3, dx, dy), want, "shift ({dx}, {dy})");
    }
}

#[test]
fn a_shift_off_the_frame_leaves_nothing() {
    let image = numbered();
    for (dx, dy) in [(4, 0), (-4, 0), (0, 3), (0, -3), (10, -10)] {
        assert_eq!(shifted(&image, 4, 3, dx, dy), [0.0; 12], "({dx}, {dy})");
    }
}

#[test]
fn a_shift_of_zero_is_the_identity() {
    let mut rng = Rng::new(3);
    for (w, h) in [(1, 1), (4, 3), (28, 28), (5, 9)] {
        let image: Vec<f64> = (0..w * h).map(|_| rng.next_f64()).collect();
        assert_eq!(shifted(&image, w, h, 0, 0), image);
    }
}

/// A `size × size` image with random ink everywhere but a border `margin` pixels wide.
/// Pixel values are multiples of 1/256, so sums of them are exact.
fn inked_inside(size: usize, margin: usize, rng: &mut Rng) -> Vec<f64> {
    let mut image = vec![0.0; size * size];
    for y in margin..size - margin {
        for x in margin..size - margin {
            image[y * size + x] = (1 + rng.below(255)) as f64 / 256.0;
        }
    }
    image
}

#[test]
fn ink_is_conserved_while_it_stays_in_the_frame() {
    // With a blank border of 3 pixels, every shift of up to 3 keeps all the ink: the same
    // total, the same multiset of pixel values; and shifting back restores the image.
    let mut rng = Rng::new(7);
    for _ in 0..5 {
        let image = inked_inside(12, 3, &mut rng);
        let total: f64 = image.iter().sum();
        let mut sorted = image.clone();
        sorted.sort_by(f64::total_cmp);
        for dx in -3..=3 {
            for dy in -3..=3 {
                let moved = shifted(&image, 12, 12, dx, dy);
                assert_eq!(moved.iter().sum::<f64>(), total, "({dx}, {dy})");
                let mut moved_sorted = moved.clone();
                moved_sorted.sort_by(f64::total_cmp);
                assert_eq!(moved_sorted, sorted, "({dx}, {dy})");
                assert_eq!(
                    shifted(&moved, 12, 12, -dx, -dy),
                    image,
                    "({dx}, {dy}) back"
                );
            }
        }
        // One pixel further and a column of ink falls out of the frame.
        let moved = shifted(&image, 12, 12, 4, 0);
        assert!(moved.iter().sum::<f64>() < total);
    }
}

#[test]
fn random_shifts_stay_in_range_and_reach_every_offset() {
    // Each image is black but for one pixel at the centre (5, 5) of an 11×11 frame: where
    // that pixel lands tells the shift that was drawn.
    let (size, k) = (11usize, 2isize);
    let mut batch = Matrix::<f32>::zeros(900, size * size);
    for r in 0..batch.rows() {
        batch.row_mut(r)[5 * size + 5] = 1.0;
    }
    let mut rng = Rng::new(1);
    random_shifts(&mut batch, size, size, k as usize, &mut rng);
    let mut seen = vec![0usize; 25];
    for row in batch.row_iter() {
        let lit: Vec<usize> = (0..row.len()).filter(|&i| row[i] == 1.0).collect();
        assert_eq!(lit.len(), 1, "the pixel stays in the frame, exactly once");
        assert_eq!(row.iter().sum::<f32>(), 1.0, "and nothing else is lit");
        let (dx, dy) = ((lit[0] % size) as isize - 5, (lit[0] / size) as isize - 5);
        assert!(dx.abs() <= k && dy.abs() <= k, "({dx}, {dy})");
        seen[((dy + k) * 5 + dx + k) as usize] += 1;
    }
    // 900 draws over 25 equally likely offsets: 36 each on average; each count is
    // Binomial(900, 1/25) with standard deviation 5.9, so 10 to 62 is beyond 4.4 sigma.
    for (i, &count) in seen.iter().enumerate() {
        assert!(
            (10..=62).contains(&count),
            "offset {i}: {count} of 900: {seen:?}"
        );
    }
}

/// `n` 6×6 images of two classes: a bright 2×2 square in the top-left or the bottom-right
/// quarter, with noise, as a `Dataset`.
fn squares(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut pixels = Vec::with_capacity(n * 36);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 2) as u8;
        let corner = if class == 0 { 1 } else { 3 };
        for y in 0..6 {
            for x in 0..6 {
                let ink = (corner..corner + 2).contains(&x) && (corner..corner + 2).contains(&y);
                pixels.push(if ink { 200 } else { rng.below(40) as u8 });
            }
        }
        labels.push(class);
    }
    Dataset::new(Images::new(pixels, 6, 6).unwrap(), labels, 2).unwrap()
}

fn train_on(data: &Dataset, shift: usize, seed: u64, batch: Batch) -> Network {
    let mut net = Network::builder(36)
        .hidden(8, Activation::Relu)
        .output(2)
        .seed(1)
        .build();
    let config = TrainConfig {
        epochs: 3,
        batch,
        learning_rate: 0.05,
        shift,
        seed,
        ..TrainConfig::default()
    };
    net.fit_with(data, None, &config, |_| {}).unwrap();
    net
}

#[test]
fn training_with_shifts_is_reproducible_and_changes_the_result() {
    let data = squares(120, 5);
    for batch in [Batch::Size(16), Batch::Full] {
        let a = train_on(&data, 1, 9, batch);
        let b = train_on(&data, 1, 9, batch);
        assert!(a == b, "{batch:?}: same seed, same network, bit for bit");
        assert!(
            a != train_on(&data, 1, 10, batch),
            "{batch:?}: another seed, other shifts"
        );
        assert!(
            a != train_on(&data, 0, 9, batch),
            "{batch:?}: the shifts change what is learnt"
        );
    }
}

#[test]
fn turning_shifts_on_keeps_the_shuffle_order() {
    // On blank images a shift changes nothing, so if the batches are the same, so is the
    // network: the shifts draw from their own stream, not the shuffling one.
    let blank = Dataset::new(
        Images::new(vec![0; 40 * 36], 6, 6).unwrap(),
        (0..40).map(|i| (i % 3 == 0) as u8).collect(),
        2,
    )
    .unwrap();
    let plain = train_on(&blank, 0, 4, Batch::Size(8));
    let shifted = train_on(&blank, 2, 4, Batch::Size(8));
    assert!(plain == shifted);
}

#[test]
#[should_panic(expected = "bad TrainConfig: shift: needs training images of known image shape")]
fn shifting_samples_that_are_not_images_is_refused() {
    let x = Matrix::<f32>::zeros(4, 9);
    let mut net = Network::builder(9).output(2).build();
    let config = TrainConfig {
        shift: 1,
        ..TrainConfig::default()
    };
    net.fit(&x, &[0, 1, 0, 1], &config).unwrap();
}

#[test]
fn validate_for_checks_the_shift_against_the_images() {
    let x = Matrix::<f64>::zeros(4, 12);
    let labels = [0, 1, 0, 1];
    let rows = MatrixSamples::new(&x, &labels);
    let images = rows.with_image_shape(4, 3);
    let config = |shift| TrainConfig {
        shift,
        ..TrainConfig::default()
    };
    assert!(config(0).validate_for(&rows, None).is_ok());
    assert!(config(1).validate_for(&rows, None).is_err());
    assert!(config(2).validate_for(&images, None).is_ok());
    let err = config(3).validate_for(&images, None).unwrap_err();
    assert!(
        err.to_string().contains("out of the frame (at most 2)"),
        "{err}"
    );
}

#[test]
#[should_panic(expected = "4×4 images do not fill rows of 12 columns")]
fn an_image_shape_must_fill_the_row() {
    let x = Matrix::<f32>::zeros(2, 12);
    let _ = MatrixSamples::new(&x, &[0, 1]).with_image_shape(4, 4);
}

/// The same bilinear warp, written from the formula with `f64::sin_cos`.
fn warp_reference(image: &[f64], w: usize, h: usize, warp: Warp) -> Vec<f64> {
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let at = |x: f64, y: f64| -> f64 {
        if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
            0.0
        } else {
            image[y as usize * w + x as usize]
        }
    };
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            // Inverse map: undo the move, the scaling, then turn back by −angle.
            let (qx, qy) = (
                (x as f64 - cx - warp.dx) / warp.scale,
                (y as f64 - cy - warp.dy) / warp.scale,
            );
            let (s, c) = (-warp.angle).sin_cos();
            let (sx, sy) = (c * qx - s * qy + cx, s * qx + c * qy + cy);
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            out[y * w + x] = at(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + at(x0 + 1.0, y0) * fx * (1.0 - fy)
                + at(x0, y0 + 1.0) * (1.0 - fx) * fy
                + at(x0 + 1.0, y0 + 1.0) * fx * fy;
        }
    }
    out
}

/// A round blob of ink centred at `(x, y)`.
fn blob(w: usize, h: usize, x: f64, y: f64) -> Vec<f64> {
    (0..w * h)
        .map(|i| {
            let (px, py) = ((i % w) as f64, (i / w) as f64);
            (-((px - x).powi(2) + (py - y).powi(2)) / 4.0).exp()
        })
        .collect()
}

/// The centre of mass of an image.
fn centroid(image: &[f64], w: usize) -> (f64, f64) {
    let mass: f64 = image.iter().sum();
    let x = image
        .iter()
        .enumerate()
        .map(|(i, p)| p * (i % w) as f64)
        .sum::<f64>()
        / mass;
    let y = image
        .iter()
        .enumerate()
        .map(|(i, p)| p * (i / w) as f64)
        .sum::<f64>()
        / mass;
    (x, y)
}

#[test]
fn whole_pixel_warps_are_exactly_shifts() {
    let image = numbered();
    for (dx, dy) in [(0, 0), (1, 0), (-2, 1), (3, -2)] {
        let warp = Warp {
            angle: 0.0,
            scale: 1.0,
            dx: dx as f64,
            dy: dy as f64,
        };
        let mut out = vec![0.0; 12];
        warp_image(&image, 4, 3, warp, &mut out);
        assert_eq!(out, shifted(&image, 4, 3, dx, dy), "({dx}, {dy})");
    }
}

#[test]
fn a_half_pixel_move_averages_neighbours() {
    let image = numbered();
    let warp = Warp {
        angle: 0.0,
        scale: 1.0,
        dx: 0.5,
        dy: 0.0,
    };
    let mut out = vec![0.0; 12];
    warp_image(&image, 4, 3, warp, &mut out);
    // Output x takes the value at x − 0.5: half of pixel x − 1 and half of pixel x.
    assert_eq!(&out[..4], &[0.5, 1.5, 2.5, 3.5]);
}

#[test]
fn warps_match_a_reimplementation_with_the_c_library_trigonometry() {
    let mut rng = Rng::new(3);
    let image: Vec<f64> = (0..28 * 28).map(|_| rng.next_f64()).collect();
    for _ in 0..50 {
        let warp = Warp {
            angle: rng.uniform(-45.0, 45.0).to_radians(),
            scale: rng.uniform(0.6, 1.4),
            dx: rng.uniform(-3.0, 3.0),
            dy: rng.uniform(-3.0, 3.0),
        };
        let mut out = vec![0.0; 28 * 28];
        warp_image(&image, 28, 28, warp, &mut out);
        let reference = warp_reference(&image, 28, 28, warp);
        for (a, b) in out.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-9, "{warp:?}: {a} vs {b}");
        }
    }
}

#[test]
fn a_rotation_turns_ink_about_the_centre_and_a_scaling_moves_it_outwards() {
    let (w, h) = (29, 29); // centre (14, 14)
    let image = blob(w, h, 20.0, 14.0); // 6 pixels right of the centre
    let mut out = vec![0.0; w * h];
    let angle = 30f64.to_radians();
    warp_image(
        &image,
        w,
        h,
        Warp {
            angle,
            scale: 1.0,
            dx: 0.0,
            dy: 0.0,
        },
        &mut out,
    );
    let (x, y) = centroid(&out, w);
    // Clockwise on screen, where y grows downwards: the blob moves down.
    let (ex, ey) = (14.0 + 6.0 * angle.cos(), 14.0 + 6.0 * angle.sin());
    assert!(
        (x - ex).abs() < 0.05 && (y - ey).abs() < 0.05,
        "({x}, {y}) vs ({ex}, {ey})"
    );
    warp_image(
        &image,
        w,
        h,
        Warp {
            angle: 0.0,
            scale: 1.2,
            dx: 0.0,
            dy: 0.0,
        },
        &mut out,
    );
    let (x, y) = centroid(&out, w);
    assert!(
        (x - (14.0 + 1.2 * 6.0)).abs() < 0.05 && (y - 14.0).abs() < 1e-9,
        "({x}, {y})"
    );
}

#[test]
fn warps_need_images_and_sensible_limits() {
    let x = Matrix::<f32>::zeros(4, 9);
    let labels = [0, 1, 0, 1];
    let rows = MatrixSamples::new(&x, &labels);
    let rotate = TrainConfig {
        rotation: 10.0,
        ..TrainConfig::default()
    };
    let e = rotate.validate_for(&rows, None).unwrap_err();
    assert_eq!(e.setting, simplenn::train::Setting::Rotation);
    assert!(e.to_string().contains("image shape"), "{e}");
    assert!(
        rotate
            .validate_for(&rows.with_image_shape(3, 3), None)
            .is_ok()
    );
    let too_far = TrainConfig {
        rotation: 50.0,
        ..TrainConfig::default()
    };
    assert!(too_far.validate().unwrap_err().to_string().contains("45"));
    let too_big = TrainConfig {
        scale: 0.5,
        ..TrainConfig::default()
    };
    assert!(
        too_big
            .validate()
            .unwrap_err()
            .to_string()
            .contains("scale")
    );
}

/// 28×28 images of bytes with ink on the given pixels.
fn inked(pixels: &[&[(usize, usize)]]) -> Images {
    let mut bytes = vec![0u8; pixels.len() * 784];
    for (n, ink) in pixels.iter().enumerate() {
        for &(x, y) in *ink {
            bytes[n * 784 + y * 28 + x] = 200;
        }
    }
    Images::new(bytes, 28, 28).unwrap()
}

#[test]
fn safe_warps_keep_ink_in_the_frame() {
    // Ink within 11 pixels of the centre (13.5, 13.5) survives 15° and ±15% anywhere.
    let small: &[(usize, usize)] = &[(5, 13), (22, 14), (13, 4), (14, 23)];
    assert_eq!(safe_warp(&inked(&[small]), 15.0, 0.15), (15.0, 0.15));
    // Ink in a corner leaves the frame at the slightest turn or enlargement.
    let corner: &[(usize, usize)] = &[(0, 0), (13, 13)];
    assert_eq!(safe_warp(&inked(&[corner]), 15.0, 0.15), (0.0, 0.0));
    // Ink one pixel from the edge in the middle of a side, 12.5 from the centre: scaling by
    // s moves it to 12.5·s, which stays within 13.5 up to s = 1.08, and turning it moves
    // it along the side, so the safe amount is about 0.08/0.15 of (15°, ±15%).
    let edge: &[(usize, usize)] = &[(26, 13), (26, 14)];
    let (degrees, scale) = safe_warp(&inked(&[edge]), 15.0, 0.15);
    assert!(
        (0.45..0.56).contains(&(scale / 0.15)),
        "{degrees}°, {scale}"
    );
    assert!(
        (degrees / 15.0 - scale / 0.15).abs() < 1e-12,
        "in proportion"
    );
    // The decision is by the majority of images; blank images always fit.
    assert_eq!(
        safe_warp(&inked(&[small, corner, &[]]), 15.0, 0.15),
        (15.0, 0.15)
    );
    assert_eq!(
        safe_warp(&inked(&[corner, corner, small]), 15.0, 0.15),
        (0.0, 0.0)
    );
}

/// A zero field is no elastic distortion at all, and a constant one moves the whole image:
/// a field of (1, 0) makes every output pixel read its right-hand neighbour, the image
/// moved one pixel left.
#[test]
fn an_elastic_field_moves_each_source_point_by_its_displacement() {
    use simplenn::augment::{Warp, distort_image, shift_image, warp_image};
    let image: Vec<f32> = (0..35).map(|i| (i * 7 % 11) as f32).collect();
    let warp = Warp {
        angle: 0.1,
        scale: 1.05,
        dx: 1.0,
        dy: -1.0,
    };
    let (mut plain, mut zero) = (vec![0.0; 35], vec![0.0; 35]);
    warp_image(&image, 7, 5, warp, &mut plain);
    distort_image(&image, (7, 5), warp, Some(&[0.0; 70]), &mut zero);
    assert_eq!(plain, zero);
    let still = Warp {
        angle: 0.0,
        scale: 1.0,
        dx: 0.0,
        dy: 0.0,
    };
    let right: Vec<f64> = (0..70)
        .map(|i| if i % 2 == 0 { 1.0 } else { 0.0 })
        .collect();
    let (mut moved, mut shifted) = (vec![0.0; 35], vec![0.0; 35]);
    distort_image(&image, (7, 5), still, Some(&right), &mut moved);
    shift_image(&image, 7, 5, -1, 0, &mut shifted);
    assert_eq!(moved, shifted);
}

/// The smoothed field's spread against its closed form: away from the edges each
/// component is `α·Σ wᵢ wⱼ uᵢⱼ` with `u` uniform in `[−1, 1]` (variance 1/3), so its
/// variance is `α²/3·(Σ w²)²` for the 1-D weights `w`.
#[test]
fn an_elastic_fields_spread_is_its_closed_form() {
    use simplenn::augment::{Elastic, elastic_field};
    let (width, height) = (29, 29);
    let elastic = Elastic {
        alpha: 34.0,
        sigma: 4.0,
    };
    // The 1-D weights as the field uses them: a Gaussian cut at 3σ, summing to 1.
    let w: Vec<f64> = (-12..=12)
        .map(|k: i32| (-(k * k) as f64 / 32.0).exp())
        .collect();
    let total: f64 = w.iter().sum();
    let sum_sq: f64 = w.iter().map(|v| (v / total).powi(2)).sum();
    let want = elastic.alpha * elastic.alpha / 3.0 * sum_sq * sum_sq;
    let mut rng = Rng::new(11);
    let (mut field, mut sum, mut sum_sq_values, mut n) = (Vec::new(), 0.0, 0.0, 0.0);
    for _ in 0..2000 {
        let noise: Vec<f64> = (0..2 * width * height)
            .map(|_| rng.uniform(-1.0, 1.0))
            .collect();
        elastic_field(&noise, (width, height), elastic, &mut field);
        let centre = 2 * (14 * width + 14);
        for v in [field[centre], field[centre + 1]] {
            (sum, sum_sq_values, n) = (sum + v, sum_sq_values + v * v, n + 1.0);
        }
    }
    let var = sum_sq_values / n - (sum / n).powi(2);
    assert!(
        (var / want - 1.0).abs() < 0.05,
        "variance {var}, closed form {want}"
    );
    // No field at all with α = 0.
    let noise = vec![0.5; 2 * width * height];
    elastic_field(
        &noise,
        (width, height),
        Elastic {
            alpha: 0.0,
            sigma: 4.0,
        },
        &mut field,
    );
    assert!(field.iter().all(|&v| v == 0.0));
}

#[test]
fn elastic_distortion_needs_images_and_sensible_settings() {
    use simplenn::augment::Elastic;
    let x = Matrix::<f32>::zeros(4, 9);
    let labels = [0, 1, 0, 1];
    let rows = MatrixSamples::new(&x, &labels);
    let config = TrainConfig {
        elastic: Some(Elastic {
            alpha: 34.0,
            sigma: 4.0,
        }),
        ..TrainConfig::default()
    };
    let e = config.validate_for(&rows, None).unwrap_err();
    assert_eq!(e.setting, simplenn::train::Setting::Elastic);
    assert!(
        config
            .validate_for(&rows.with_image_shape(3, 3), None)
            .is_ok()
    );
    for (alpha, sigma) in [
        (-1.0, 4.0),
        (101.0, 4.0),
        (34.0, 0.0),
        (34.0, 11.0),
        (f64::NAN, 4.0),
    ] {
        let bad = TrainConfig {
            elastic: Some(Elastic { alpha, sigma }),
            ..TrainConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().setting,
            simplenn::train::Setting::Elastic
        );
    }
}
