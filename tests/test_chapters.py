"""The chapter contract (CONTRIBUTING.md): the mechanical parts, for every notebook."""

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_the_release_the_colab_cells_install_is_this_version_of_attn_lib():
    import attn_lib

    assert config()["attn_lib_release"] == f"v{attn_lib.__version__}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_was_executed_top_to_bottom_without_errors(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{len(errors)} cell(s) store an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_listed_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_cell_installs_the_configured_release_of_attn_lib(path):
    first = code_cells(load(path))[0]
    text = source(first)
    assert "google.colab" in text and "--no-deps" in text, "first code cell is not the Colab cell"
    installs = re.findall(r"git\+(https://[^@\s\"]+)@([\w.\-/]+)", text)
    wanted = (config()["repository"]["url"].rstrip("/"), config()["attn_lib_release"])
    assert installs == [wanted], (
        f"Colab cell installs {installs}, not the repository and release tag of _config.yml")
    assert "hide-cell" in first["metadata"].get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_title_objectives_and_prerequisites(path):
    cells = load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown" and source(cells[0]).lstrip().startswith("# ")
    markdown = [source(c) for c in cells if c["cell_type"] == "markdown"]
    objectives = [m for m in markdown if "## Learning objectives" in m]
    assert objectives, "no '## Learning objectives' heading"
    bullets = re.findall(r"^\s*[-*] ", objectives[0].split("**Prerequisites:**")[0], re.M)
    assert 3 <= len(bullets) <= 5, f"{len(bullets)} objectives"
    assert any("**Prerequisites:**" in m for m in markdown)
    assert any(m.lstrip().startswith("## Summary") for m in markdown)
    assert any("{cite" in m for m in markdown), "no citation"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_shows_a_heatmap_and_an_interactive_figure(path):
    outputs = [o for c in code_cells(load(path)) for o in c["outputs"]]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "no image output"
    widgets = [o for o in outputs
               if WIDGET_MIME in o.get("data", {}) and "attn-frames" in "".join(
                   o["data"].get("text/html", ""))]
    assert widgets, "no interactive_figure output (live widget + static frames)"
    assert any("show_heatmaps(" in source(c) for c in code_cells(load(path)))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_three_exercises_with_self_checks_and_hidden_solutions(path):
    cells = load(path)["cells"]
    headings = [(i, m.group(1)) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                for m in [re.search(r"^### Exercise (\d+\.\d+)", source(c), re.M)] if m]
    assert len(headings) >= 3, f"{len(headings)} exercises"
    for i, exercise_id in headings:
        following = [c for c in cells[i + 1:i + 4] if c["cell_type"] == "code"]
        calls = [c for c in following if f'check("{exercise_id}"' in source(c)]
        visible = [c for c in calls if "hide-cell" not in c["metadata"].get("tags", [])]
        hidden = [c for c in calls if "hide-cell" in c["metadata"].get("tags", [])]
        assert visible, f"exercise {exercise_id}: no visible self-check cell"
        assert hidden, f"exercise {exercise_id}: no solution cell tagged hide-cell"
        printed = "".join("".join(o.get("text", "")) for o in hidden[0]["outputs"])
        assert "correct" in printed and "not yet" not in printed, (
            f"exercise {exercise_id}: the worked solution does not pass its own check")
