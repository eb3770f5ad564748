"""The core path and the optional parts of a chapter, as the website shows them.

- A section whose title starts with "Deep dive:" is optional: its body is folded into a
  ``<details class="deep-dive">`` element, closed until the reader opens it. In Jupyter and
  Colab the same section is a plain section whose first line says it is optional.
- The answers to a chapter's questions are ``<details class="answer">`` elements written in
  the notebook's Markdown (they fold in Jupyter and Colab too); this extension only styles
  them, with the deep dives, in ``reading_path.css``.

Plain HTML ``<details>`` needs no script: it opens with the keyboard and works offline.
"""

import html
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

DEEP_DIVE = "Deep dive:"
CSS = Path(__file__).parent / "reading_path.css"


def fold_deep_dives(app: Sphinx, doctree: nodes.document) -> None:
    """Wrap the body of every "Deep dive:" section in a closed <details> element."""
    for section in list(doctree.findall(nodes.section)):
        title = section.next_node(nodes.title)
        if title is None or title.parent is not section:
            continue
        if not title.astext().startswith(DEEP_DIVE):
            continue
        name = title.astext()[len(DEEP_DIVE):].strip()
        opening = nodes.raw(
            "", '<details class="deep-dive"><summary>Optional deep dive: '
            f"{html.escape(name)}</summary>\n", format="html")
        section.insert(section.index(title) + 1, opening)
        section.append(nodes.raw("", "</details>\n", format="html"))


def copy_css(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / CSS.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(CSS.read_text(encoding="utf-8"), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", fold_deep_dives)
    app.connect("build-finished", copy_css)
    app.add_css_file(CSS.name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
