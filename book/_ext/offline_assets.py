"""Serve the website's front-end assets from the website itself.

The built site must not ask any other host for anything: no CDN, no web fonts.
Sphinx and myst-nb default to CDN copies of MathJax, require.js and the
ipywidgets HTML manager; this extension

1. copies those packages from ``node_modules`` (installed by ``npm ci`` from the
   repository's ``package.json``/``package-lock.json``) into ``_static/`` of the
   HTML output;
2. points ``mathjax_path`` and myst-nb's ``nb_ipywidgets_js`` at the copies, and
   points the widget manager's module "CDN" at a folder of this site, so that an
   unknown widget module fails as a local 404 instead of a request elsewhere;
3. replaces a live widget view whose state was not saved (a widget-only output)
   by a note that it needs a kernel, and drops the widget-manager scripts (and
   the saved widget state) from pages that then show no live widget view:
   chapters show the static ``text/html`` "frames" figure instead (see
   ``nb_mime_priority_overrides`` in ``_config.yml``), so those 3.6 MB would be
   loaded for nothing;
4. leaves out pydata-sphinx-theme's ``fontawesome.js`` (1.5 MB, 40 % of a page):
   the theme's CSS already draws every icon with Font Awesome's web fonts, and
   the script only redraws them as SVG (``templates/static/webpack-macros.html``);
5. derives MyST substitutions (``{{ repo_url }}``, ``{{ repo_link }}``,
   ``{{ binder_link }}``) from the ``repository`` section of ``_config.yml``,
   which is the only file that names the repository.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"

# Paths inside _static/ of the built site.
MATHJAX_JS = "mathjax/tex-chtml.js"
REQUIRE_JS = "requirejs/require.js"
WIDGETS_JS = "jupyter-widgets/embed-amd.js"
WIDGETS_DIST = "jupyter-widgets"
WIDGETS_CDN = "jupyter-widgets/modules/"

# Runs between require.js and embed-amd.js on pages with live widget views.
# 1. embed-amd.js finds its fonts next to the URL of its AMD module ids
#    ("@jupyter-widgets/html-manager/dist/libembed-amd", "@jupyter-widgets/controls",
#    ...), resolved from the page's folder: map them to our copy's folder.
# 2. ipywidgets typesets labels with MathJax 2's `MathJax.Hub.Queue`; this site
#    runs MathJax 3, so give it a `Hub` that forwards to `typesetPromise`.
WIDGETS_SETUP_JS = """require.config({paths: {
  "@jupyter-widgets/html-manager/dist": "%(dist)s", "@jupyter-widgets": "%(dist)s"}});
