"""Execute chapters top to bottom in a fresh kernel and save them with their outputs.

    .venv/bin/python scripts/run_notebooks.py notebooks/03_scoring_functions.ipynb [...]
    .venv/bin/python scripts/run_notebooks.py --all

This is the one way notebooks are executed before they are committed, so every
chapter is run with the same environment as nbval uses in the tests: the
kernel of this Python, the notebook's folder as working directory, TensorFlow's
log noise off. It prints each notebook's wall-clock time. Widget state is not
stored (the website shows the pre-rendered frames of attn_lib.widgets instead,
and a partial widget state breaks GitHub's notebook viewer).
"""

import argparse
import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
             "PYTHONHASHSEED": "0", "CUDA_VISIBLE_DEVICES": "-1"}


def execute(path, timeout=600):
    """Run `path` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True, record_timing=False,
                            allow_errors=False)
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nbformat.write(nb, path)
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--all", action="store_true", help="every notebooks/*.ipynb")
    args = parser.parse_args()
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("name notebooks or pass --all")
    os.environ.update(QUIET_ENV)
    failed = False
    for path in paths:
        path = path.resolve()
        try:
            seconds = execute(path)
            print(f"{path.relative_to(ROOT)}: {seconds:.1f} s")
        except Exception as error:  # report and go on with the next notebook
            failed = True
            print(f"{path.relative_to(ROOT)}: FAILED: {type(error).__name__}: "
                  f"{str(error)[-2000:]}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
