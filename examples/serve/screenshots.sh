#!/usr/bin/env bash
# Takes the screenshots of the book's chapter "Watching it think" with headless Chromium
# (Debian's `chromium`), the same way the browser test drives the page:
#
#     examples/serve/screenshots.sh [OUT_DIR]      # default: book/src/figures/serve
#
# 1. mlp-seven.png: the quick model `serve` trains when given no --model, reading the "7"
#    the page's ?selftest mode draws with its own drawing code;
# 2. cnn-seven.png and cnn-mistake.png: a small CNN (trained here on the built-in digits,
#    4 epochs), reading the same "7", and showing the first digit it gets wrong;
# 3. learning.png: `serve --train` five seconds into training a new MLP from scratch.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-book/src/figures/serve}
mkdir -p "$out" target
command -v chromium >/dev/null || { echo "error: needs chromium (apt-get install chromium)" >&2; exit 1; }
cargo build --release --quiet --example serve --example train
bin=${CARGO_TARGET_DIR:-target}/release/examples
if [ ! -f target/serve-cnn.snn ]; then
    "$bin/train" --arch conv5:16,pool2,conv5:32,pool2,dense128 --epochs 4 --save target/serve-cnn.snn >/dev/null
fi

shoot() { # URL FILE [WIDTH,HEIGHT]
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size="${3:-1400,1050}" \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --virtual-time-budget=20000 --screenshot="$2" "$1" 2>/dev/null
    echo "wrote $2"
}

serve() { # ARGS...: starts serve, sets $url and $pid
    log=$(mktemp)
    "$bin/serve" --port 0 --quiet "$@" >"$log" &
    pid=$!
    for _ in $(seq 1 300); do grep -q '^serving on' "$log" && break; sleep 0.1; done
    url=$(sed -n 's/^serving on //p' "$log")
    [ -n "$url" ] || { echo "error: serve did not start" >&2; kill $pid; exit 1; }
}

serve
shoot "$url/?selftest" "$out/mlp-seven.png"
kill $pid

serve --model target/serve-cnn.snn
shoot "$url/?selftest" "$out/cnn-seven.png"
shoot "$url/?mistake=1" "$out/cnn-mistake.png"
kill $pid

serve --train
sleep 5
shoot "$url/?selftest" "$out/learning.png" 1400,1300
kill $pid
