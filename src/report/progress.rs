//! [`Progress`]: a one-line progress bar for the training loop, drawn only on a terminal.
//!
//! ```text
//! epoch 3/10 [#######>              ]   3,200/10,000   32%  12,345 img/s  ETA 0:01
//! ```
//!
//! It fits the terminal's width (80 columns unless `COLUMNS` says otherwise) and is redrawn
//! at most ten times a second, however often [`Progress::inc`] is called. When stderr is not
//! a terminal, a bar redrawn with `\r` would leave partial lines in the log, so nothing is
//! drawn and the caller prints one line per epoch instead.
//!
//! ```
//! use simplenn::progress::Progress;
//!
//! let mut bar = Progress::new(60_000, "epoch 1/10");
//! for _batch in 0..600 {
//!     // ... train on 100 images ...
//!     bar.inc(100);
//! }
//! bar.finish(); // clears the line, ready for the caller's summary
//! ```
//!
//! The drawing is a pure function of the counts and the elapsed time, [`Progress::render`],
//! so it can be tested without a terminal or a clock.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// The shortest time between two redraws: ten frames a second looks live, and costs nothing.
const REDRAW_INTERVAL: Duration = Duration::from_millis(100);

/// How long the bar must have run before it shows a rate and an ETA.
const MIN_RATE_SECONDS: f64 = 0.1;

/// The bar never grows wider than this, so the numbers stay near the label.
const MAX_BAR_WIDTH: usize = 30;

/// The bar never shrinks narrower than this; below it the message is cut instead.
const MIN_BAR_WIDTH: usize = 10;

/// A progress bar over `total` units of work (images, for the training loop).
pub struct Progress {
    label: String,
    message: String,
    total: u64,
    done: u64,
    start: Instant,
    last_draw: Option<Instant>,
    target: Box<dyn Write + Send>,
    draw: bool,
    width: usize,
    finished: bool,
}

impl Progress {
    /// A bar for `total` units that draws to stderr if stderr is a terminal, and otherwise
    /// draws nothing.
    ///
    /// The width is taken from the `COLUMNS` environment variable when it is set, and is 80
    /// otherwise: the standard library has no portable way to ask the terminal its size,
    /// and 80 columns fit every terminal people train in.
    pub fn new(total: u64, label: &str) -> Self {
        let stderr = io::stderr();
        let is_terminal = stderr.is_terminal();
        Self::with_target(total, label, Box::new(stderr), is_terminal)
    }

