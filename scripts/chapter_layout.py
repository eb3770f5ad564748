"""What a chapter is made of: its core path, its deep dives, its hidden solutions and answers.

    .venv/bin/python scripts/chapter_layout.py            # the core-path table, measured
    .venv/bin/python scripts/chapter_layout.py --no-run   # words and code lines only

The conventions (CONTRIBUTING.md, "Chapters"):

- A section whose level-2 heading starts with ``## Deep dive:`` is optional: a first reading
  skips it, and no later cell needs it. The website folds it (book/_ext/reading_path.py).
- ``## Exercises`` holds the exercises; a worked solution is a code cell tagged ``solution``.
- A question's answer is a ``<details class="answer">`` block after the question; an answer
  computed in code is a cell tagged ``answer``.

:func:`collapse` gives every solution and answer cell the metadata that folds it in
JupyterLab, Jupyter Notebook (``jupyter.source_hidden``/``outputs_hidden``), Colab (a form
cell, ``cellView: form``, titled by its first line ``#@title …``) and on the website (MyST-NB's
``code_prompt_show``); scripts/run_notebooks.py applies it before it executes a chapter.
:func:`core_path` measures what a first reading takes; the table this script prints is the
one in book/instructors.md (tests/test_reading_path.py compares them).
"""

import argparse
import copy
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTION, ANSWER, HIDE = "solution", "answer", "hide-cell"
DEEP_DIVE = "## Deep dive:"
EXERCISES = "## Exercises"
ANSWER_BLOCK = re.compile(r'<details class="answer">.*?</details>', re.S)
CHECK_CALL = re.compile(r'check\("(\d+\.\d+)"')

# Reading speeds of the time model: a learner who knows Python and a little deep learning
# reads technical prose at about 150 words a minute and reads, runs and looks at the output of
# about 10 lines of code a minute.
WORDS_PER_MINUTE = 150
CODE_LINES_PER_MINUTE = 10


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _set_source(cell, text):
    """Set a cell's source in the form it has: a string (nbformat) or a list of lines (JSON)."""
    if isinstance(cell["source"], str):
        cell["source"] = text
        return
    lines = text.split("\n")
    cell["source"] = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def title(cell):
    """The title a solution or answer cell shows when it is folded."""
    if SOLUTION in tags(cell):
        found = CHECK_CALL.search(source(cell))
        number = f" {found.group(1)}" if found else ""
        return f"Solution{number} (try first)"
    return "Answer (computed; think first)"


def collapse(nb):
    """Fold every solution and answer cell of `nb` in Jupyter, Colab and on the website."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or not {SOLUTION, ANSWER} & set(tags(cell)):
            continue
        name = title(cell)
        text = re.sub(r"\A#@title [^\n]*\n", "", source(cell))
        _set_source(cell, f"#@title {name}\n{text}")
        metadata = cell.setdefault("metadata", {})
        if HIDE not in metadata.setdefault("tags", []):
            metadata["tags"].append(HIDE)
        metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
        metadata["cellView"] = "form"
        metadata["mystnb"] = {"code_prompt_show": name,
                              "code_prompt_hide": f"Hide {name[0].lower()}{name[1:]}"}
    return nb


def sections(nb):
    """Per cell, the kind of section it starts in: "core", "deep dive" or "exercises".

    A cell belongs to the section that its first line is in; a Markdown cell that opens a
    section with its first line belongs to that section.
    """
    kinds, current = [], "core"
    for cell in nb["cells"]:
        lines = source(cell).splitlines()
        opening = current
        if cell["cell_type"] == "markdown":
            for k, line in enumerate(lines):
                if line.startswith("## "):
                    current = ("deep dive" if line.startswith(DEEP_DIVE) else
                               "exercises" if line.startswith(EXERCISES) else "core")
                    if k == 0 or not "".join(lines[:k]).strip():
                        opening = current
        kinds.append(opening)
    return kinds


def core_cells(nb):
    """The cells of the core path: outside deep dives and exercises, not hidden."""
    return [cell for cell, kind in zip(nb["cells"], sections(nb)) if kind == "core"
            and not {HIDE, SOLUTION, ANSWER, "remove-cell", "remove-input"} & set(tags(cell))]


def core_path(nb):
    """``{"words": …, "code_lines": …}`` of the core path (answers folded away)."""
    words = code_lines = 0
    for cell in core_cells(nb):
        if cell["cell_type"] == "markdown":
            words += len(ANSWER_BLOCK.sub(" ", source(cell)).split())
        elif cell["cell_type"] == "code":
            code_lines += sum(1 for line in source(cell).splitlines() if line.strip())
    return {"words": words, "code_lines": code_lines}


def core_notebook(nb):
    """A copy of `nb` without its deep-dive cells: what a first reading runs."""
    core = copy.deepcopy(nb)
    core["cells"] = [cell for cell, kind in zip(nb["cells"], sections(nb))
                     if kind != "deep dive"]
    return core


def minutes(stats, seconds=0.0):
    """The time model: reading the prose and the code, plus running the chapter."""
    return (stats["words"] / WORDS_PER_MINUTE + stats["code_lines"] / CODE_LINES_PER_MINUTE
            + seconds / 60)


def chapters():
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def load(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def table(rows):
    """The Markdown table of book/instructors.md, from (path, stats, minutes) rows."""
    lines = ["| Chapter | Words | Code lines | Reading and running |",
             "| --- | ---: | ---: | ---: |"]
    for path, stats, total in rows:
        lines.append(f"| {{doc}}`../notebooks/{path.stem}` | {stats['words']:,} | "
                     f"{stats['code_lines']} | {total:.0f} min |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true",
                        help="count only; do not execute the core paths")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))
    rows = []
    for path in chapters():
        nb = load(path)
        stats = core_path(nb)
        seconds = 0.0
        if not args.no_run:
            import nbformat
            from run_notebooks import execute_node

            core = nbformat.reads(json.dumps(core_notebook(nb)), as_version=4)
            _, seconds = execute_node(core, path.parent)
        rows.append((path, stats, minutes(stats, seconds)))
        print(f"{path.stem}: {stats['words']} words, {stats['code_lines']} code lines, "
              f"core run {seconds:.1f} s, {minutes(stats, seconds):.0f} min", file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
