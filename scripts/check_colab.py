"""Run every chapter with another Python environment's kernel; report errors and stderr.

    .venv/bin/python scripts/check_colab.py --kernel-dir VENV/share/jupyter/kernels \
        --kernel-name NAME [--out DIR] [notebooks ...]

scripts/check_colab.sh builds that environment (Colab's versions, or the floor versions
of pyproject.toml) and calls this. Each chapter is copied into an empty temporary
folder and run there from top to bottom with nbclient, without the book's environment
variables (the kernel sees none of `run_notebooks.BOOK_ENV`, `PERTURBED_ENV` or
MPLBACKEND: a reader's Colab sets none of them), and with `allow_errors=True`, so that
every chapter runs to its end and every problem is listed. The committed notebooks are
only read. It prints, per chapter, the seconds, the error outputs and the stderr
outputs (cell index and first lines), and exits with 1 if any chapter has either.
"""

import argparse
import os
import pathlib
import shutil
import sys
import tempfile
import time

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from run_notebooks import BOOK_ENV, PERTURBED_ENV, chapters

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOT_IN_COLAB = [*BOOK_ENV, *PERTURBED_ENV, "MPLBACKEND"]  # names a reader's kernel lacks


def run(path, kernel_dir, kernel_name, timeout):
    """Execute a copy of `path` in an empty folder; return (notebook, seconds, crash)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="check-colab-") as folder:
        shutil.copy(path, folder)
        specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
        manager = AsyncKernelManager(kernel_name=kernel_name, kernel_spec_manager=specs)
        client = NotebookClient(nb, km=manager, timeout=timeout, allow_errors=True,
                                resources={"metadata": {"path": folder}})
        start = time.perf_counter()
        crash = None
        # The kernel process's own terminal (debugpy's and shutdown notices) is no
        # notebook output: keep it out of the report unless the kernel dies.
        with tempfile.TemporaryFile("w+") as terminal:
            try:
                client.execute(stdout=terminal, stderr=terminal)
            except Exception as error:  # a dead kernel or a cell over the timeout
                terminal.seek(0)
                lines = str(error).strip().splitlines()[-1:] + terminal.read().splitlines()[-3:]
                crash = f"{type(error).__name__}: {' | '.join(lines)}"[:500]
        return nb, time.perf_counter() - start, crash


def problems(nb):
    """[(kind, cell index, first lines)] for every error and stderr output."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(("error", index, f"{output.ename}: {output.evalue}"[:300]))
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(("stderr", index, " | ".join(output.text.splitlines()[:3])[:300]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--kernel-dir", type=pathlib.Path, required=True,
                        help="folder holding the kernel spec (VENV/share/jupyter/kernels)")
    parser.add_argument("--kernel-name", required=True)
    parser.add_argument("--out", type=pathlib.Path, help="save the executed copies here")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    for name in NOT_IN_COLAB:  # the kernel inherits this process's environment
        os.environ.pop(name, None)
    paths = args.notebooks or chapters()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    rows, failed = [], False
    for path in paths:
        nb, seconds, crash = run(path.resolve(), args.kernel_dir, args.kernel_name,
                                 args.timeout)
        found = problems(nb) + ([("crash", "-", crash)] if crash else [])
        errors = sum(kind != "stderr" for kind, _, _ in found)
        stderr = sum(kind == "stderr" for kind, _, _ in found)
        rows.append((path.stem, seconds, errors, stderr))
        print(f"{path.stem}: {seconds:.0f} s, {errors} errors, {stderr} stderr", flush=True)
        for kind, index, text in found:
            print(f"    cell {index} {kind}: {text}", flush=True)
        if args.out:
            nbformat.write(nb, args.out / path.name)
        failed = failed or bool(found)
    print(f"\n{'chapter':<36} {'seconds':>7} {'errors':>6} {'stderr':>6}")
    for stem, seconds, errors, stderr in rows:
        print(f"{stem:<36} {seconds:>7.0f} {errors:>6} {stderr:>6}")
    print(f"{'total':<36} {sum(r[1] for r in rows):>7.0f} {sum(r[2] for r in rows):>6} "
          f"{sum(r[3] for r in rows):>6}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
