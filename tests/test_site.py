"""The website, as a reader's browser sees it.

Builds the site with warnings as errors (or reuses a fresh `_build/html` when
``ATTN_SITE_PREBUILT=1``), serves it on 127.0.0.1 and opens every page of
`_toc.yml` in headless Chromium, with every request to another host recorded and
aborted. Protects: the site is self-contained (no CDN, fonts or analytics); pages
load without script errors; math is typeset; images load; prev/next and sidebar
links lead to the right pages; search works; launch buttons point at the
repository of `_config.yml`; hidden solutions open, under a toggle named "Solution
N.M (try first)"; deep dives and answers are folded and open; every widget output shows its
static "frames" figure, or a note that it needs a kernel, and no live widget view
(the site has no widget manager); the frames figures respond to their controls.
Full-page screenshots go to `_build/screenshots/<docname>.png`.
"""

import json
import os
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sitetools  # noqa: E402

PAGES = sitetools.toc_pages(ROOT)
NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / f"{p}.ipynb").exists()]
SCREENSHOTS = ROOT / "_build" / "screenshots"
TIMEOUT_MS = 30_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Outside the code, math must have been turned into MathJax output.
RAW_MATH_JS = """
() => {
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const text = node.textContent;
    if (/\\$\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/.test(text)) raw.push(text.trim().slice(0, 80));
  }
  const maths = [...document.querySelectorAll(".math")];
  return {
    math: maths.length,
    untypeset: maths.filter(m => !m.querySelector("mjx-container")).length,
    containers: document.querySelectorAll("mjx-container").length,
    merrors: document.querySelectorAll("mjx-merror").length,
    raw: raw,
  };
}
"""

IMAGES_JS = """
async () => {
  const images = [...document.images];
  images.forEach(i => { i.loading = "eager"; });
  const settle = Promise.all(images.map(i => i.complete ? null :
      new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r); })));
  await Promise.race([settle, new Promise(r => setTimeout(r, 15000))]);
  return {
    count: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0))
                  .map(i => (i.currentSrc || i.src).slice(0, 120)),
  };
}
"""

VISIBLE_FRAME_JS = """
(figure) => {
  const shown = [...figure.querySelectorAll("img")].filter(
      i => i.checkVisibility() && i.naturalWidth > 0);
  return shown.length ? shown[0].src : null;
}
"""


def _skip_or_fail(message):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the website test may not be skipped)")
    pytest.skip(message)


def _docname(url, base_url):
    path = urlsplit(url).path
    base = urlsplit(base_url).path
    name = path[len(base):] if path.startswith(base) else path
    return name[: -len(".html")] if name.endswith(".html") else name


