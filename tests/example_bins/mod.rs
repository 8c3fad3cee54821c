//! Where the test files that run the examples (`cli.rs`, `serve.rs`) find them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Builds the examples once (a no-op when they are fresh) and returns the folder they are in.
pub fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("running cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
        // target/debug/deps/cli-HASH → target/debug/examples
        let mut dir = std::env::current_exe().unwrap();
        dir.pop();
        if dir.ends_with("deps") {
            dir.pop();
        }
        dir.join("examples")
    })
}
