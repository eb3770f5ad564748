"""The website serves every front-end asset itself: it works with the network off.

The built site asks no other host for anything: no CDN, no web fonts, no inventories.
Each function below does one job:

- :func:`use_local_mathjax` (``config-inited``) checks that ``npm ci`` installed
  MathJax 3 into ``node_modules`` (from ``package.json``/``package-lock.json``) and
  points ``mathjax_path`` at the copy that :func:`copy_mathjax` makes, instead of
  Sphinx's CDN default; it also adds ``templates/``, whose
  ``static/webpack-macros.html`` leaves out pydata-sphinx-theme's ``fontawesome.js``
  (1.5 MB, 40 % of a page: the theme's CSS already draws every icon with Font
  Awesome's web fonts, and the script only redraws them as SVG), and warns when
  ``intersphinx_mapping`` is set (the build would fetch inventories from elsewhere);
- :func:`copy_mathjax` (``build-finished``) copies MathJax's ``tex-chtml.js`` and
  the files it loads on demand into ``_static/mathjax`` of the HTML output;
- :func:`drop_duplicate_scripts` (``html-page-context``) keeps one copy of a script
  registered twice (sphinx-thebe's inline ``const THEBE_JS_URL`` twice is a
  SyntaxError);
- :func:`replace_live_widgets` (``html-page-context``) replaces each live widget view
  by a note that it needs a running kernel: the site has no widget manager. Only a
  widget-only output is drawn as a view (chapters 07 and 08 end with a text box that
  runs the model); an ``interactive_figure`` output shows its static ``text/html``
  frames instead (``nb_mime_priority_overrides`` in ``_config.yml``). A page saved
  with widget state is a build error, since myst-nb would then load the widget
  manager from a CDN (``scripts/run_notebooks.py`` saves none).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_SOURCE = "mathjax/es5"  # inside node_modules
MATHJAX_JS = "mathjax/tex-chtml.js"  # inside _static of the built site
# Only tex-chtml.js (and what it loads on demand) is used.
MATHJAX_UNUSED = ("*-full*.js", "mml-*.js", "tex-mml-*.js", "tex-svg*.js", "node-main.js", "svg")

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_RE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>', re.S
)
LIVE_ONLY_HTML = (
    '<div class="admonition note attn-live-only"><p class="admonition-title">Live widget</p>'
    "<p>This output is an interactive widget that needs a running Python kernel. "
    "Open the notebook on Colab or Binder (the rocket button at the top of the page) "
    "or in Jupyter to use it.</p></div>"
)


def _mathjax_source(app: Sphinx) -> Path:
    return Path(app.srcdir) / "node_modules" / MATHJAX_SOURCE


def use_local_mathjax(app: Sphinx, config: Config) -> None:
    """Point MathJax at this site's copy, drop fontawesome.js, refuse intersphinx."""
    if not _mathjax_source(app).is_dir():
        raise ExtensionError(
            "The website's front-end assets are not installed: missing "
            f"node_modules/{MATHJAX_SOURCE}. "
            "Run `npm ci` in the repository root (scripts/build_book.sh does)."
        )
    config.mathjax_path = MATHJAX_JS
    config.templates_path = [*config.templates_path, str(Path(__file__).parent / "templates")]
    if config.intersphinx_mapping:
        logger.warning(
            "intersphinx_mapping must stay empty: the build and the site make no "
            "outside requests. Received: %s",
            sorted(config.intersphinx_mapping),
        )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax from node_modules into _static/ of the HTML output."""
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / Path(MATHJAX_JS).parent
    shutil.copytree(_mathjax_source(app), target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*MATHJAX_UNUSED))


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                           doctree) -> None:
    """Keep the first of two identical scripts of a page (same file, same attributes)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    kept, seen = [], set()
    for js in scripts:
        attributes = sorted((getattr(js, "attributes", None) or {}).items())
        key = (getattr(js, "filename", None) or None, repr(attributes))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def replace_live_widgets(app: Sphinx, pagename: str, templatename: str, context: dict,
                         doctree) -> None:
    """Swap each live widget view for a note; warn (an error in the -W build) on widget state."""
    body = context.get("body") or ""
    if WIDGET_VIEW_MIMETYPE in body:
        context["body"] = WIDGET_VIEW_RE.sub(LIVE_ONLY_HTML, body)
    scripts = context.get("script_files") or []
    if any((getattr(js, "attributes", None) or {}).get("type") == WIDGET_STATE_MIMETYPE
           for js in scripts):
        logger.warning(
            "%s was saved with widget state, for which myst-nb loads the widget manager "
            "from a CDN: execute it with scripts/run_notebooks.py, which saves none.", pagename
        )


def setup(app: Sphinx) -> dict:
    # Before the theme reads its options and templates.
    app.connect("config-inited", use_local_mathjax, priority=900)
    # After myst-nb has added the page's scripts (priority 500).
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", replace_live_widgets, priority=900)
    app.connect("build-finished", copy_mathjax)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
