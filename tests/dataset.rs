//! Loading data sets: folders of IDX files (raw and gzip), Kaggle CSV, the consistency checks
//! between files, and the byte-to-float conversion of mini-batches. With `SIMPLENN_DATA_DIR`
//! set, also the real MNIST and Fashion-MNIST files, checked against the facts published
//! with them (counts, class counts).

use simplenn::dataset::{self, CsvData, Dataset, Images};
use simplenn::samples::Inputs;
use simplenn::{ErrorKind, Matrix, gzip, idx};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh, empty temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simplenn-dataset-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Three 2×2 images and their labels, written as IDX files (gzip'd or not) into `dir`.
fn write_tiny_set(dir: &Path, prefix: &str, compressed: bool, labels: &[u8]) {
    let n = labels.len();
    let pixels: Vec<u8> = (0..n * 4).map(|i| (i * 20) as u8).collect();
    let images = idx::to_bytes(&[n, 2, 2], &pixels);
    let labels = idx::to_bytes(&[n], labels);
    let (images, labels, ext) = if compressed {
        (
            gzip::compress_stored(&images),
            gzip::compress_stored(&labels),
            ".gz",
        )
    } else {
        (images, labels, "")
    };
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), images).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), labels).unwrap();
}

#[test]
fn loads_a_folder_raw_or_gzip_with_and_without_test_files() {
    for compressed in [false, true] {
        let dir = temp_dir(&format!("folder-{compressed}"));
        write_tiny_set(&dir, "train", compressed, &[3, 1, 4]);
        let loaded = dataset::load_dir(&dir, 10).unwrap();
        assert_eq!(loaded.train.len(), 3);
        assert_eq!(loaded.train.labels(), &[3, 1, 4]);
        assert_eq!(loaded.train.images().image(1), &[80, 100, 120, 140]);
        assert!(loaded.test.is_none());

        write_tiny_set(&dir, "t10k", compressed, &[9, 0]);
        let loaded = dataset::load_dir(&dir, 10).unwrap();
        assert_eq!(loaded.test.unwrap().labels(), &[9, 0]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn folder_errors_name_the_file_and_the_problem() {
    let dir = temp_dir("errors");
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");

    // A label out of range.
    write_tiny_set(&dir, "train", false, &[3, 10, 4]);
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(err.contains("train-labels-idx1-ubyte"), "{err}");
    assert!(
        err.contains("label 10 of image 1 is out of range for 10 classes"),
        "{err}"
    );

    // Counts that disagree.
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        idx::to_bytes(&[2], &[1, 2]),
    )
    .unwrap();
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(
        err.contains("3 images") && err.contains("2 labels"),
        "{err}"
    );

    // Labels where images should be.
    std::fs::write(
        dir.join("train-images-idx3-ubyte"),
        idx::to_bytes(&[2], &[1, 2]),
    )
    .unwrap();
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(
        err.contains("train-images-idx3-ubyte") && err.contains("dimensions"),
        "{err}"
    );

    // A gzip file cut short: the error is gzip's, with an offset, naming the file.
    write_tiny_set(&dir, "train", true, &[1, 2, 3]);
    let path = dir.join("train-images-idx3-ubyte.gz");
    std::fs::remove_file(dir.join("train-images-idx3-ubyte")).unwrap();
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte")).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let err = dataset::load_dir(&dir, 10).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Gzip(_)), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(err.to_string().contains("offset"), "{err}");

    // An IDX error inside a valid gzip names an offset of the decompressed data.
    let mut bad = idx::to_bytes(&[3, 2, 2], &[0; 12]);
    bad[2] = 0x0D; // f32 elements
    std::fs::write(&path, gzip::compress_stored(&bad)).unwrap();
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(err.contains("decompressed"), "{err}");

    // A test set without its labels.
    write_tiny_set(&dir, "train", false, &[1, 2, 3]);
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte.gz")).unwrap();
    write_tiny_set(&dir, "t10k", false, &[1]);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    let err = dataset::load_dir(&dir, 10).unwrap_err().to_string();
    assert!(err.contains("t10k-labels-idx1-ubyte"), "{err}");

    let err = dataset::load_dir(&dir.join("nope"), 10)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loads_labelled_and_unlabelled_csv() {
    let dir = temp_dir("csv");
    let header: Vec<String> = (0..4).map(|i| format!("pixel{i}")).collect();
    let labelled = format!("label,{}\n7,0,255,3,4\n2,1,1,1,1\n", header.join(","));
    let path = dir.join("train.csv");
    std::fs::write(&path, labelled).unwrap();
    match dataset::load_csv(&path, 10).unwrap() {
        CsvData::Labelled(d) => {
            assert_eq!(d.labels(), &[7, 2]);
            assert_eq!(d.images().image(0), &[0, 255, 3, 4]);
            assert_eq!((d.images().width(), d.images().height()), (2, 2));
        }
        other => panic!("{other:?}"),
    }
    let unlabelled = format!("{}\n0,255,3,4\n", header.join(","));
    std::fs::write(&path, unlabelled).unwrap();
    assert!(
        matches!(dataset::load_csv(&path, 10).unwrap(), CsvData::Unlabelled(i) if i.len() == 1)
    );

    // Not a square image.
    std::fs::write(&path, "label,a,b,c\n1,2,3,4\n").unwrap();
    let err = dataset::load_csv(&path, 10).unwrap_err().to_string();
    assert!(err.contains("train.csv") && err.contains("square"), "{err}");
    // A label beyond the classes.
    std::fs::write(&path, "label,a,b,c,d\n12,2,3,4,5\n").unwrap();
    let err = dataset::load_csv(&path, 10).unwrap_err().to_string();
    assert!(err.contains("label 12"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batches_are_bytes_scaled_to_unit_interval() {
    let images = Images::new((0..=255).chain(0..=255).collect(), 16, 16).unwrap();
    let data = Dataset::new(images, vec![1, 0], 2).unwrap();
    let mut x: Matrix<f32> = Matrix::zeros(0, 0);
    data.gather(&[1, 0], &mut x);
    assert_eq!(x.shape(), (2, 256));
    for (i, &v) in x.row(0).iter().enumerate() {
        assert!((v - i as f32 / 255.0).abs() <= f32::EPSILON, "{i}: {v}");
    }
    assert_eq!(x[(0, 0)], 0.0);
    assert_eq!(x[(0, 255)], 1.0);
    assert_eq!(data.label(0), 1);
    let all: Matrix<f64> = data.images().to_matrix();
    assert_eq!(all.shape(), (2, 256));
    assert_eq!(all[(1, 51)], 0.2);
}

#[test]
fn split_is_seeded_disjoint_complete_and_keeps_order() {
    let n = 1000;
    // Image i holds its own index in two pixels, so every sample can be traced.
    let pixels: Vec<u8> = (0..n)
        .flat_map(|i| [(i / 256) as u8, (i % 256) as u8])
        .collect();
    let images = Images::new(pixels, 2, 1).unwrap();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let data = Dataset::new(images, labels, 10).unwrap();
    let index = |d: &Dataset, k: usize| {
        let p = d.images().image(k);
        p[0] as usize * 256 + p[1] as usize
    };
    let (train, val) = data.clone().split(0.1, 7);
    assert_eq!((train.len(), val.len()), (900, 100));
    let (train2, val2) = data.clone().split(0.1, 7);
    assert!(train == train2 && val == val2, "same seed, same split");
    let (_, val3) = data.clone().split(0.1, 8);
    assert!(val != val3, "another seed, another split");

    // Every sample is in exactly one part, with its own label, in the original order.
    let mut seen = vec![0; n];
    for part in [&train, &val] {
        let indices: Vec<usize> = (0..part.len()).map(|k| index(part, k)).collect();
        assert!(indices.windows(2).all(|w| w[0] < w[1]), "order not kept");
        for (k, &i) in indices.iter().enumerate() {
            seen[i] += 1;
            assert_eq!(
                part.labels()[k] as usize,
                i % 10,
                "label moved without its image"
            );
        }
    }
    assert!(seen.iter().all(|&c| c == 1), "not a partition");
    assert_eq!(data.clone().split(0.0, 1).1.len(), 0);
    assert_eq!(data.split(1.0, 1).0.len(), 0);
}

#[test]
fn dataset_rejects_inconsistent_pieces() {
    let images = Images::new(vec![0; 8], 2, 2).unwrap();
    assert!(Dataset::new(images.clone(), vec![1], 10).is_err());
    assert!(Dataset::new(images, vec![1, 10], 10).is_err());
    assert!(Images::new(vec![0; 7], 2, 2).is_err());
    assert!(Images::new(vec![], 0, 2).is_err());
}

// -------------------------------------------------------------------------------------
// Real data
// -------------------------------------------------------------------------------------

fn shared(sub: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os("SIMPLENN_DATA_DIR") {
        Some(dir) => Some(Path::new(&dir).join(sub)),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: SIMPLENN_DATA_DIR is not set (point it at a folder holding mnist-10k/ and fashion-mnist/: see the book's \"Getting the data\")"
            );
            None
        }
    }
}

#[test]
fn real_mnist_10k_loads_with_its_published_class_counts() {
    let Some(dir) = shared(
        "mnist-10k",
        "real_mnist_10k_loads_with_its_published_class_counts",
    ) else {
        return;
    };
    let loaded = dataset::load_dir(&dir, 10).unwrap();
    assert_eq!(loaded.train.len(), 10_000);
    assert_eq!(
        loaded.train.class_counts(),
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    let test = loaded.test.unwrap();
    assert_eq!(test.len(), 10_000);
    // The official test set's class counts (LeCun et al.).
    assert_eq!(
        test.class_counts(),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!((test.images().width(), test.images().height()), (28, 28));

    // train.csv holds the same digits: two parsers, two formats, one answer.
    match dataset::load_csv(&dir.join("train.csv"), 10).unwrap() {
        CsvData::Labelled(csv) => assert!(csv == loaded.train, "CSV and IDX disagree"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_built_in_data_is_the_shared_training_set() {
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-10k");
    let loaded = dataset::load_dir(&builtin, 10).unwrap();
    assert_eq!(loaded.train.len(), 10_000);
    assert!(loaded.test.is_none(), "the test set must not be committed");
    assert_eq!(
        loaded.train.class_counts(),
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
}

#[test]
fn real_fashion_mnist_loads() {
    let Some(dir) = shared("fashion-mnist", "real_fashion_mnist_loads") else {
        return;
    };
    let loaded = dataset::load_dir(&dir, 10).unwrap();
    assert_eq!(loaded.train.len(), 60_000);
    // Fashion-MNIST is balanced: 6,000 and 1,000 of each class.
    assert_eq!(loaded.train.class_counts(), [6000; 10]);
    assert_eq!(loaded.test.unwrap().class_counts(), [1000; 10]);
}
