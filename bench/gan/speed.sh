#!/bin/sh
# Seconds per epoch of tab-gan against the ctgan package (PyPI), back to back: same table, same
# epochs, batch 500, pac 10, THREADS threads each. tab-gan runs plain (--codes none) and with
# its default InfoGAN codes. Wall time and CPU time (user + system) of the training loop; on a
# shared machine the CPU time is the steadier figure. With ROUNDS=n the three runs repeat n
# times, interleaved, and a last line gives the medians and ctgan's time over tab-gan's (a
# virtual machine's speed drifts by 10-20% over minutes: interleaving puts the drift on both).
# Usage: [CTGAN=0] [ROUNDS=1] bench/gan/speed.sh [TABLE] [EPOCHS] [THREADS]   (TABLE: a name in ../shared/data)
set -eu
cd "$(dirname "$0")/../.."
table=${1:-adult}
epochs=${2:-5}
threads=${3:-1}
rounds=${ROUNDS:-1}
bin=${TABPIPE_BIN:-.build/release}
out=bench/out/gan
mkdir -p "$out"
data=../shared/data
if [ -f "$data/$table.csv.zst" ]; then zstd -qdc "$data/$table.csv.zst" > "$out/$table.csv"; else cp "$data/$table.csv" "$out/$table.csv"; fi
"$bin/tab-encode" --numeric gmm "$out/$table.csv" -o "$out/$table.tok"
echo "# $table, $epochs epochs, batch 500, pac 10, $threads thread(s), $rounds round(s); $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
lines="$out/speed-lines.jsonl"
: > "$lines"
round=1
while [ "$round" -le "$rounds" ]; do
  for codes in none cat:10,cont:2; do
    rm -f "$out/$table-$codes.log"
    /usr/bin/time -f "%U %S %e" -o "$out/time.txt" "$bin/tab-gan" train -q --codes "$codes" \
      --epochs "$epochs" --threads "$threads" --log "$out/$table-$codes.log" -m "$out/$table-$codes.model" "$out/$table.tok"
    seconds=$(tail -n 1 "$out/$table-$codes.log" | sed 's/.*"seconds":\([0-9.e-]*\).*/\1/')
    # CPU time of the whole process (reading and encoding the stream included: an upper bound).
    cpu=$(awk '{print $1 + $2}' "$out/time.txt")
    awk -v codes="$codes" -v s="$seconds" -v c="$cpu" -v e="$epochs" 'BEGIN {
      printf "{\"tool\": \"tab-gan --codes %s\", \"s_per_epoch\": %.4f, \"cpu_s_per_epoch\": %.4f}\n", codes, s / e, c / e }' | tee -a "$lines"
  done
  # CTGAN=0 skips the ctgan run (its preprocessing alone takes about two minutes on adult).
  [ "${CTGAN:-1}" = 0 ] || bench/.venv/bin/python bench/gan/ctgan_fit.py "$out/$table.csv" --epochs "$epochs" --threads "$threads" \
    --out "$out/$table-ctgan.csv" --rows 10000 | tee -a "$lines"
  round=$((round + 1))
done
python3 - "$lines" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        record = json.loads(line)
        runs.setdefault(record["tool"].split(" ")[0] + (" " + record["tool"].split(" ")[-1] if "tab-gan" in record["tool"] else ""), []).append(record["s_per_epoch"])
medians = {tool: statistics.median(v) for tool, v in runs.items()}
ctgan = next((m for t, m in medians.items() if t.startswith("ctgan")), None)
parts = [f"{t}: {m:.3f} s/epoch" + (f" ({ctgan / m:.2f}x)" if ctgan and not t.startswith("ctgan") else "") for t, m in medians.items()]
print("# medians over " + str(max(len(v) for v in runs.values())) + " round(s): " + "; ".join(parts))
PY
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