@pytest.fixture(scope="module")
def site():
    if not Path(sitetools.CHROMIUM).exists():
        _skip_or_fail(f"Chromium is not installed at {sitetools.CHROMIUM} "
                      "(Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("The playwright Python package is not installed (requirements.txt)")
    if not (os.environ.get("ATTN_SITE_PREBUILT") == "1" and sitetools.is_fresh(ROOT)):
        try:
            sitetools.build(ROOT, quiet=True)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
    return sitetools.html_dir(ROOT)


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sitetools.serve(site) as base_url, sync_playwright() as p:
        chromium = sitetools.launch_chromium(p)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        outside = sitetools.block_outside_requests(context, base_url)
        yield {"context": context, "base_url": base_url, "outside": outside, "reports": {}}
        context.close()
        chromium.close()


def _open(browser, path):
    """Open `path` of the site in a new tab; return (page, problems list)."""
    page = browser["context"].new_page()
    problems = []
    base = browser["base_url"]
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})")
            if r.url.startswith(base) else None)
    page.goto(base + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
        }
    }""")
    return page, problems


def visit(browser, docname):
    """Load a TOC page once, collect everything the tests check, save a screenshot."""
    if docname in browser["reports"]:
        return browser["reports"][docname]
    outside_before = len(browser["outside"])
    page, problems = _open(browser, f"{docname}.html")
    report = {"problems": problems, "url": page.url}
    report["math"] = page.evaluate(RAW_MATH_JS)
    report["images"] = page.evaluate(IMAGES_JS)
    report["wide_math"] = page.evaluate("""() => Array.from(
        document.querySelectorAll('mjx-container[display="true"]'))
        .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => e.textContent.slice(0, 50))""")
    report["prev"] = page.eval_on_selector_all("a.left-prev", "as => as.map(a => a.href)")
    report["next"] = page.eval_on_selector_all("a.right-next", "as => as.map(a => a.href)")
    report["sidebar"] = page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference.internal", "as => as.map(a => a.href)")
    report["launch"] = page.eval_on_selector_all(
        "a[href^='https://']", "as => as.map(a => a.href)")
    report["frames"] = page.locator(".attn-frames").count()
    report["live_only_notes"] = page.locator(".attn-live-only").count()
    report["widget_views"] = page.locator(f'script[type="{WIDGET_VIEW}"]').count()
    report["solution_prompts"] = page.eval_on_selector_all(
        "details.hide > summary", "ss => ss.map(s => s.textContent.trim())")
    report["folded"] = page.evaluate("""() => ["deep-dive", "answer"].map(kind =>
        Array.from(document.querySelectorAll("details." + kind)).map(d => d.open))""")
    shot = SCREENSHOTS / f"{docname}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    report["toggles"] = _check_toggles(page)
    report["outside"] = browser["outside"][outside_before:]
    page.close()
    browser["reports"][docname] = report
    return report


def _check_toggles(page):
    """Open every hidden solution (myst-nb hide-input) and togglebutton dropdown."""
    results = []
    # A worked solution prints "correct. Well done!" (and may print the answer): it
    # must stay hidden, input and output, until the reader opens it.
    leaks = page.get_by_text("Well done!")
    visible = [i for i in range(leaks.count()) if leaks.nth(i).is_visible()]
    results.append(("solution output hidden", 0, not visible))
    # Deep dives first: the toggles and answers inside them show once they are open.
    for kind in ("deep-dive", "answer"):
        folded = page.locator(f"details.{kind}")
        for i in range(folded.count()):
            details = folded.nth(i)
            body = details.locator(":scope > :not(summary)").first
            closed_before = not details.evaluate("d => d.open") and not body.is_visible()
            details.locator("summary").first.click()
            results.append((kind, i, closed_before and body.is_visible()))
    hidden = page.locator("details.hide")
    for i in range(hidden.count()):
        details = hidden.nth(i)
        code = details.locator("pre").first
        closed_before = not details.evaluate("d => d.open") and not code.is_visible()
        details.locator("summary").first.click()
        results.append(("hide-input", i, closed_before and code.is_visible()))
    buttons = page.locator("button.toggle-button")
    for i in range(buttons.count()):
        button = buttons.nth(i)
        body = button.locator("xpath=ancestor::*[contains(@class,'toggle')][1]")
        hidden_before = "toggle-hidden" in (body.get_attribute("class") or "")
        button.click()
        page.wait_for_timeout(300)
        shown = "toggle-hidden" not in (body.get_attribute("class") or "")
        results.append(("togglebutton", i, hidden_before and shown))
    return results


@pytest.mark.parametrize("docname", PAGES)
def test_page_loads_without_errors_or_outside_requests(browser, docname):
    report = visit(browser, docname)
    assert not report["problems"], f"{docname}: {report['problems']}"
    assert not report["outside"], f"{docname} asked other hosts for: {report['outside']}"


@pytest.mark.parametrize("docname", PAGES)
def test_math_is_typeset(browser, docname):
    math = visit(browser, docname)["math"]
    assert math["untypeset"] == 0, f"{docname}: {math['untypeset']} of {math['math']} untypeset"
    if math["math"]:
        assert math["containers"] >= math["math"], f"{docname}: {math}"
    assert math["merrors"] == 0, f"{docname}: MathJax reported {math['merrors']} TeX errors"
    assert not math["raw"], f"{docname}: raw TeX left in the text: {math['raw'][:5]}"


@pytest.mark.parametrize("docname", PAGES)
def test_display_equations_fit_the_column(browser, docname):
    wide = visit(browser, docname)["wide_math"]
    assert not wide, f"{docname}: equations wider than the text column (break them): {wide}"


@pytest.mark.parametrize("docname", PAGES)
def test_every_image_loads(browser, docname):
    images = visit(browser, docname)["images"]
    assert not images["broken"], f"{docname}: broken images {images['broken']}"


@pytest.mark.parametrize("docname", PAGES)
def test_prev_and_next_follow_the_toc(browser, docname):
    report = visit(browser, docname)
    i = PAGES.index(docname)
    base = browser["base_url"]
    prev = [_docname(h, base) for h in report["prev"]]
    nxt = [_docname(h, base) for h in report["next"]]
    assert prev == ([PAGES[i - 1]] if i > 0 else []), f"{docname}: previous link {prev}"
    assert nxt == ([PAGES[i + 1]] if i + 1 < len(PAGES) else []), f"{docname}: next link {nxt}"


def test_next_link_can_be_followed(browser):
    page, problems = _open(browser, f"{PAGES[0]}.html")
    page.locator("a.right-next").first.click()
    page.wait_for_load_state("load")
    assert _docname(page.url, browser["base_url"]) == PAGES[1]
    assert page.title(), "the page after the landing page has no title"
    page.close()
    assert not problems, problems


@pytest.mark.parametrize("docname", PAGES)
def test_sidebar_lists_the_toc_and_its_links_resolve(browser, docname):
    report = visit(browser, docname)
    base = browser["base_url"]
    targets = {urljoin(report["url"], h).split("#")[0] for h in report["sidebar"]}
    listed = {_docname(t, base) for t in targets}
    missing = set(PAGES[1:]) - listed
    assert not missing, f"{docname}: sidebar lacks {sorted(missing)}"
    for target in sorted(targets):
        response = browser["context"].request.get(target)
        assert response.ok, f"{docname}: sidebar link {target} answers {response.status}"


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_notebook_pages_have_colab_and_binder_buttons(browser, docname):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    repo = config["repository"]["url"].rstrip("/")
    branch = config["repository"]["branch"]
    launch = config["launch_buttons"]
    slug = urlsplit(repo).path.strip("/")
    colab = f"{launch['colab_url'].rstrip('/')}/github/{slug}/blob/{branch}/{docname}.ipynb"
    binder = (f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{slug}/{branch}"
              f"?urlpath=lab/tree/{docname}.ipynb")
    links = visit(browser, docname)["launch"]
    assert colab in links, f"{docname}: no Colab button for {colab}"
    assert binder in links, f"{docname}: no Binder button for {binder}"


def _widget_outputs(docname):
    """(interactive figures, widget-only outputs) among the notebook's outputs."""
    notebook = json.loads((ROOT / f"{docname}.ipynb").read_text(encoding="utf8"))
    bundles = [output.get("data", {}) for cell in notebook["cells"]
               for output in cell.get("outputs", [])]
    widgets = [data for data in bundles if WIDGET_VIEW in data]
    figures = sum("attn-frames" in "".join(data.get("text/html", "")) for data in widgets)
    return figures, len(widgets) - figures


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_widget_outputs_show_frames_or_a_kernel_note_never_a_live_view(browser, docname):
    figures, widget_only = _widget_outputs(docname)
    assert figures >= 1, f"{docname}.ipynb has no interactive_figure output"
    report = visit(browser, docname)
    assert report["widget_views"] == 0, (
        f"{docname}: {report['widget_views']} live widget views, which the site cannot draw")
    assert report["frames"] == figures, (
        f"{docname}: {report['frames']} frames figures for {figures} interactive_figure outputs")
    assert report["live_only_notes"] == widget_only, (
        f"{docname}: {report['live_only_notes']} 'needs a kernel' notes for {widget_only} "
        "widget-only outputs")


