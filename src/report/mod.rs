//! Reports: JSON, SVG charts and galleries, the progress bar, confusion matrices. They
//! depend on nothing else in the crate but the matrix and the float type.

pub mod confusion;
pub mod json;
pub mod plot;
pub mod progress;
