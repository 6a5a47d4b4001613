#!/bin/sh
# Quality of tab-gan (plain and with InfoGAN codes) against the ctgan package after the same
# epochs, from the models and samples bench/gan/speed.sh left in bench/out/gan. adult only (it
# has a held-out test split for machine-learning efficiency).
# Usage: bench/gan/compare.sh   (after bench/gan/speed.sh adult EPOCHS)
set -eu
cd "$(dirname "$0")/../.."
bin=${TABPIPE_BIN:-.build/release}
out=bench/out/gan
for codes in none cat:10,cont:2; do
  "$bin/tab-gan" sample -q -m "$out/adult-$codes.model" -n 10000 --seed 1 | "$bin/tab-decode" > "$out/adult-$codes.csv"
done
bench/.venv/bin/python bench/gan/quality.py "$out/adult.csv" ../shared/data/adult-test.csv income \
  "tab-gan (no codes)=$out/adult-none.csv" "tab-gan (cat:10,cont:2)=$out/adult-cat:10,cont:2.csv" \
  "ctgan $(bench/.venv/bin/python -c 'import ctgan; print(ctgan.__version__)')=$out/adult-ctgan.csv"
