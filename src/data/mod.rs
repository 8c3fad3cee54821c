//! Data: labelled samples, MNIST's IDX files and Kaggle's CSV (and the gzip and CRC-32 they
//! arrive in), read and checked, and the augmentation that distorts training images.

pub mod augment;
pub mod crc32;
pub mod csv;
pub mod dataset;
pub mod gzip;
pub mod idx;
pub mod samples;
