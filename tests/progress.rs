//! Tests of [`simplenn::progress`]: the formatting helpers, the rendered line (proportions,
//! separators, ETA, width), and the drawing rules (nothing off a terminal, rate-limited on
//! one, cleared at the end), through a captured writer.

use simplenn::progress::{Progress, format_count, format_duration};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn quiet(total: u64, label: &str) -> Progress {
    Progress::with_target(total, label, Box::new(io::sink()), false)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// The characters between `[` and `]`.
fn bar_of(line: &str) -> &str {
    let open = line.find('[').unwrap();
    let close = line.find(']').unwrap();
    &line[open + 1..close]
}

#[test]
fn counts_have_thousands_separators() {
    let cases = [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1_000, "1,000"),
        (10_000, "10,000"),
        (60_000, "60,000"),
        (123_456, "123,456"),
        (1_234_567, "1,234,567"),
        (u64::MAX, "18,446,744,073,709,551,615"),
    ];
    for (n, want) in cases {
        assert_eq!(format_count(n), want);
    }
}

#[test]
fn durations_are_minutes_and_seconds_or_hours() {
    let cases = [
        (0.0, "0:00"),
        (0.4, "0:00"),
        (3.2, "0:03"),
        (59.4, "0:59"),
        (59.6, "1:00"),
        (62.0, "1:02"),
        (599.0, "9:59"),
        (3599.4, "59:59"),
        (3600.0, "1:00:00"),
        (3723.0, "1:02:03"),
        (360_000.0, "100:00:00"),
    ];
    for (s, want) in cases {
        assert_eq!(format_duration(s), want, "{s} s");
    }
    for s in [f64::NAN, f64::INFINITY, -1.0] {
        assert_eq!(format_duration(s), "-:--", "{s}");
    }
}

#[test]
fn bar_is_empty_half_and_full() {
    let mut p = quiet(1000, "epoch 1/3");
    let empty = p.render(secs(0.0), 80);
    assert!(bar_of(&empty).chars().all(|c| c == ' '), "{empty}");
    assert!(empty.contains("    0/1,000    0%"), "{empty}");

    p.inc(500);
    let half = p.render(secs(1.0), 80);
    let bar = bar_of(&half);
    let width = bar.chars().count();
    let hashes = bar.chars().filter(|&c| c == '#').count();
    assert_eq!(hashes, width / 2, "{half}");
    assert_eq!(bar.chars().nth(hashes), Some('>'), "{half}");
    assert!(half.contains("  500/1,000   50%"), "{half}");

    p.inc(500);
    let full = p.render(secs(2.0), 80);
    assert!(bar_of(&full).chars().all(|c| c == '#'), "{full}");
    assert_eq!(
        bar_of(&full).chars().count(),
        width,
        "the bar keeps its width"
    );
    assert!(full.contains("1,000/1,000  100%"), "{full}");
    assert!(full.ends_with("ETA 0:00"), "{full}");

    // Overshooting the total is clamped, not a panic or a 110% bar.
    p.inc(100);
    let over = p.render(secs(2.0), 80);
    assert!(
        over.contains("100%") && bar_of(&over).chars().all(|c| c == '#'),
        "{over}"
    );
}

#[test]
fn bar_rounds_down_so_it_is_full_only_at_the_end() {
    let mut p = quiet(1000, "");
    p.inc(999);
    let line = p.render(secs(1.0), 80);
    assert!(bar_of(&line).contains('>'), "{line}");
    assert!(line.contains(" 99%"), "{line}");
}

#[test]
fn renders_the_documented_line() {
    let mut p = quiet(10_000, "epoch 3/10");
    p.inc(3_200);
    let line = p.render(secs(0.25), 80);
    assert_eq!(
        line,
        "epoch 3/10 [#######>              ]   3,200/10,000   32%  12,800 img/s  ETA 0:01"
    );
    assert_eq!(line.chars().count(), 80);
}

#[test]
fn rate_and_eta() {
    let mut p = quiet(10_000, "x");
    // Nothing known yet.
    let start = p.render(secs(0.0), 80);
    assert!(start.contains("- img/s  ETA -:--"), "{start}");
    p.inc(1_000);
    let line = p.render(secs(1.0), 80);
    assert!(line.contains("1,000 img/s  ETA 0:09"), "{line}");
    // Slow work gets a decimal; long work an hour field.
    let line = p.render(secs(400.0), 80);
    assert!(line.contains("2.5 img/s  ETA 1:00:00"), "{line}");
    let mut fast = quiet(1_000_000, "x");
    fast.inc(12_345);
    let line = fast.render(secs(1.0), 80);
    assert!(line.contains("12,345 img/s  ETA 1:20"), "{line}");
}

