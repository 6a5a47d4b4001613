#!/usr/bin/env python3
"""The quality benchmark: both methods on every shared table, scored by tab-score.

    bench/quality/run.py [--quick] [--force] [--tables adult,magic] [--methods tabsyn,gan]
                         [--budgets vae=2m,diffusion=5m,gan=2m] [--bin DIR] [--score-threads N]
    bench/quality/run.py --rescore [--quick] [--tables ...] [--methods ...] [--bin DIR] [--score-threads N]

For each table and method it trains on the training split, samples as many rows, scores the
synthetic table against the training split (holdout: adult-test for adult, a fixed 10% split
for the others), and writes bench/RESULTS.md next to the published figures. Cells are
resumable: a finished cell (bench/out/quality/TABLE/METHOD/result.json) is skipped unless
--force. Each training stage runs the tool's default recipe with a wall-clock budget (--budgets;
the tools stop at the budget, keep the best epoch, and tab-diffuse's cosine schedule follows the
budget), so that the whole grid takes about an hour on 2 cores. --quick uses the first 2,000
rows and 30-second budgets (a check of the harness).
Every cell is scored with TabSyn's column types, bench/quality/types/TABLE.json (tab-score
--schema); a table without such a file is scored with the types tab-score infers. --rescore
runs only tab-score again (same command, same seed) on each finished cell's synthetic.csv,
updates the score in its result.json (the training seconds and memory are kept) and rewrites
RESULTS.md; nothing is trained.
Only the Python standard library; the tools come from this checkout's release build, or from
--bin DIR (default $TABPIPE_BIN), in which case nothing is built.
"""

import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
OUT = os.path.join(ROOT, "bench", "out", "quality")
TYPES = os.path.join(ROOT, "bench", "quality", "types")  # TABLE.json: TabSyn's column types, a tab-score --schema file

# name: (training file, holdout file or None for a 90/10 split, target column, task)
TABLES = {
    "adult": ("adult.csv.zst", "adult-test.csv", "income", "binary"),
    "default": ("default.csv.zst", None, "default payment next month", "binary"),
    "shoppers": ("shoppers.csv", None, "Revenue", "binary"),
    "magic": ("magic.csv", None, "class", "binary"),
    "beijing": ("beijing.csv", None, "pm2.5", "regression"),
}
SPLIT_SEED = 20261123  # the 90/10 split: random.Random(SPLIT_SEED).shuffle of the row indices

# Published figures (TabSyn, ICLR 2024, Tables 1-4 as transcribed in ../shared/research/tabsyn.md §5;
# marked there as not yet checked against the PDF). shape/trend in %, MLE AUC (RMSE for beijing).
PUBLISHED = {
    "TabSyn": {"shape": [0.58, 0.85, 1.43, 0.88, 1.12], "trend": [1.54, 2.05, 2.07, 1.06, 2.24],
               "alpha": [99.52, 99.26, 99.16, 99.38, 98.47], "beta": [47.56, 48.00, 48.95, 48.03, 59.15],
               "mle": [.915, .764, .920, .938, .582], "c2st": [.9986, .9870, .9740, None, None]},
    "TabDDPM": {"shape": [1.75, 1.57, 2.72, 1.01, 1.30], "trend": [3.01, 4.89, 6.61, 1.70, 2.71],
                "alpha": [96.36, 97.59, 88.55, 98.59, 97.93], "beta": [47.05, 47.83, 47.79, 48.46, 56.92],
                "mle": [.907, .758, .918, .935, .592], "c2st": [.9755, .9712, .8349, .9998, .9513]},
    "CTGAN": {"shape": [16.84, 16.83, 21.15, 9.81, 21.39], "trend": [20.23, 26.95, 13.08, 7.00, 22.95],
              "alpha": [77.74, 62.08, 76.97, 86.90, 96.27], "beta": [30.80, 18.22, 31.80, 11.75, 34.80],
              "mle": [.886, .696, .875, .855, .902], "c2st": [.5949, .4875, .7488, .6728, .7531]},
    "Real data": {"mle": [.927, .770, .926, .946, .423]},
}


