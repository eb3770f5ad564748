"""Build, serve and browse the book's website: one place for the build flags.

Used by ``scripts/build_book.sh`` (``python scripts/sitetools.py build``),
``tests/test_site.py`` and ``benchmarks/site_benchmark.py``.

- :func:`ensure_npm_assets` runs ``npm ci`` when ``node_modules`` is missing or
  was installed from another ``package-lock.json``;
- :func:`build` runs ``jupyter-book build`` with warnings as errors, nit-picky
  references and a full rebuild (so a second run reports the same warnings);
- :func:`serve` serves ``_build/html`` on 127.0.0.1 from a thread (gzip for text);
- :func:`launch_chromium` and :func:`block_outside_requests` give a headless
  Chromium that records and aborts every request not meant for that server.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Warnings are errors; --keep-going reports them all; --all re-reads every page.
JB_FLAGS = ["--all", "--warningiserror", "--nitpick", "--keep-going"]
BUILD_STAMP = ".attn-build-ok"
NPM_STAMP = ".attn-package-lock.sha256"


def html_dir(root: Path = ROOT) -> Path:
    return root / "_build" / "html"


def toc_pages(root: Path = ROOT) -> list[str]:
    """Docnames in reading order: the root, then every entry of `_toc.yml`."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


def ensure_npm_assets(root: Path = ROOT) -> None:
    """Install package.json's front-end assets unless node_modules already matches the lock."""
    lock = root / "package-lock.json"
    stamp = root / "node_modules" / NPM_STAMP
    digest = hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else "no-lock"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed to install the website's front-end assets (package.json). "
            "Install Node.js and npm (Debian: apt-get install npm)."
        )
    command = [npm, "ci" if lock.exists() else "install", "--no-audit", "--no-fund",
               "--ignore-scripts"]
    print("$", " ".join(["npm", *command[1:]]), flush=True)
    subprocess.run(command, cwd=root, check=True)
    stamp.write_text(digest + "\n")


def jupyter_book_command(root: Path = ROOT) -> list[str]:
    exe = Path(sys.executable).parent / "jupyter-book"
    jb = str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")
    return [jb, "build", str(root), "--path-output", str(root), *JB_FLAGS]


def build(root: Path = ROOT, *, quiet: bool = False) -> float:
    """Build `_build/html` with warnings as errors; return the seconds it took.

    Raises RuntimeError with the end of the log when the build fails.
    """
    ensure_npm_assets(root)
    stamp = html_dir(root) / BUILD_STAMP
    stamp.unlink(missing_ok=True)
    command = jupyter_book_command(root)
    if not quiet:
        print("$", " ".join(["jupyter-book", *command[1:]]), flush=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=root, env=env, text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        log = (result.stdout or "")[-8000:]
        raise RuntimeError(
            f"jupyter-book build failed (exit {result.returncode}) after {seconds:.1f} s; "
            "warnings count as errors.\n" + log
        )
    stamp.write_text(f"{seconds:.1f}\n")
    return seconds


def is_fresh(root: Path = ROOT) -> bool:
    """True when the last successful build is newer than every source of the site."""
    stamp = html_dir(root) / BUILD_STAMP
    if not stamp.exists():
        return False
    sources = [root / "_config.yml", root / "_toc.yml", root / "package-lock.json"]
    sources += [p for p in (root / "book").rglob("*") if p.is_file()]
    sources += list((root / "notebooks").glob("*.ipynb"))
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0)
    return stamp.stat().st_mtime >= newest


COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".txt", ".map", ".ttf", ".eot"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; text is gzip-compressed when the browser accepts it, as web hosts do."""

    gzip = True

    def do_GET(self):  # noqa: N802 - name from the stdlib
        path = Path(self.translate_path(self.path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.gzip and accepts and path.is_file() and path.suffix in COMPRESSIBLE):
            return super().do_GET()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - signature from the stdlib
        pass


@contextlib.contextmanager
def serve(directory: Path, *, compress: bool = True):
    """Serve `directory` on 127.0.0.1 at a free port; yield the base URL ending in '/'.

    With `compress`, text files are sent gzip-compressed to browsers that ask for it,
    as GitHub Pages and other static hosts do.
    """
    handler_class = type("Handler", (_QuietHandler,), {"gzip": compress})
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def launch_chromium(playwright):
    """Headless Debian Chromium; Playwright gives each launch a fresh profile directory."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def block_outside_requests(context, base_url: str) -> list[str]:
    """Abort every request of `context` not addressed to `base_url`; return the list of them."""
    outside: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(base_url):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", handle)
    return outside


def main(argv: list[str]) -> int:
    if argv[:1] != ["build"]:
        print("usage: python scripts/sitetools.py build", file=sys.stderr)
        return 2
    try:
        seconds = build(ROOT)
    except RuntimeError as error:
        print(str(error).splitlines()[0], file=sys.stderr)
        return 1
    index = html_dir(ROOT) / "index.html"
    print(f"\nBuilt the website in {seconds:.1f} s (notebooks are not re-executed).")
    print(f"Open {index} in a browser, or serve it with:")
    print(f"  python -m http.server --bind 127.0.0.1 --directory {html_dir(ROOT)} 8000")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
