"""Links to the book's repository, derived from ``_config.yml``, the only file that names it.

At ``config-inited``, :func:`repository_links` reads the theme options that Jupyter Book
makes from the ``repository`` and ``launch_buttons`` sections of ``_config.yml`` and

- writes ``path_to_docs: ""`` for ``path_to_book: "."`` (the root), since the theme
  would otherwise write ``./`` into every launch URL;
- defines the MyST substitutions ``{{ repo_url }}``, ``{{ repo_link }}`` and
  ``{{ binder_link }}`` (used on ``book/running.md``), unless ``_config.yml`` sets them.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config

GITHUB = "https://github.com/"


def repository_links(app: Sphinx, config: Config) -> None:
    """Fix the theme's path to the book; define the repository substitutions."""
    theme = config.html_theme_options
    if str(theme.get("path_to_docs", "")).strip("/") in ("", "."):
        theme["path_to_docs"] = ""
    repo = str(theme.get("repository_url", "")).rstrip("/")
    if not repo.startswith(GITHUB):
        return
    slug = repo[len(GITHUB):]
    branch = theme.get("repository_branch", "main")
    binder = str(theme.get("launch_buttons", {}).get("binderhub_url", "https://mybinder.org"))
    subs = dict(config.myst_substitutions or {})
    subs.setdefault("repo_url", repo)
    subs.setdefault("repo_link", f"[{slug}]({repo})")
    subs.setdefault("binder_link", f"[Binder]({binder.rstrip('/')}/v2/gh/{slug}/{branch}"
                                   "?urlpath=lab/tree/notebooks)")
    config.myst_substitutions = subs


def setup(app: Sphinx) -> dict:
    # Before myst-nb reads its configuration (builder-inited) and the theme its options.
    app.connect("config-inited", repository_links, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