def log(message):
    print(f"quality: {message}", file=sys.stderr, flush=True)


def read_table(name):
    path = os.path.join(SHARED, name)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout.decode()
    with open(path, encoding="utf-8") as f:
        return f.read()


def split_rows(text, quick):
    """Header line and data lines (the shared tables never quote newlines)."""
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    return header, rows


def prepare(table, quick, work):
    """Writes train.csv and holdout.csv for a table into work/; returns their paths."""
    train_file, holdout_file, _, _ = TABLES[table]
    header, rows = split_rows(read_table(train_file), quick)
    if holdout_file:
        _, holdout = split_rows(read_table(holdout_file), quick)
        train = rows
    else:
        order = list(range(len(rows)))
        random.Random(SPLIT_SEED).shuffle(order)
        cut = len(rows) // 10
        holdout_index = set(order[:cut])
        train = [r for i, r in enumerate(rows) if i not in holdout_index]
        holdout = [r for i, r in enumerate(rows) if i in holdout_index]
    if quick:
        # A seeded sample, not the first rows: some tables are sorted by their target (magic).
        train = random.Random(SPLIT_SEED).sample(train, min(2000, len(train)))
        holdout = random.Random(SPLIT_SEED + 1).sample(holdout, min(1000, len(holdout)))
    paths = {}
    for name, part in (("train", train), ("holdout", holdout)):
        paths[name] = os.path.join(work, f"{name}.csv")
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write(header + "\n" + "\n".join(part) + "\n")
    return paths, len(train)


class Stage:
    """Runs shell pipelines, timing each and keeping the peak resident memory (GNU time)."""

    def __init__(self, env):
        self.env = env
        self.seconds = {}
        self.peak_mib = 0.0

    def run(self, label, command):
        log(f"  {label}: {command}")
        stats = os.path.join(self.env["WORK"], f".{label}.time")
        start = time.monotonic()
        # Every process of the pipeline runs under GNU time; the largest peak is kept.
        wrapped = " | ".join(f"/usr/bin/time -a -o {stats} -f %M {part.strip()}" for part in command.split(" | "))
        subprocess.run(["bash", "-o", "pipefail", "-c", wrapped], check=True, env=self.env)
        self.seconds[label] = self.seconds.get(label, 0.0) + time.monotonic() - start
        with open(stats) as f:
            for line in f:
                if line.strip().isdigit():
                    self.peak_mib = max(self.peak_mib, int(line) / 1024)


DEFAULT_BUDGETS = "vae=2m,diffusion=5m,gan=2m"


def parse_budgets(text):
    budgets = dict(part.split("=", 1) for part in text.split(",") if part)
    unknown = set(budgets) - {"vae", "diffusion", "gan"}
    if unknown:
        raise SystemExit(f"--budgets: unknown stage(s) {', '.join(sorted(unknown))} (vae, diffusion, gan)")
    return budgets


def schema_file(table):
    """TabSyn's column types for a table (bench/quality/types/TABLE.json), or None: tab-score infers them."""
    path = os.path.join(TYPES, f"{table}.json")
    return path if os.path.exists(path) else None


def score_cell(table, work, env, seed, score_threads):
    """Scores work/synthetic.csv against work/train.csv (holdout work/holdout.csv); returns (score, types)."""
    w = work
    target = TABLES[table][2]
    schema = schema_file(table)
    schema_option = f"--schema {schema} " if schema else ""
    threads_option = f"--threads {score_threads} " if score_threads else ""
    subprocess.run(
        ["bash", "-c", f"tab-score -q --real {w}/train.csv --synthetic {w}/synthetic.csv --holdout {w}/holdout.csv "
         f"--target '{target}' --seed {seed} {schema_option}{threads_option}--json {w}/score.json --report {w}/report.html > {w}/score.txt"],
        check=True, env=env)
    with open(os.path.join(w, "score.json")) as f:
        score = json.load(f)
    return score, (os.path.relpath(schema, ROOT) if schema else "inferred")


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=1)
    os.replace(path + ".tmp", path)


