#!/usr/bin/env bash
# Issue #3's speed benchmark: one training step of each model in TabCore (bench/core, built as
# core-bench) against the same step in PyTorch (bench/torch_reference.py), on the same shapes,
# thread counts and dtype, in one run. Prints a table and writes bench/out/core-speed.md.
#
# Usage: bench/core-speed.sh [THREADS ...]      (default: 1 2)
# Environment: STEPS (timed steps per case; default per case), WAIT_FOR_QUIET (seconds to wait
# for a 1-minute load average below 0.8 before starting; default 120, 0 to skip).
set -euo pipefail

cd "$(dirname "$0")/.."
threads=("$@")
if [ $# -eq 0 ]; then threads=(1 2); fi
out=bench/out
mkdir -p "$out"
steps_args=()
if [ -n "${STEPS:-}" ]; then steps_args=(--steps "$STEPS"); fi

echo "== building core-bench (release)"
swift build -c release --scratch-path .build-corebench --product core-bench 2>&1 | tail -n 1

# The machine is shared: wait a while for other jobs to finish so both sides see a quiet machine.
wait_left=${WAIT_FOR_QUIET:-120}
while [ "$wait_left" -gt 0 ] && awk '{ exit !($1 >= 0.8) }' /proc/loadavg; do
  sleep 10
  wait_left=$((wait_left - 10))
done
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== uptime before: $(uptime)"

have_torch=0
if [ -x bench/.venv/bin/python ] && bench/.venv/bin/python -c 'import torch' 2>/dev/null; then
  have_torch=1
else
  echo "== PyTorch not available (bench/.venv with torch missing): printing ours only"
fi
# Each thread count runs both sides back to back, so that both see about the same machine load.
rm -f "$out"/core-bench-*.json "$out"/torch-core-speed-*.json
for t in "${threads[@]}"; do
  echo "== TabCore (core-bench), $t thread(s)"
  .build-corebench/release/core-bench --threads "$t" "${steps_args[@]}" \
    --json "$out/core-bench-$t.json"
  if [ "$have_torch" = 1 ]; then
    echo "== PyTorch (bench/torch_reference.py), $t thread(s)"
    bench/.venv/bin/python bench/torch_reference.py --threads "$t" \
      --cases mm denoiser vae ctgan "${steps_args[@]}" --json "$out/torch-core-speed-$t.json"
  fi
done
echo "== uptime after: $(uptime)"

# The table: ours, PyTorch's, and the ratio ours/PyTorch (below 1: we are faster).
python3 - "$out" "$out/core-speed.md" "$(uptime)" "${threads[@]}" <<'PY'
import json, os, sys

out, md_path, uptime = sys.argv[1:4]
ours, torch = {}, {}
for t in sys.argv[4:]:
    ours.update(json.load(open(f"{out}/core-bench-{t}.json"))["results"])
    path = f"{out}/torch-core-speed-{t}.json"
    if os.path.exists(path):
        torch.update(json.load(open(path))["results"])
torch = torch or None
goals = {"denoiser": "ours/torch <= 1, step >= 70% of bare sgemm",
         "vae": "ours/torch <= 0.33", "ctgan": "ours/torch <= 0.33"}
rows = []
for t in sorted(ours, key=int):
    for case in ("denoiser", "vae", "ctgan"):
        o = ours[t].get(case)
        if o is None:
            continue
        p = torch.get(t, {}).get(case) if torch else None
        ratio = o["ms_per_step"] / p["ms_per_step"] if p else None
        rows.append((case, t, o, p, ratio))

lines = ["| case | threads | ours ms/step | ours GFLOP/s | PyTorch ms/step | PyTorch GFLOP/s "
         "| ours/PyTorch | load (ours, torch) |",
         "|---|---|---|---|---|---|---|---|"]
for case, t, o, p, ratio in rows:
    lines.append(
        f"| {case} | {t} | {o['ms_per_step']:.2f} | {o['gflops']:.1f} | "
        + (f"{p['ms_per_step']:.2f} | {p['gflops']:.1f} | {ratio:.2f} | "
           f"{o['loadavg_1min_before']:.2f}, {p['loadavg_1min_before']:.2f} |" if p else
           f"n/a | n/a | n/a | {o['loadavg_1min_before']:.2f} |"))
lines.append("")
lines.append("| denoiser GEMMs | threads | bare gemm ms (15 products) | bare gemm GFLOP/s "
             "| our step, % of bare gemm | torch.mm GFLOP/s |")
lines.append("|---|---|---|---|---|---|")
for t in sorted(ours, key=int):
    o = ours[t].get("denoiser")
    if o is None:
        continue
    mm = torch.get(t, {}).get("mm") if torch else None
    lines.append(f"| | {t} | {o['gemm_ms']:.1f} | {o['gemm_gflops']:.1f} | "
                 f"{o['percent_of_gemm']:.1f}% | " + (f"{mm['gflops']:.1f} |" if mm else "n/a |"))
lines.append("")
lines.append("Goals (issue #3): " + "; ".join(f"{k}: {v}" for k, v in goals.items()) + ".")
lines.append("FLOPs: matrix products only, 2mnk each, backward 2x forward (as bench/torch-reference.md).")
if torch is None:
    lines.append("PyTorch was not available: ours only.")
lines.append(f"Machine after the run: `{uptime.strip()}` (shared with other sessions; "
             "the load average is printed with each case).")
table = "\n".join(lines)
print(table)
with open(md_path, "w") as f:
    f.write("# Numeric core speed (bench/core-speed.sh)\n\n" + table + "\n")
PY
echo "== wrote $out/core-speed.md"
