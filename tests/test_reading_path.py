"""A newcomer's path through the chapters (CONTRIBUTING.md, "Chapters"): solutions and
answers folded in JupyterLab, Jupyter Notebook, Colab and on the website; a core path that
stands without its deep dives and fits the time the instructors' guide states; every
question answered; every source named.
"""

import ast
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import chapter_layout as layout  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PART_ONE = [p for p in NOTEBOOKS if p.name[:2] in {"00", "01", "02", "03", "04"}]
ids = {"ids": lambda p: p.stem}


load, source = layout.load, layout.source


def tagged(nb, tag):
    return [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]


# ---------------------------------------------------------------------------------------------
# Solutions and answers: folded everywhere


def assert_folded(cell, title):
    metadata = cell["metadata"]
    assert source(cell).startswith(f"#@title {title}\n"), source(cell)[:80]
    assert metadata.get("jupyter") == {"source_hidden": True, "outputs_hidden": True}
    assert metadata.get("cellView") == "form", "Colab shows a form cell folded"
    assert "hide-cell" in metadata["tags"], "the website hides the cell behind a toggle"
    assert metadata.get("mystnb", {}).get("code_prompt_show") == title


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_every_exercise_has_one_folded_solution_titled_by_its_number(path):
    nb = load(path)
    exercises = re.findall(r"^### Exercise (\d+\.\d+)",
                           "\n".join(source(c) for c in nb["cells"]), re.M)
    solutions = tagged(nb, layout.SOLUTION)
    numbers = [layout.CHECK_CALL.search(source(c)).group(1) for c in solutions]
    assert numbers == exercises, "one solution per exercise, in order"
    for cell, number in zip(solutions, numbers):
        assert_folded(cell, f"Solution {number} (try first)")


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_a_solution_shows_only_that_it_passes(path):
    """Colab shows a form cell's output under its title: the output must not give the
    answer away, so a worked solution prints only its check's verdict."""
    for cell in tagged(load(path), layout.SOLUTION):
        number = layout.CHECK_CALL.search(source(cell)).group(1)
        printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
        shown = [o["output_type"] for o in cell["outputs"] if o["output_type"] != "stream"]
        assert printed == f"Exercise {number}: correct. Well done!\n" and not shown, (
            f"solution {number} shows more than its verdict: {printed[:200]!r} {shown}")


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_computed_answers_are_folded(path):
    for cell in tagged(load(path), layout.ANSWER):
        assert_folded(cell, "Answer (computed; think first)")


def test_folding_is_what_chapter_layout_collapse_writes():
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["solution"]},
                     "source": ["answer = 3\n", 'check("2.1", answer)']}]}
    layout.collapse(nb)
    layout.collapse(nb)  # twice: one title line, not two
    assert_folded(nb["cells"][0], "Solution 2.1 (try first)")
    assert source(nb["cells"][0]).count("#@title") == 1


# ---------------------------------------------------------------------------------------------
# Questions have answers


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_every_question_has_a_folded_answer(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        parts = re.split(r"\*\*Question:?\*\*:?", source(cell))
        for question in parts[1:]:
            assert '<details class="answer"><summary>Answer</summary>' in question, (
                f"no answer after the question: {question[:120]!r}")


# ---------------------------------------------------------------------------------------------
# The core path


def defined_and_used(code):
    """Names a cell binds and names it reads (magics and shell lines left out)."""
    lines = [line[:len(line) - len(line.lstrip())] + "pass"
             if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    tree = ast.parse("\n".join(lines))
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else used).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, used


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_no_cell_after_a_deep_dive_needs_a_name_only_the_deep_dive_defines(path):
    nb = load(path)
    core_names, dive_names, leaks = set(), set(), []
    for cell, kind in zip(nb["cells"], layout.sections(nb)):
        if cell["cell_type"] != "code":
            continue
        bound, used = defined_and_used(source(cell))
        if kind == "deep dive":
            dive_names |= bound - core_names
            continue
        needed = (used - core_names - bound) & dive_names
        if needed:
            leaks.append((source(cell).splitlines()[0][:60], sorted(needed)))
        core_names |= bound
    assert not leaks, f"core cells use names defined only in deep dives: {leaks}"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_deep_dives_say_they_are_optional(path):
    for cell in load(path)["cells"]:
        lines = source(cell).splitlines()
        for k, line in enumerate(lines):
            if cell["cell_type"] == "markdown" and line.startswith(layout.DEEP_DIVE):
                following = [rest for rest in lines[k + 1:] if rest.strip()][:1]
                assert following and following[0].startswith("*Optional"), line


def stated_times():
    """Chapter stem -> (words, code lines, minutes) from book/instructors.md."""
    text = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \{doc\}`\.\./notebooks/(\w+)` \| ([\d,]+) \| (\d+) \| (\d+) min \|$",
                      text, re.M)
    return {stem: (int(words.replace(",", "")), int(lines), int(minutes))
            for stem, words, lines, minutes in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_instructors_guide_states_the_core_path_as_the_chapter_has_it(path):
    stated = stated_times()
    assert path.stem in stated, "book/instructors.md has no core-path row for the chapter"
    words, lines, minutes = stated[path.stem]
    measured = layout.core_path(load(path))
    assert (words, lines) == (measured["words"], measured["code_lines"]), (
        "rerun scripts/chapter_layout.py and paste its table into book/instructors.md")
    reading = layout.minutes(measured)
    assert reading - 1 <= minutes <= reading + 3, "minutes = reading + a run under 2 min"


def test_part_one_core_path_takes_at_most_two_hours():
    stated = stated_times()
    assert sum(stated[p.stem][2] for p in PART_ONE) <= 120


# ---------------------------------------------------------------------------------------------
# Sources and lint


READER_FACING = [*NOTEBOOKS, *sorted((ROOT / "book").glob("*.md")),
                 *sorted((ROOT / "attn_lib" / "exercises").glob("*.py"))]
# "the seed" names a source document; random seeds ("every seed we tried") are fine.
SEED_AS_SOURCE = re.compile(
    r"\b(the|its|a) seed\b(?!s? (we|you|they|of (the )?(run|training)|value|number|is \d))"
    r"|\bseed[ _-](layer|keys?|query|example|code|post|document)|\b_?SEED_[A-Z]", re.I)


@pytest.mark.parametrize("path", READER_FACING, ids=lambda p: p.name)
def test_no_source_is_called_the_seed(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(source(c) for c in load(path)["cells"])
    found = [m.group(0) for m in SEED_AS_SOURCE.finditer(text)]
    assert not found, f"name the source instead: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_a_blog_post_is_cited_before_the_chapter_speaks_of_it(path):
    text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    first_blog = re.search(r"\bblog", text, re.I)
    if first_blog:
        cite = re.search(r"\{cite(:[tp])?\}`", text)
        assert cite and cite.start() < first_blog.end() + 400, (
            f"'blog' before any citation: {text[max(0, first_blog.start() - 80):][:200]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_no_lint_comments_in_chapter_cells(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert not re.search(r"#\s*(noqa|type:|fmt:|pragma)", source(cell)), source(cell)
