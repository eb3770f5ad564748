"""Binder's reader environment (binder/): its size on disk, and each chapter's peak memory in it.

    .venv/bin/python benchmarks/binder_env.py                  # build or reuse the env; measure
    .venv/bin/python benchmarks/binder_env.py --rebuild        # build it from nothing first
    .venv/bin/python benchmarks/binder_env.py --sizes-only     # no chapter runs
    .venv/bin/python benchmarks/binder_env.py notebooks/07_encoder_decoder_attention.ipynb

What repo2docker does with binder/, done here without Docker, in the same order:
  1. a fresh venv of the Python that binder/runtime.txt names (pythonX.Y on PATH, else
     pyenv's), in $BINDER_ENV_DIR (default /tmp/attn-lib-binder-env), with
     `pip install --no-cache-dir -r binder/requirements.txt` (Docker's cached layer: it is
     reused while binder/runtime.txt and the pins do not change, unless --rebuild);
  2. binder/postBuild, run with the venv as KERNEL_PYTHON_PREFIX in a copy of this work tree,
     on every call (what it installed last time, tensorflow-cpu and attn-lib, is uninstalled
     first): it installs tensorflow-cpu, trims it (no C++ headers, stripped shared objects)
     and installs attn_lib from its working directory;
  3. checks: the venv holds exactly the packages pinned in binder/requirements.txt and
     binder/postBuild plus attn-lib (nothing pip chose by itself), `pip check` passes,
     tensorflow/include is gone and no shared object under tensorflow/ keeps a symbol table,
     JupyterLab has the ipywidgets extension.
Then it prints the disk usage (`du`) of the venv after step 1 and, after postBuild, of its
site-packages, of tensorflow/ and of the whole venv (budget 1.5 GB), the memory of an idle
JupyterLab server from the venv, and runs each chapter (every notebooks/[0-9]*.ipynb by
default) with nbclient in a kernel of that venv, in an empty temporary folder and without
the book's environment variables (a reader's Binder sets none): seconds, error and stderr
outputs, and the kernel's peak resident memory, the larger of its own high-water mark
(VmHWM, read after every cell) and its process tree's PSS sampled every 0.1 s (shared
pages counted once, as the container counts them; see `proportional_rss`). mybinder.org
guarantees 1 GB per session, so each chapter must stay under 1 GB. MB and GB are 10^6 and
10^9 bytes. Exits 1 if a budget is exceeded, a check fails, or a chapter has an error or a
stderr output. Needs binutils (`strip`, `readelf`), as postBuild does.

Not the same as Binder: repo2docker installs into a conda environment that already holds
its own Jupyter packages (pip replaces those that binder/requirements.txt pins), its Python
is conda-forge's, its memory limit is enforced by the container, not measured, and the size
here is the environment's, not the image's (no base image, no Docker layers).
"""

import argparse
import hashlib
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
sys.path.insert(0, str(ROOT / "scripts"))
from check_colab import NOT_IN_COLAB, problems  # noqa: E402
from run_notebooks import chapters  # noqa: E402

ENV_BUDGET_BYTES = 1.5e9  # installed environment (the whole venv)
MEMORY_BUDGET_BYTES = 1e9  # one chapter's kernel; mybinder.org's guaranteed memory
KERNEL_NAME = "attn-binder"
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def mb(n_bytes):
    return f"{n_bytes / 1e6:,.0f} MB"


def run(command, log=None, **kwargs):
    """Run `command`; on failure print the end of its output and exit."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n"
                 + "\n".join((result.stdout + result.stderr).splitlines()[-30:]))
    return result.stdout


def find_python(version):
    """A working Python `version` (X.Y): pythonX.Y on PATH, else pyenv's."""
    pyenv_root = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}"),
                  *sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version)"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.startswith(f"{version}."):
            return str(candidate)
    sys.exit(f"error: binder/runtime.txt names Python {version}: put python{version} on PATH")