def cell_dir(table, method, quick):
    return os.path.join(OUT, ("quick-" if quick else "") + table, method)


def run_cell(table, method, bin_dir, quick, force, seed, budgets, score_threads=None):
    work = cell_dir(table, method, quick)
    result_path = os.path.join(work, "result.json")
    budget = {stage: "30s" for stage in ("vae", "diffusion", "gan")} if quick else budgets
    used = {k: v for k, v in budget.items() if (k == "gan") == method.startswith("gan")}
    if os.path.exists(result_path) and not force:
        with open(result_path) as f:
            done = json.load(f)
        if done.get("budgets") == used:
            log(f"{table}/{method}: done before (use --force to redo)")
            return done
        log(f"{table}/{method}: done before with other budgets ({done.get('budgets', '8m each')}); redoing")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    paths, rows = prepare(table, quick, work)
    task = TABLES[table][3]
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"], WORK=work)
    stage = Stage(env)
    # Each training stage gets a wall-clock budget and the tool's default epochs (whichever ends first).
    extra = ""
    log(f"{table}/{method}: {rows} training rows")
    w = work
    if method == "tabsyn":
        stage.run("encode", f"tab-encode -q -o {w}/tokens.bin {paths['train']}")
        stage.run("train", f"tab-vae train -q -m {w}/vae.model --seed {seed} --max-time {budget['vae']} {extra} < {w}/tokens.bin")
        stage.run("train", f"tab-vae encode -m {w}/vae.model < {w}/tokens.bin > {w}/latents.bin")
        stage.run("train", f"tab-diffuse train -q -m {w}/diffusion.model --seed {seed} --max-time {budget['diffusion']} {extra} < {w}/latents.bin")
        stage.run("sample", f"tab-diffuse sample -q -m {w}/diffusion.model -n {rows} --seed {seed} | tab-vae decode -m {w}/vae.model | tab-decode -q -o {w}/synthetic.csv")
    elif method in ("gan", "gan-plain"):
        codes = "" if method == "gan" else "--codes none"
        stage.run("encode", f"tab-encode -q --numeric gmm --seed {seed} -o {w}/tokens.bin {paths['train']}")
        stage.run("train", f"tab-gan train -q -m {w}/gan.model --seed {seed} --max-time {budget['gan']} {codes} {extra} < {w}/tokens.bin")
        stage.run("sample", f"tab-gan sample -q -m {w}/gan.model -n {rows} --seed {seed} | tab-decode -q -o {w}/synthetic.csv")
    else:
        raise SystemExit(f"unknown method {method}")
    score, types = score_cell(table, w, env, seed, score_threads)
    result = {"table": table, "method": method, "rows": rows, "task": task, "budgets": used, "seconds": stage.seconds,
              "peak_mib": stage.peak_mib, "seed": seed, "types": types, "score": score}
    write_json(result_path, result)
    return result


