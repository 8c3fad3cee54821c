//! Where the test files that run the examples (`cli.rs`, `serve.rs`) find them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Builds the examples once (a no-op when they are fresh) and returns the folder they are in.
///
/// They are built in the profile this test binary was built in, into its target folder, so
/// that `cargo test --release` runs release examples built from the same source, not stale
/// or missing ones from another profile.
pub fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let build = Build::of_this_test();
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "--examples",
                "--profile",
                &build.profile,
            ])
            .arg("--target-dir")
            .arg(&build.target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if let Some(triple) = &build.triple {
            cargo.args(["--target", triple]);
        }
        let status = cargo.status().expect("running cargo build --examples");
        assert!(
            status.success(),
            "cargo build --examples --profile {} failed",
            build.profile
        );
        build.profile_dir.join("examples")
    })
}

/// How this test binary was built, read from where it is: `TARGET/[TRIPLE/]FOLDER/deps/NAME`.
struct Build {
    /// The target folder (`target`, or what `--target-dir` or `CARGO_TARGET_DIR` named).
    target_dir: PathBuf,
    /// The target triple, when the tests were built with `--target`.
    triple: Option<String>,
    /// `TARGET/[TRIPLE/]FOLDER`, where the profile's binaries are.
    profile_dir: PathBuf,
    /// The profile: the folder's name, except that the `dev` profile's folder is `debug`.
    profile: String,
}

impl Build {
    fn of_this_test() -> Build {
        let exe = std::env::current_exe().expect("the test binary's path");
        let deps = exe.parent().expect("the test binary's folder");
        assert!(
            deps.ends_with("deps"),
            "expected the test binary in a deps folder, it is {}",
            exe.display()
        );
        let profile_dir = deps.parent().expect("the profile's folder").to_path_buf();
        let folder = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("the profile folder's name");
        let profile = match folder {
            "debug" => "dev",
            name => name,
        }
        .to_string();
        // Cargo gives integration tests `TARGET/tmp`, wherever the target folder is.
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target folder")
            .to_path_buf();
        let above = profile_dir
            .parent()
            .expect("the folder above the profile's");
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        let triple = (!same(above, &target_dir)).then(|| {
            above
                .file_name()
                .and_then(|n| n.to_str())
                .expect("the target triple's folder name")
                .to_string()
        });
        Build {
            target_dir,
            triple,
            profile_dir,
            profile,
        }
    }
}