def work_tree_copy(destination):
    """Copy the files git knows (tracked, or new and not ignored) into `destination`."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def build(venv, rebuild):
    """Create or reuse the requirements layer, run binder/postBuild; return {step: seconds}."""
    spec = [(BINDER / "runtime.txt").read_text(), *pins_text()]
    stamp = venv / ".binder-installed"
    want = hashlib.sha256("\n".join(spec).encode()).hexdigest()
    seconds = {}
    if rebuild or not stamp.exists() or stamp.read_text().strip() != want:
        runtime = (BINDER / "runtime.txt").read_text().strip()
        version = re.fullmatch(r"python-(\d+\.\d+)", runtime)
        if version is None:
            sys.exit(f"error: binder/runtime.txt should read python-X.Y, not {runtime!r}")
        python = find_python(version.group(1))
        print(f"building {venv} with {python} and binder/requirements.txt ...", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        start = time.perf_counter()
        run([python, "-m", "venv", str(venv)])
        run([venv / "bin/python", "-m", "pip", "install", "--no-cache-dir", "-r",
             BINDER / "requirements.txt"], log=venv / "pip.log")
        seconds["venv + pip install -r binder/requirements.txt"] = time.perf_counter() - start
        (venv / ".requirements-layer-bytes").write_text(str(disk_usage(venv)))
        stamp.write_text(want)
    else:
        print(f"reusing {venv} up to binder/requirements.txt (it and runtime.txt unchanged)")
        run([venv / "bin/python", "-m", "pip", "uninstall", "--yes", "attn-lib",
             *postbuild_pins()])
        if (site_packages(venv) / "tensorflow").exists():
            sys.exit(f"error: {site_packages(venv) / 'tensorflow'} is left over: --rebuild")
    with tempfile.TemporaryDirectory(prefix="binder-clone-") as clone:
        work_tree_copy(pathlib.Path(clone))
        env = {**os.environ, "KERNEL_PYTHON_PREFIX": str(venv), "NB_PYTHON_PREFIX": str(venv),
               "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        start = time.perf_counter()
        run(["./binder/postBuild"], cwd=clone, env=env, log=venv / "postBuild.log")
        seconds["binder/postBuild (TensorFlow, trimmed; attn_lib)"] = time.perf_counter() - start
    run([venv / "bin/python", "-m", "ipykernel", "install", "--prefix", str(venv),
         "--name", KERNEL_NAME, "--display-name", "Python 3 (Binder env)"])
    return seconds


def pins_text():
    """The lines of binder/requirements.txt that are not comments or blank."""
    return [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def postbuild_pins():
    """{normalised name: version} for every NAME==VERSION in binder/postBuild's commands."""
    code = [line for line in (BINDER / "postBuild").read_text().splitlines()
            if not line.lstrip().startswith("#")]
    return {normalised(name): version for line in code
            for name, version in re.findall(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)}


