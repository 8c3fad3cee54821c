//! Writing a file so that a crash never leaves half of it: the bytes go to a temporary file
//! beside the target, are synced to the disk, and the temporary file is renamed over the
//! target. [`save`](super::save) writes models this way, and the training checkpoints
//! borrow it. The book's chapter "The model file format" explains each step.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

// ANCHOR: save
/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (temp, mut file) = create_temp_beside(path)?;
    let written = (|| {
        file.write_all(bytes)?;
        file.flush()?;
        // The data must be on the disk *before* the rename makes it the model: otherwise a
        // crash could leave the new name pointing at a file whose blocks were never written.
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp); // best effort: the error that matters is `written`
        return written;
    }
    // Make the rename itself durable. Best effort, and Unix only: the model is already in
    // place, so failing here must not report the save as failed.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Creates `.NAME.tmp-PID-N` in `path`'s directory, a name no other save is using:
/// `create_new` fails rather than reuse a file, and a stale one left by a crash is skipped.
fn create_temp_beside(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let mut attempts = 0;
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let temp = path.with_file_name(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: save