window.addEventListener("DOMContentLoaded", function () {
  var mj = window.MathJax;
  if (mj && mj.typesetPromise && !mj.Hub) {
    mj.Hub = {Queue: function () {
      [].slice.call(arguments).forEach(function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          mj.typesetPromise([job[2]]).catch(function () {});
        }
      });
    }};
  }
});"""

WIDGET_VIEW_RE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S
)
LIVE_ONLY_HTML = (
    '<div class="admonition note attn-live-only"><p class="admonition-title">Live widget</p>'
    "<p>This output is an interactive widget that needs a running Python kernel. "
    "Open the notebook on Colab or Binder (the rocket button at the top of the page) "
    "or in Jupyter to use it.</p></div>"
)

# (source inside node_modules, destination inside _static, patterns to leave out)
ASSETS = [
    (
        "mathjax/es5",
        "mathjax",
        # Only tex-chtml.js (and what it loads on demand) is used.
        ("*-full*.js", "mml-*.js", "tex-mml-*.js", "tex-svg*.js", "node-main.js", "svg"),
    ),
    ("requirejs/require.js", REQUIRE_JS, ()),
    (
        "@jupyter-widgets/html-manager/dist",
        "jupyter-widgets",
        ("*.map", "embed.js", "embed.js.LICENSE.txt", "libembed-amd.js"),
    ),
]


def _node_modules(app: Sphinx) -> Path:
    return Path(app.srcdir) / "node_modules"


def configure(app: Sphinx, config: Config) -> None:
    """Point every front-end asset at the local copies and check nothing else leaks."""
    missing = [src for src, _, _ in ASSETS if not (_node_modules(app) / src).exists()]
    if missing:
        raise ExtensionError(
            "The website's front-end assets are not installed: missing "
            f"{', '.join('node_modules/' + m for m in missing)}. "
            "Run `npm ci` in the repository root (scripts/build_book.sh does)."
        )
    config.templates_path = [*config.templates_path, str(Path(__file__).parent / "templates")]
    config.mathjax_path = MATHJAX_JS
    config.nb_ipywidgets_js = {
        REQUIRE_JS: {},
        WIDGETS_JS: {"data-jupyter-widgets-cdn": WIDGETS_CDN},
    }
    if config.intersphinx_mapping:
        logger.warning(
            "intersphinx_mapping must stay empty: the build and the site make no "
            "outside requests. Received: %s",
            sorted(config.intersphinx_mapping),
        )

    theme = config.html_theme_options
    # `path_to_book: "."` means the root; the theme would otherwise write "./" into
    # every launch URL.
    if str(theme.get("path_to_docs", "")).strip("/") in ("", "."):
        theme["path_to_docs"] = ""
    repo = str(theme.get("repository_url", "")).rstrip("/")
    branch = theme.get("repository_branch", "main")
    if repo.startswith("https://github.com/"):
        slug = repo[len("https://github.com/"):]
        launch = theme.get("launch_buttons", {})
        binder = str(launch.get("binderhub_url", "https://mybinder.org")).rstrip("/")
        subs = dict(config.myst_substitutions or {})
        subs.setdefault("repo_url", repo)
        subs.setdefault("repo_link", f"[{slug}]({repo})")
        subs.setdefault(
            "binder_link", f"[Binder]({binder}/v2/gh/{slug}/{branch}?urlpath=lab/tree/notebooks)"
        )
        config.myst_substitutions = subs


def _replace_stateless_views(body: str, scripts: list) -> str:
    """Swap widget views whose model is not in the saved widget state for a note.

    Notebooks are executed without saving widget state (scripts/run_notebooks.py),
    so a widget-only output (no text/html fallback) would be an empty space on the
    site; say instead that it needs a kernel.
    """
    known: set[str] = set()
    for js in scripts:
        attributes = getattr(js, "attributes", None) or {}
        if attributes.get("type") == WIDGET_STATE_MIMETYPE:
            with contextlib.suppress(ValueError, TypeError):
                known.update(json.loads(attributes.get("body", ""))["state"])

    def swap(match: re.Match) -> str:
        try:
            model_id = json.loads(match.group(1))["model_id"]
        except (ValueError, KeyError, TypeError):
            model_id = None
        return match.group(0) if model_id in known else LIVE_ONLY_HTML

    return WIDGET_VIEW_RE.sub(swap, body)


def page_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Per page: drop duplicate and unused widget scripts; aim the widget loader here."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    body = context.get("body") or ""
    if WIDGET_VIEW_MIMETYPE in body:
        body = context["body"] = _replace_stateless_views(body, scripts)
    has_views = WIDGET_VIEW_MIMETYPE in body
    kept, seen = [], set()
    for js in scripts:
        # Some extensions register their inline scripts twice (sphinx-thebe's
        # `const THEBE_JS_URL` then throws a SyntaxError): keep the first.
        attrs = sorted((getattr(js, "attributes", None) or {}).items())
        key = (getattr(js, "filename", None) or None, repr(attrs))
        if key in seen:
            continue
        seen.add(key)
        filename = getattr(js, "filename", None) or ""
        attributes = dict(getattr(js, "attributes", {}) or {})
        is_widget_js = attributes.get("type") == WIDGET_STATE_MIMETYPE or filename.endswith(
            (REQUIRE_JS, WIDGETS_JS)
        )
        if is_widget_js and not has_views:
            continue
        if filename.endswith(WIDGETS_JS):
            # The attribute is used as a URL prefix from the page's own folder.
            cdn = context["pathto"]("_static/" + WIDGETS_CDN, 1)
            attributes["data-jupyter-widgets-cdn"] = cdn if cdn.endswith("/") else cdn + "/"
            js = type(js)(js.filename, priority=js.priority, **attributes)
        kept.append(js)
        if filename.endswith(REQUIRE_JS):
            dist = context["pathto"]("_static/" + WIDGETS_DIST, 1).rstrip("/")
            setup_js = WIDGETS_SETUP_JS % {"dist": dist}
            kept.append(type(js)(None, priority=js.priority, body=setup_js))
    scripts[:] = kept


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    """Copy the npm packages into _static/ of the HTML output."""
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for src, dest, ignore in ASSETS:
        source = _node_modules(app) / src
        target = static / dest
        if source.is_dir():
            shutil.copytree(
                source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*ignore)
            )
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    modules = static / WIDGETS_CDN
    modules.mkdir(parents=True, exist_ok=True)
    (modules / "README.txt").write_text(
        "Third-party widget modules would be served from here; the book uses only the\n"
        "widgets built into embed-amd.js, so this folder stays empty.\n"
    )


def setup(app: Sphinx) -> dict:
    # Before myst-nb reads its configuration (builder-inited) and before the
    # theme reads its options.
    app.connect("config-inited", configure, priority=900)
    # After myst-nb has added the page's widget scripts (priority 500).
    app.connect("html-page-context", page_scripts, priority=900)
    app.connect("build-finished", copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