def normalised(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def tensorflow_trim_problems(venv):
    """What binder/postBuild's trimming left in tensorflow/: its headers, unstripped libraries."""
    tensorflow = site_packages(venv) / "tensorflow"
    problems = []
    if (tensorflow / "include").exists():
        problems.append("tensorflow/include is still there")
    unstripped = []
    for library in sorted(tensorflow.rglob("*.so*")):
        with library.open("rb") as file:
            if file.read(4) != b"\x7fELF":
                continue
        sections = run(["readelf", "--section-headers", "--wide", library])
        if re.search(r"\s\.symtab\s", sections):
            unstripped.append(str(library.relative_to(tensorflow)))
    if unstripped:
        problems.append(f"{len(unstripped)} shared objects under tensorflow/ keep their "
                        f"symbol table (not stripped), e.g. {unstripped[:3]}")
    return problems


def checks(venv):
    """Problems with the built venv, as a list of sentences."""
    problems = []
    pinned = {normalised(line.split("==")[0]): line.split("==")[1] for line in pins_text()}
    pinned.update(postbuild_pins())
    frozen = run([venv / "bin/python", "-m", "pip", "list", "--format=freeze",
                  "--exclude", "pip", "--exclude", "setuptools", "--exclude", "wheel"])
    installed = {normalised(line.split("==")[0]): line.split("==")[1]
                 for line in frozen.split()}
    if installed.pop("attn-lib", None) is None:
        problems.append("attn-lib is not installed")
    if installed != pinned:
        extra = sorted(set(installed.items()) - set(pinned.items()))
        missing = sorted(set(pinned.items()) - set(installed.items()))
        problems.append(f"installed set differs from binder/requirements.txt and postBuild: "
                        f"not pinned {extra}, pinned but absent {missing}")
    check = subprocess.run([venv / "bin/python", "-m", "pip", "check"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        problems.append(f"pip check: {check.stdout.strip()}")
    editable = subprocess.run([venv / "bin/python", "-m", "pip", "list", "--editable"],
                              capture_output=True, text=True).stdout
    if "attn" in editable.lower():
        problems.append("attn-lib is installed editable")
    extensions = subprocess.run([venv / "bin/jupyter", "labextension", "list"],
                                capture_output=True, text=True)
    if WIDGETS_EXTENSION not in extensions.stdout + extensions.stderr:
        problems.append(f"JupyterLab lacks {WIDGETS_EXTENSION} (widgets would not draw)")
    return problems + tensorflow_trim_problems(venv)


def disk_usage(path):
    """Bytes on disk under `path`, as `du -sk` counts them."""
    return int(run(["du", "-sk", str(path)]).split()[0]) * 1024


def site_packages(venv):
    return pathlib.Path(run([venv / "bin/python", "-c",
                             "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())


def reader_env():
    """This process's environment without the book's variables (the kernel inherits it)."""
    return {name: value for name, value in os.environ.items() if name not in NOT_IN_COLAB}


def jupyterlab_server_rss(venv):
    """RSS in bytes of a JupyterLab server from `venv`, after it has served /lab once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="binder-lab-") as home:
        env = {**reader_env(), "HOME": home, "JUPYTER_RUNTIME_DIR": home}
        server = subprocess.Popen(
            [venv / "bin/jupyter-lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             "--IdentityProvider.token=binder-benchmark", f"--ServerApp.root_dir={home}",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/lab?token=binder-benchmark"
            for _ in range(120):
                try:
                    urllib.request.urlopen(url, timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                return None
            time.sleep(2)
            return psutil.Process(server.pid).memory_info().rss
        finally:
            server.terminate()
            server.wait(timeout=30)


def proportional_rss(process):
    """A process's PSS: its resident pages, each shared page divided among its sharers.

    Summed over a process tree this counts TensorFlow's shared libraries once, as the
    container's memory limit does; a sum of RSS would count them in every process. Falls
    back to RSS where /proc/PID/smaps_rollup is missing (kernels before 4.14)."""
    try:
        rollup = pathlib.Path(f"/proc/{process.pid}/smaps_rollup").read_text()
        return int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1)) * 1024
    except (OSError, AttributeError):
        return process.memory_info().rss


class PeakMemory:
    """Peak resident memory of a kernel: its VmHWM, and its process tree sampled in a thread."""

    def __init__(self):
        self.pid = None
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def attach(self, pid):
        self.pid = pid
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.1):
            self.read()

    def read(self):
        """Update the peak from the kernel's VmHWM and its tree's current PSS."""
        try:
            kernel = psutil.Process(self.pid)
            tree = sum(proportional_rss(p) for p in [kernel, *kernel.children(recursive=True)])
            status = pathlib.Path(f"/proc/{self.pid}/status").read_text()
            hwm = int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) * 1024
        except (psutil.Error, OSError, AttributeError):
            return
        self.peak = max(self.peak, tree, hwm)

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def run_chapter(path, kernel_dir, timeout):
    """Execute a copy of `path` in an empty folder.

    Returns (seconds, peak bytes, error outputs, stderr outputs), outputs as short strings.
    """
    nb = nbformat.read(path, as_version=4)
    memory = PeakMemory()
    with tempfile.TemporaryDirectory(prefix="binder-chapter-") as folder:
        shutil.copy(path, folder)
        specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
        manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        client = NotebookClient(
            nb, km=manager, timeout=timeout, allow_errors=True,
            resources={"metadata": {"path": folder}},
            on_notebook_start=lambda **_: memory.attach(manager.provisioner.pid),
            on_cell_executed=lambda **_: memory.read())
        start = time.perf_counter()
        try:
            with open(pathlib.Path(folder) / "kernel-terminal.log", "w") as log:
                client.execute(cleanup_kc=True, env=reader_env(), stdout=log, stderr=log)
        finally:
            memory.stop()
        seconds = time.perf_counter() - start
    found = problems(nb)  # the same errors and stderr outputs check_colab.sh reports
    errors = [f"cell {index}: {text}" for kind, index, text in found if kind == "error"]
    stderr = [f"cell {index}: {text}" for kind, index, text in found if kind == "stderr"]
    return seconds, memory.peak, errors, stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--venv", type=pathlib.Path, default=pathlib.Path(
        os.environ.get("BINDER_ENV_DIR", "/tmp/attn-lib-binder-env")))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the venv from nothing")
    parser.add_argument("--sizes-only", action="store_true", help="do not run the chapters")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    venv = args.venv.resolve()
    over = []

    for step, seconds in build(venv, args.rebuild).items():
        print(f"{step:<48} {seconds:>7.0f} s")
    for problem in checks(venv):
        over.append(problem)
        print(f"CHECK FAILED: {problem}")

    site, whole = disk_usage(site_packages(venv)), disk_usage(venv)
    tensorflow = disk_usage(site_packages(venv) / "tensorflow")
    layer = venv / ".requirements-layer-bytes"
    print("\nsize on disk after binder/requirements.txt: whole venv "
          + (mb(int(layer.read_text())) if layer.exists() else "unknown (--rebuild)"))
    print(f"size on disk after binder/postBuild: site-packages {mb(site)} "
          f"(tensorflow/ {mb(tensorflow)}), whole venv {mb(whole)} "
          f"(budget {mb(ENV_BUDGET_BYTES)})")
    if whole > ENV_BUDGET_BYTES:
        over.append(f"venv {mb(whole)} > {mb(ENV_BUDGET_BYTES)}")
    if not args.sizes_only:
        server = jupyterlab_server_rss(venv)
        print("JupyterLab server after serving /lab: "
              + (mb(server) if server else "did not start"))
        if server is None:
            over.append("JupyterLab did not start")

        paths = [p.resolve() for p in args.notebooks] or chapters()
        kernel_dir = venv / "share/jupyter/kernels"
        print(f"\n{'chapter':<40} {'seconds':>8} {'peak MB':>8} {'errors':>7} {'stderr':>7}"
              f"  (budget {MEMORY_BUDGET_BYTES / 1e6:,.0f} MB; load average "
              f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)", flush=True)
        for path in paths:
            seconds, peak, errors, stderr = run_chapter(path, kernel_dir, args.timeout)
            flag = "" if peak < MEMORY_BUDGET_BYTES else "  OVER BUDGET"
            print(f"{path.stem:<40} {seconds:>8.1f} {peak / 1e6:>8.0f} {len(errors):>7} "
                  f"{len(stderr):>7}{flag}", flush=True)
            for error in errors:
                print(f"    error in {error}")
            for text in stderr:
                print(f"    stderr in {text}")
            if flag:
                over.append(f"{path.stem} peaks at {mb(peak)}")
            if errors:
                over.append(f"{path.stem} has {len(errors)} error output(s)")
            if stderr:
                over.append(f"{path.stem} has {len(stderr)} stderr output(s)")

    if over:
        print("\nFAILED: " + "; ".join(over))
        sys.exit(1)
    print("\nwithin budget")


if __name__ == "__main__":
    main()