#[test]
fn fits_the_width_and_shortens_the_message_first() {
    let mut p = quiet(60_000, "epoch 10/10");
    p.inc(12_345);
    p.set_message("loss 0.2345");
    let line = p.render(secs(2.0), 100);
    assert!(line.ends_with("  loss 0.2345"), "{line}");

    p.set_message("a very long message that will certainly not fit into eighty columns");
    for width in [80, 76] {
        let line = p.render(secs(2.0), width);
        assert_eq!(line.chars().count(), width, "{line}");
        assert!(line.contains('…'), "message cut with an ellipsis: {line}");
        assert_eq!(
            bar_of(&line).chars().count(),
            10,
            "the bar stays usable: {line}"
        );
        assert!(
            line.contains("12,345/60,000   20%  6,173 img/s  ETA 0:08"),
            "{line}"
        );
    }
    // Narrower still: the message goes, then the rate, but the ETA stays.
    let line = p.render(secs(2.0), 72);
    assert_eq!(
        line,
        "epoch 10/10 [##>       ]  12,345/60,000   20%  6,173 img/s  ETA 0:08"
    );
    let line = p.render(secs(2.0), 60);
    assert_eq!(
        line,
        "epoch 10/10 [##>       ]  12,345/60,000   20%  ETA 0:08"
    );
    // Narrower than the numbers alone: cut, never wider.
    for width in [0, 10, 30, 45] {
        assert!(p.render(secs(2.0), width).chars().count() <= width);
    }
    // A short line does not stretch the bar past 30 characters.
    let mut short = quiet(10, "");
    short.inc(5);
    let line = short.render(secs(1.0), 200);
    assert_eq!(bar_of(&line).chars().count(), 30, "{line}");
}

#[test]
fn zero_total_is_complete() {
    let p = quiet(0, "empty");
    let line = p.render(secs(1.0), 80);
    assert!(line.contains("0/0  100%"), "{line}");
    assert!(bar_of(&line).chars().all(|c| c == '#'));
}

#[test]
fn draws_nothing_when_not_a_terminal() {
    let out = Capture::default();
    let mut p = Progress::with_target(100, "x", Box::new(out.clone()), false);
    for _ in 0..100 {
        p.inc(1);
    }
    p.set_message("hello");
    p.finish();
    drop(p);
    assert_eq!(out.text(), "");
}

#[test]
fn on_a_terminal_redraws_in_place_at_most_ten_times_a_second() {
    let out = Capture::default();
    let start = Instant::now();
    let mut p = Progress::with_target(100_000, "epoch 1/1", Box::new(out.clone()), true);
    for _ in 0..99_999 {
        p.inc(1);
    }
    let elapsed = start.elapsed();
    let text = out.text();
    let frames = text.matches('\r').count();
    // The first increment draws; later ones only every 100 ms.
    let allowed = 1 + (elapsed.as_millis() / 100) as usize;
    assert!(
        frames >= 1 && frames <= allowed,
        "{frames} frames in {elapsed:?}"
    );
    assert!(text.starts_with("\repoch 1/1 ["), "{text:?}");
    assert!(
        text.ends_with("\x1b[K"),
        "each frame clears the rest of the line"
    );
    assert!(!text.contains('\n'), "a bar never scrolls the terminal");

    // Reaching the total always draws, so the last frame shows 100%.
    p.inc(1);
    let text = out.text();
    let last = text.rsplit('\r').next().unwrap();
    assert!(last.contains("100,000/100,000  100%"), "{last:?}");

    // Finishing clears the line, once.
    p.finish();
    p.finish();
    drop(p);
    assert!(out.text().ends_with("\r\x1b[K"));
    assert_eq!(out.text().matches("\r\x1b[K").count(), 1);
}

#[test]
fn message_is_drawn_and_drop_clears() {
    let out = Capture::default();
    {
        let mut p = Progress::with_target(10, "x", Box::new(out.clone()), true);
        p.inc(1);
        std::thread::sleep(Duration::from_millis(110));
        p.set_message("loss 0.1234");
        assert!(out.text().contains("loss 0.1234"), "{:?}", out.text());
        // Dropped without finish: an early return must not leave a bar behind.
    }
    assert!(out.text().ends_with("\r\x1b[K"));
}

#[test]
fn finishing_before_any_frame_writes_nothing() {
    let out = Capture::default();
    let mut p = Progress::with_target(10, "x", Box::new(out.clone()), true);
    p.finish();
    assert_eq!(out.text(), "");
    assert_eq!(p.done(), 0);
}

#[test]
fn no_rate_from_the_first_instants() {
    let mut p = quiet(60_000, "x");
    p.inc(100);
    let line = p.render(Duration::from_micros(5), 80);
    assert!(line.contains("- img/s  ETA -:--"), "{line}");
}
