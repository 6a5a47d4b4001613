#!/bin/sh
# Renders tab-score's HTML report in headless Chromium and saves a screenshot, to look at it.
# Usage: bench/score/screenshot.sh [REPORT.html [OUT.png]]
# Without arguments: scores the committed beijing fixture pair (debug build) and shoots that.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out_dir="$root/bench/out"
mkdir -p "$out_dir"
report=${1:-}
png=${2:-$out_dir/score-report.png}
if [ -z "$report" ]; then
  report="$out_dir/score-report.html"
  fixtures="$root/Tests/TabScoreTests/Fixtures"
  (cd "$root" && swift build -q --product tab-score)
  bin=$(cd "$root" && swift build --show-bin-path)
  "$bin/tab-score" --real "$fixtures/adult-real.csv" --synthetic "$fixtures/adult-synthetic.csv" \
    --holdout "$fixtures/adult-holdout.csv" --target income --min shape=0.85 --min trend=0.9 \
    --max copies=0 --report "$report" -q || true
fi
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,2800 \
  --screenshot="$png" "file://$(readlink -f "$report")" 2>/dev/null
echo "$png"