def rescore_cell(table, method, bin_dir, quick, seed, score_threads):
    """Scores a finished cell's kept synthetic.csv again (no training); updates its result.json."""
    work = cell_dir(table, method, quick)
    result_path = os.path.join(work, "result.json")
    if not os.path.exists(result_path):
        return None
    with open(result_path) as f:
        result = json.load(f)
    missing = [name for name in ("train.csv", "holdout.csv", "synthetic.csv") if not os.path.exists(os.path.join(work, name))]
    if missing:
        log(f"{table}/{method}: cannot rescore, {', '.join(missing)} not kept; left as it was")
        return result
    seed = result.get("seed", result.get("score", {}).get("seed", seed))  # the seed the cell was made and scored with
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"], WORK=work)
    log(f"{table}/{method}: rescoring {os.path.relpath(work, ROOT)}/synthetic.csv (seed {seed})")
    old = {h["name"]: h["value"] for h in result.get("score", {}).get("headline", [])}
    result["score"], result["types"] = score_cell(table, work, env, seed, score_threads)
    result["seed"] = seed
    result["rescored"] = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())
    write_json(result_path, result)
    new = {h["name"]: h["value"] for h in result["score"].get("headline", [])}
    error = lambda v: "–" if not isinstance(v, (int, float)) else f"{(1 - v) * 100:.2f}"
    log(f"{table}/{method}: types {result['types']}; shape err % {error(old.get('shape'))} -> {error(new.get('shape'))}, "
        f"trend err % {error(old.get('trend'))} -> {error(new.get('trend'))}")
    return result


def figure(score, *keys):
    """score["a"]["b"]..., or None."""
    value = score
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def fmt(value, digits=2, scale=1.0):
    return "–" if value is None else f"{value * scale:.{digits}f}"


