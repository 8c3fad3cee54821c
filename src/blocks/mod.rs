//! The numeric building blocks: the matrix, its products, the random number generator and
//! the initial weights drawn from it. Nothing here knows about networks.

pub mod init;
pub mod matmul;
pub mod matrix;
pub mod rng;
