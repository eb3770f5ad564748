"""How long does each chapter take to run top to bottom in a fresh kernel?

    .venv/bin/python benchmarks/notebook_times.py [notebooks/NN_name.ipynb ...]

Executes each notebook (every chapter by default) with scripts/run_notebooks.py's
`execute` (the same kernel, folder and BOOK_ENV), but leaves the files untouched,
and prints the wall-clock seconds next to the budget: 60 s, or 90 s for chapters
that train a model. Run it on an otherwise idle machine.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import chapters, execute  # noqa: E402

TRAINING_CHAPTERS = ("04_", "07_", "08_", "10_", "11_", "12_")


def main():
    paths = [pathlib.Path(p).resolve() for p in sys.argv[1:]] or chapters()
    print(f"{'notebook':<40} {'seconds':>8} {'budget':>7}  (load average "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    total = 0.0
    for path in paths:
        _, seconds = execute(path)
        total += seconds
        budget = 90 if path.name.startswith(TRAINING_CHAPTERS) else 60
        flag = "" if seconds < budget else "  OVER BUDGET"
        print(f"{path.stem:<40} {seconds:>8.1f} {budget:>7}{flag}")
    print(f"{'total':<40} {total:>8.1f}")


if __name__ == "__main__":
    main()
