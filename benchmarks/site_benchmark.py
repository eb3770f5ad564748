"""Website benchmark: build time, and the bytes a browser downloads per page.

    .venv/bin/python benchmarks/site_benchmark.py            # build, then measure
    .venv/bin/python benchmarks/site_benchmark.py --no-build # measure _build/html as is
    .venv/bin/python benchmarks/site_benchmark.py --check    # exit 1 if a target is missed

Targets: a full build with the notebooks already executed (execution off) takes
under 60 s; no chapter page makes a browser download more than 3 MB. Each page
is loaded in a fresh browser context (empty cache) from a loopback server, and
the size of every response (headers and body as sent; the loopback server
gzips text like GitHub Pages and other static hosts do) is added up until the
network is idle and MathJax has typeset. The uncompressed total is printed too.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sitetools  # noqa: E402

BUILD_TARGET_S = 60.0
CHAPTER_TARGET_BYTES = 3_000_000


def page_bytes(browser, base_url, docname):
    """(bytes, requests, outside requests) for one cold load of `docname`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = sitetools.block_outside_requests(context, base_url)
    finished = []
    page = context.new_page()
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(f"{base_url}{docname}.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
        }
    }""")
    page.wait_for_load_state("networkidle")
    total = raw = 0
    for request in finished:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = request.response()
        raw += len(response.body()) if response else 0
    context.close()
    return total, raw, len(finished), outside


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="measure the existing site")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()

    missed = []
    if not args.no_build:
        seconds = sitetools.build(ROOT, quiet=True)
        verdict = "ok" if seconds < BUILD_TARGET_S else "MISSED"
        print(f"build (execution off, full rebuild): {seconds:.1f} s "
              f"[target < {BUILD_TARGET_S:.0f} s: {verdict}]")
        if seconds >= BUILD_TARGET_S:
            missed.append("build time")

    from playwright.sync_api import sync_playwright

    pages = sitetools.toc_pages(ROOT)
    chapters = [p for p in pages if (ROOT / f"{p}.ipynb").exists()]
    measured = {}
    with sitetools.serve(sitetools.html_dir(ROOT)) as base_url, sync_playwright() as p:
        browser = sitetools.launch_chromium(p)
        for docname in [pages[0], *chapters]:
            measured[docname] = page_bytes(browser, base_url, docname)
        browser.close()

    print(f"\n{'page':40} {'requests':>8} {'bytes sent':>12} {'uncompressed':>13}")
    for docname, (size, raw, count, outside) in measured.items():
        note = f"  ({len(outside)} outside requests blocked)" if outside else ""
        print(f"{docname:40} {count:8d} {size:12,d} {raw:13,d}{note}")
    landing, landing_raw = measured[pages[0]][:2]
    print(f"\nlanding page ({pages[0]}): {landing:,d} bytes sent, {landing_raw:,d} uncompressed")
    if chapters:
        heaviest = max(chapters, key=lambda d: measured[d][0])
        size = measured[heaviest][0]
        verdict = "ok" if size <= CHAPTER_TARGET_BYTES else "MISSED"
        print(f"heaviest chapter ({heaviest}): {size:,d} bytes sent, "
              f"{measured[heaviest][1]:,d} uncompressed "
              f"[target <= {CHAPTER_TARGET_BYTES:,d}: {verdict}]")
        if size > CHAPTER_TARGET_BYTES:
            missed.append("chapter size")
    else:
        print("no chapter notebooks yet")
    if any(outside for *_, outside in measured.values()):
        missed.append("outside requests")
    if missed:
        print("missed:", ", ".join(missed))
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