def write_results(results, quick):
    path = os.path.join(ROOT, "bench", "out", "RESULTS-quick.md") if quick else os.path.join(ROOT, "bench", "RESULTS.md")
    typed = sorted({r["table"] for r in results if r.get("types", "inferred") != "inferred"})
    inferred = sorted({r["table"] for r in results if r.get("types", "inferred") == "inferred"})
    if not inferred:
        types_note = ("Column types: TabSyn's fixed per-table types, as its evaluation uses them, given to tab-score with "
                      "`--schema bench/quality/types/<table>.json` (provenance in bench/README.md).")
    else:
        types_note = (f"Column types: the types tab-score infers for {', '.join(inferred)}"
                      + (f"; TabSyn's fixed per-table types (`--schema bench/quality/types/<table>.json`, provenance in "
                         f"bench/README.md) for {', '.join(typed)}" if typed else "") + ".")
    rescored = [r["rescored"] for r in results if r.get("rescored")]
    if rescored:
        types_note += (f" {len(rescored)} cells were rescored without retraining (`run.py --rescore`, latest {max(rescored)}); "
                       "their train/sample seconds and memory are from the original runs.")
    lines = ["# Quality benchmark", "",
             "Made by `bench/quality/run.py`" + (" --quick (2,000 training rows, short budgets; not comparable to papers)" if quick else "")
             + f" on {time.strftime('%Y-%m-%d')}. Each cell: train on the training split, sample as many rows, score with "
             "`tab-score` against the training split (holdout: adult-test for adult, a fixed 10% split for the others; "
             f"split seed {SPLIT_SEED}). Errors in %, lower is better; AUCs and rates higher is better unless noted.", "",
             f"Cells on this page: {len(results)} of {len(TABLES) * 3} (tables x methods tabsyn, gan, gan-plain); "
             f"1-minute load average when written: {os.getloadavg()[0]:.1f} (the seconds columns are only comparable on a quiet machine).", "",
             types_note, "",
             "| table | method | budgets | shape err % | trend err % | tree AUC | logistic C2ST | α-precision | β-recall | MLE synth / real | DCR share | train s | sample s | peak MiB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in results:
        s = r["score"]
        headline = {h["name"]: h["value"] for h in s.get("headline", [])}
        detectors = {d["detector"]: d for d in s.get("detection", [])}
        shape, trend = headline.get("shape"), headline.get("trend")
        utility = s.get("utility", {})
        lines.append("| " + " | ".join([
            r["table"], r["method"],
            " + ".join(f"{k} {v}" for k, v in r.get("budgets", {}).items()) or "8m each",
            fmt(None if shape is None else 1 - shape, 2, 100), fmt(None if trend is None else 1 - trend, 2, 100),
            fmt(figure(detectors, "xgboost", "auc"), 3), fmt(figure(detectors, "logistic", "score"), 3),
            fmt(figure(s, "quality", "alpha_precision"), 1, 100), fmt(figure(s, "quality", "beta_recall"), 1, 100),
            f"{fmt(utility.get('synthetic'), 3)} / {fmt(utility.get('real'), 3)} {utility.get('metric', '')}",
            fmt(figure(s, "privacy", "dcr_share"), 1, 100),
            fmt(r["seconds"].get("train", 0) + r["seconds"].get("encode", 0), 0), fmt(r["seconds"].get("sample"), 1),
            fmt(r["peak_mib"], 0)]) + " |")
    lines += ["", "## Published figures", "",
              "From ../shared/research/tabsyn.md §5 (TabSyn paper, ICLR 2024; transcribed, marked there as unchecked "
              "against the PDF). Order: adult, default, shoppers, magic, beijing. MLE is AUC, RMSE for beijing.", "",
              "| method | shape err % | trend err % | α-precision % | β-recall % | MLE | logistic C2ST |", "|---|---|---|---|---|---|---|"]
    for method, figures in PUBLISHED.items():
        cell = lambda key: " / ".join("–" if v is None else str(v) for v in figures.get(key, [])) or "–"
        lines.append(f"| {method} | {cell('shape')} | {cell('trend')} | {cell('alpha')} | {cell('beta')} | {cell('mle')} | {cell('c2st')} |")
    speed = os.path.join(ROOT, "bench", "out", "speed.md")
    if os.path.exists(speed):
        with open(speed) as f:
            lines += ["", f.read().replace("# Speed", "## Speed (bench/speed.sh)", 1)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    log(f"wrote {os.path.relpath(path, ROOT)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--methods", default="tabsyn,gan,gan-plain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budgets", default=DEFAULT_BUDGETS,
                        help=f"wall-clock budget per training stage (default {DEFAULT_BUDGETS})")
    parser.add_argument("--rescore", action="store_true",
                        help="run only tab-score again on every finished cell's synthetic.csv and rewrite RESULTS.md; no training")
    parser.add_argument("--bin", default=os.environ.get("TABPIPE_BIN"),
                        help="directory of the tab-* binaries (default $TABPIPE_BIN); without it the release build is made and used")
    parser.add_argument("--score-threads", type=int, help="tab-score --threads (default: tab-score's)")
    args = parser.parse_args()
    budgets = parse_budgets(args.budgets)
    if args.bin:
        bin_dir = os.path.abspath(args.bin)
    else:
        subprocess.run(["swift", "build", "-c", "release", "-q"], cwd=ROOT, check=True)
        bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.strip()
    if args.rescore:
        for table in args.tables.split(","):
            for method in args.methods.split(","):
                try:
                    rescore_cell(table, method, bin_dir, args.quick, args.seed, args.score_threads)
                except subprocess.CalledProcessError as error:
                    log(f"{table}/{method}: rescoring failed ({error}); its old score is kept")
        write_results(finished_cells(args.quick), args.quick)
        return
    for table in args.tables.split(","):
        for method in args.methods.split(","):
            try:
                run_cell(table, method, bin_dir, args.quick, args.force, args.seed, budgets, args.score_threads)
            except subprocess.CalledProcessError as error:
                log(f"{table}/{method}: failed ({error}); going on")
            write_results(finished_cells(args.quick), args.quick)


def finished_cells(quick):
    """Every cell of the grid with a result on disk (whatever run made it), in grid order."""
    results = []
    for table in TABLES:
        for method in ("tabsyn", "gan", "gan-plain"):
            path = os.path.join(OUT, ("quick-" if quick else "") + table, method, "result.json")
            if os.path.exists(path):
                with open(path) as f:
                    results.append(json.load(f))
    return results


if __name__ == "__main__":
    main()