    /// A bar that draws to `target`, but only if `is_terminal` is true; tests pass a buffer.
    pub fn with_target(
        total: u64,
        label: &str,
        target: Box<dyn Write + Send>,
        is_terminal: bool,
    ) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .filter(|&w: &usize| w >= 20)
            .unwrap_or(80);
        Progress {
            label: label.to_string(),
            message: String::new(),
            total,
            done: 0,
            start: Instant::now(),
            last_draw: None,
            target,
            draw: is_terminal,
            width,
            finished: false,
        }
    }

    /// Records `n` more units done, and redraws if the last frame is more than a tenth of a
    /// second old, or if the work is now complete (so the last frame shows 100%).
    pub fn inc(&mut self, n: u64) {
        self.done = self.done.saturating_add(n);
        self.maybe_draw();
    }

    /// Shows `msg` after the numbers (the running loss, say). The next redraw shows it.
    pub fn set_message(&mut self, msg: &str) {
        self.message = msg.to_string();
        self.maybe_draw();
    }

    /// How many units are done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Erases the bar, leaving the cursor at the start of an empty line for whatever the
    /// caller prints next. Called by `Drop` too, so an early return leaves no half-drawn bar.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.draw && self.last_draw.is_some() {
            // `\r` returns to column 0; `ESC [ K` (ECMA-48 "erase in line") clears to its end.
            let _ = self.target.write_all(b"\r\x1b[K");
            let _ = self.target.flush();
        }
    }

    fn maybe_draw(&mut self) {
        if !self.draw || self.finished {
            return;
        }
        let now = Instant::now();
        let due = self
            .last_draw
            .is_none_or(|last| now.duration_since(last) >= REDRAW_INTERVAL);
        if due || self.done >= self.total {
            self.last_draw = Some(now);
            let line = self.render(now.duration_since(self.start), self.width);
            // A progress bar must never stop training: errors writing it are ignored.
            let _ = write!(self.target, "\r{line}\x1b[K");
            let _ = self.target.flush();
        }
    }

    /// The bar as it would be drawn after `elapsed`, at most `width` characters wide.
    ///
    /// The label, counts, percentage, rate and ETA are laid out first and the bar gets the
    /// room left over (between 10 and 30 characters). When space is short the message is
    /// shortened or dropped first, then the rate, and as a last resort the line is cut at
    /// `width`. The rate and ETA read `-` until a tenth of a second has passed and some work
    /// is done.
    ///
    /// ```
    /// use simplenn::progress::Progress;
    /// use std::time::Duration;
    ///
    /// let mut bar = Progress::with_target(10_000, "epoch 3/10", Box::new(std::io::sink()), false);
    /// bar.inc(3_200);
    /// assert_eq!(
    ///     bar.render(Duration::from_millis(250), 80),
    ///     "epoch 3/10 [#######>              ]   3,200/10,000   32%  12,800 img/s  ETA 0:01"
    /// );
    /// ```
    pub fn render(&self, elapsed: Duration, width: usize) -> String {
        let fraction = if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        };
        let seconds = elapsed.as_secs_f64();
        // Below a tenth of a second the rate is noise (the first frame is drawn at the first
        // `inc`, when almost no time has passed), so it is shown as unknown.
        let rate = if seconds >= MIN_RATE_SECONDS && self.done > 0 {
            self.done as f64 / seconds
        } else {
            0.0
        };
        let rate_text = if rate == 0.0 {
            "- img/s".to_string()
        } else if rate < 10.0 {
            format!("{rate:.1} img/s")
        } else {
            format!("{} img/s", format_count(rate.round() as u64))
        };
        let eta = if rate > 0.0 {
            format_duration(self.total.saturating_sub(self.done) as f64 / rate)
        } else {
            "-:--".to_string()
        };
        // Right-align the count and percentage to their final widths, so the numbers stand
        // still as they grow instead of shuffling the line one column at a time.
        let total_text = format_count(self.total);
        let counts = format!(
            "  {:>w$}/{total_text}  {:>3}%",
            format_count(self.done),
            (fraction * 100.0).floor() as u32,
            w = total_text.len(),
        );
        let eta = format!("  ETA {eta}");
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!("{} ", self.label)
        };
        let len = |s: &str| s.chars().count();
        // Label, brackets, counts and ETA always; the rate if a minimal bar leaves room.
        let core = len(&label) + 2 + len(&counts) + len(&eta);
        let mut rate = format!("  {rate_text}");
        if core + len(&rate) + MIN_BAR_WIDTH > width {
            rate.clear();
        }
        let fixed = core + len(&rate);
        let mut message = if self.message.is_empty() {
            String::new()
        } else {
            format!("  {}", self.message)
        };
        let room = width.saturating_sub(fixed + len(&message));
        let bar_width = if room >= MIN_BAR_WIDTH {
            room.min(MAX_BAR_WIDTH)
        } else {
            // Shorten the message to keep a usable bar; drop it if too little would be left.
            let keep = width.saturating_sub(fixed + MIN_BAR_WIDTH);
            message = if keep > 6 {
                message.chars().take(keep - 1).chain(['…']).collect()
            } else {
                String::new()
            };
            MIN_BAR_WIDTH
        };
        let numbers = format!("{counts}{rate}{eta}");

        let line = format!("{label}[{}]{numbers}{message}", bar(fraction, bar_width));
        line.chars().take(width).collect()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `width` characters: `#` for the part done, `>` at its edge, spaces for the rest.
fn bar(fraction: f64, width: usize) -> String {
    // Round down, so the bar is full only when the work is.
    let filled = ((fraction * width as f64).floor() as usize).min(width);
    let mut s = "#".repeat(filled);
    if filled < width {
        s.push(if filled > 0 { '>' } else { ' ' });
        s.push_str(&" ".repeat(width - filled - 1));
    }
    s
}

/// A duration as `m:ss` below an hour and `h:mm:ss` above, rounded to the second; `-:--`
/// for a negative or non-finite number (an ETA that cannot be estimated yet).
///
/// ```
/// use simplenn::progress::format_duration;
/// assert_eq!(format_duration(3.2), "0:03");
/// assert_eq!(format_duration(62.0), "1:02");
/// assert_eq!(format_duration(3723.0), "1:02:03");
/// assert_eq!(format_duration(f64::NAN), "-:--");
/// ```
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-:--".to_string();
    }
    let total = seconds.round() as u64; // saturates for absurd values
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A count with commas between groups of three digits, so that 60000 and 6000 are told
/// apart at a glance.
///
/// ```
/// use simplenn::progress::format_count;
/// assert_eq!(format_count(10_000), "10,000");
/// assert_eq!(format_count(999), "999");
/// assert_eq!(format_count(1_234_567), "1,234,567");
/// ```
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
