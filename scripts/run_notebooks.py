"""Execute chapters top to bottom in a fresh kernel and save them with their outputs.

    .venv/bin/python scripts/run_notebooks.py notebooks/03_scoring_functions.ipynb [...]
    .venv/bin/python scripts/run_notebooks.py --all

This is the one way notebooks are executed before they are committed, so every
chapter is run with the same environment as nbval uses in the tests: the
kernel of this Python, the notebook's folder as working directory, TensorFlow's
log noise off and hashing fixed (`BOOK_ENV` of attn_lib/_env.py, which
scripts/test.sh exports too: `--book-env` prints it). Before it runs a chapter it
folds the chapter's solution and answer cells (`chapter_layout.collapse`). It prints each
notebook's wall-clock time. Widget state is not stored (the website shows the
pre-rendered frames of attn_lib.widgets instead, and a partial widget state
breaks GitHub's notebook viewer).

The benchmarks import `execute`, `chapters`, `BOOK_ENV` and `PERTURBED_ENV` from here.
"""

import argparse
import importlib.util
import os
import pathlib
import sys
import time

import nbformat
from chapter_layout import collapse
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_env_module():
    """attn_lib/_env.py by its path: `import attn_lib` would start TensorFlow here."""
    spec = importlib.util.spec_from_file_location("attn_lib_env", ROOT / "attn_lib" / "_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENV = _load_env_module()  # READER_ENV, BOOK_ENV and apply(env)
BOOK_ENV = ENV.BOOK_ENV
# Other numerics, as on a reader's CPU with other vector instructions: oneDNN (which
# TensorFlow's CPU matmuls call) is held to SSE4.1 kernels, which sum in another
# order than the AVX2 or AVX-512 kernels of any recent CPU. Trained weights then
# differ in their last digits, and training amplifies that. scripts/test.sh runs
# nbval a second time with these variables.
PERTURBED_ENV = {"ONEDNN_MAX_CPU_ISA": "SSE41"}


def execute(path, env=None, allow_errors=False, timeout=600):
    """Run the notebook at `path` in a fresh kernel; return (notebook, seconds).

    `env` adds variables to `BOOK_ENV` for the kernel. The file is not written.
    """
    nb = collapse(nbformat.read(path, as_version=4))
    return execute_node(nb, path.parent, env, allow_errors, timeout)


def execute_node(nb, folder, env=None, allow_errors=False, timeout=600):
    """Run the notebook object `nb` with `folder` as working directory, in place."""
    nb.metadata.pop("widgets", None)
    saved = dict(os.environ)
    os.environ.update({**BOOK_ENV, **(env or {})})
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}},
                                store_widget_state=True, record_timing=False,
                                allow_errors=allow_errors)
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    return nb, elapsed


def chapters():
    """Every chapter, notebooks/NN_name.ipynb, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--all", action="store_true", help="every notebooks/*.ipynb")
    parser.add_argument("--perturbed-env", action="store_true",
                        help="print PERTURBED_ENV as NAME=VALUE words (for `env`) and exit")
    parser.add_argument("--book-env", action="store_true",
                        help="print BOOK_ENV as NAME=VALUE words (for `export`) and exit")
    args = parser.parse_args()
    if args.book_env or args.perturbed_env:
        env = BOOK_ENV if args.book_env else PERTURBED_ENV
        print(" ".join(f"{name}={value}" for name, value in env.items()))
        return
    paths = chapters() if args.all else args.notebooks
    if not paths:
        parser.error("name notebooks or pass --all")
    failed = False
    for path in paths:
        path = path.resolve()
        try:
            nb, seconds = execute(path)
            nbformat.write(nb, path)
            print(f"{path.relative_to(ROOT)}: {seconds:.1f} s")
        except Exception as error:  # report and go on with the next notebook
            failed = True
            print(f"{path.relative_to(ROOT)}: FAILED: {type(error).__name__}: "
                  f"{str(error)[-2000:]}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