@pytest.mark.parametrize("docname", PAGES)
def test_hidden_solutions_open(browser, docname):
    failed = [(kind, i) for kind, i, ok in visit(browser, docname)["toggles"] if not ok]
    assert not failed, f"{docname}: these toggles did not reveal their content: {failed}"


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_solutions_are_named_and_deep_dives_and_answers_folded(browser, docname):
    notebook = json.loads((ROOT / f"{docname}.ipynb").read_text(encoding="utf8"))
    cells = notebook["cells"]
    solutions = [cell["metadata"]["mystnb"]["code_prompt_show"] for cell in cells
                 if "solution" in cell["metadata"].get("tags", [])]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    report = visit(browser, docname)
    prompts = [p.splitlines()[0].strip() for p in report["solution_prompts"] if p.strip()]
    shown = [p for p in prompts if p.startswith("Solution")]  # the "show" half of each
    assert shown == solutions and all(p.endswith("(try first)") for p in shown), shown
    deep_dives, answers = report["folded"]
    assert len(deep_dives) == markdown.count("\n## Deep dive:") + markdown.startswith(
        "## Deep dive:")
    assert len(answers) == markdown.count('<details class="answer">')
    assert not any(deep_dives) and not any(answers), "folded until the reader opens them"


def test_search_finds_softmax(browser):
    page, problems = _open(browser, "search.html?q=softmax")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(state="attached", timeout=TIMEOUT_MS)
    count = results.count()
    page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)
    page.close()
    assert count >= 1
    assert not problems, problems


def test_frames_figure_control_changes_the_picture(browser):
    pages = [p for p in PAGES if visit(browser, p)["frames"]]
    assert pages, "no page has an interactive .attn-frames figure (attn_lib.widgets)"
    for docname in pages:
        page, problems = _open(browser, f"{docname}.html")
        figures = page.locator(".attn-frames")
        for k in range(figures.count()):
            figure = figures.nth(k)
            figure.scroll_into_view_if_needed()
            before = figure.evaluate(VISIBLE_FRAME_JS)
            assert before, f"{docname}: frames figure {k} shows no loaded image"
            select = figure.locator("select")
            if select.count():
                control = select.first
                values = control.evaluate("s => [...s.options].map(o => o.value)")
                current = control.input_value()
                control.select_option(next(v for v in values if v != current))
            else:
                control = figure.locator("input[type=range]").first
                low, high, now = control.evaluate(
                    "r => [Number(r.min || 0), Number(r.max || 100), Number(r.value)]")
                control.evaluate(
                    """(r, v) => { r.value = String(v);
                        r.dispatchEvent(new Event("input", {bubbles: true}));
                        r.dispatchEvent(new Event("change", {bubbles: true})); }""",
                    high if now != high else low)
            page.wait_for_timeout(200)
            after = figure.evaluate(VISIBLE_FRAME_JS)
            assert after and after != before, (
                f"{docname}: moving the control of frames figure {k} did not change the picture")
        page.close()
        assert not problems, problems


def test_no_request_left_the_site(browser):
    for docname in PAGES:
        visit(browser, docname)
    assert not browser["outside"], f"requests to other hosts: {sorted(set(browser['outside']))}"
