"""Do the chapters' claims about trained models hold on every seed and CPU?

    .venv/bin/python benchmarks/claims_robustness.py [--seeds 10] [notebooks/NN_name.ipynb ...]
        [--write book/claims_robustness.md]

A chapter that trains states its claims with `attn_lib.claims.claim(...)` (for example
"alignment accuracy >= 0.9"). This script retrains every such chapter (each notebook
whose code calls `claim(`; all of them by default) once per training seed and per
numerics setting, by executing a copy of the notebook in which every
`keras.utils.set_random_seed(0)` becomes `set_random_seed(seed)`:

- "this CPU": the numerics the notebooks were executed with;
- "SSE4.1": oneDNN held to SSE4.1 kernels (`PERTURBED_ENV` in scripts/run_notebooks.py),
  as scripts/test.sh's second nbval pass does, which changes every training trajectory.

Every claim is logged (attn_lib.claims writes to $ATTN_LIB_CLAIMS_LOG) and the script
prints one row per claim: the bound the chapter asserts, min / median / max of the
measured value over all runs, and how many runs pass. Errors that are not claims (an
ordinary `assert`, a crash) are listed after the table. With --write it also writes the
table as a Markdown page that the instructor's guide includes.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import PERTURBED_ENV, chapters, execute_node  # noqa: E402

SEED_CALL = re.compile(r"set_random_seed\(\s*0\s*\)")
NUMERICS = {"this CPU": {}, "SSE4.1": PERTURBED_ENV}


def trains(path):
    nb = nbformat.read(path, as_version=4)
    return any("claim(" in cell.source for cell in nb.cells if cell.cell_type == "code")


def run_once(path, seed, env):
    """Execute a reseeded copy of `path`; return (claims, other errors, seconds)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = SEED_CALL.sub(f"set_random_seed({seed})", cell.source)
    with tempfile.TemporaryDirectory() as folder:
        log = pathlib.Path(folder) / "claims.jsonl"
        log.touch()
        nb, seconds = execute_node(nb, path.parent, {**env, "ATTN_LIB_CLAIMS_LOG": str(log)},
                                   allow_errors=True)
        claims = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [f"{output.ename}: {output.evalue}"[:200]
              for cell in nb.cells if cell.cell_type == "code"
              for output in cell.get("outputs", [])
              if output.output_type == "error" and "claim fails" not in output.evalue]
    return claims, errors, seconds


def bound_text(row):
    parts = [f">= {row['at_least']:g}" if "at_least" in row else "",
             f"<= {row['at_most']:g}" if "at_most" in row else ""]
    return " and ".join(p for p in parts if p)


def table(results):
    """Markdown rows: chapter, claim, bound, min / median / max, runs that pass."""
    lines = ["| chapter | claim | asserted | min | median | max | runs that pass |",
             "|---|---|---|---|---|---|---|"]
    for (chapter, name), rows in results.items():
        values = [r["value"] for r in rows]
        passing = sum(r["holds"] for r in rows)
        lines.append(f"| {chapter} | {name} | {bound_text(rows[0])} | {min(values):.3f} | "
                     f"{statistics.median(values):.3f} | {max(values):.3f} | "
                     f"{passing} of {len(rows)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--write", type=pathlib.Path, help="also write the table here")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or [p for p in chapters() if trains(p)]
    results, problems, start = {}, [], time.perf_counter()
    for path in paths:
        chapter = path.stem.split("_")[0]
        for numerics, env in NUMERICS.items():
            for seed in range(args.seeds):
                claims, errors, seconds = run_once(path, seed, env)
                print(f"{path.stem} seed {seed} ({numerics}): {seconds:.0f} s, "
                      f"{sum(c['holds'] for c in claims)}/{len(claims)} claims hold"
                      + (f", {len(errors)} other errors" if errors else ""), flush=True)
                for row in claims:
                    results.setdefault((chapter, row["claim"]), []).append(row)
                problems += [f"{path.stem} seed {seed} ({numerics}): {e}" for e in errors]
    runs = args.seeds * len(NUMERICS)
    heading = (f"Measured on {datetime.date.today():%Y-%m-%d}, {platform.machine()}, "
               f"{os.cpu_count()} cores, Python {platform.python_version()}: "
               f"{args.seeds} training seeds × {len(NUMERICS)} numerics "
               f"({', '.join(NUMERICS)}) = {runs} runs per chapter, "
               f"{time.perf_counter() - start:.0f} s in all.")
    text = heading + "\n\n" + table(results) + "\n"
    if problems:
        text += "\nErrors that are not claims:\n\n" + "\n".join(f"- {p}" for p in problems)
    print("\n" + text)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    failing = any(not all(r["holds"] for r in rows) for rows in results.values())
    sys.exit(1 if failing or problems else 0)


if __name__ == "__main__":
    main()
