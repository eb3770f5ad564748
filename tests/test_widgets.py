"""interactive_figure: frames for every combination, a static HTML player, a live UI."""

import json
import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402

from attn_lib.widgets import MAX_FRAMES, interactive_figure  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

calls = []


def draw(width, kind="line"):
    calls.append((width, kind))
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, width], "-" if kind == "line" else "o")
    ax.set_title(f"{kind} {width}")
    return fig


def test_one_frame_per_combination_in_row_major_order():
    calls.clear()
    figure = interactive_figure(draw, {"width": [1, 2, 3], "kind": ["line", "dots"]})
    assert len(figure.frames) == 6
    assert calls == [(1, "line"), (1, "dots"), (2, "line"), (2, "dots"), (3, "line"),
                     (3, "dots")]
    assert all(frame.startswith(b"\x89PNG") for frame in figure.frames)
    assert len(set(figure.frames)) == 6


def test_static_html_has_a_slider_a_dropdown_and_starts_at_the_default_frame():
    figure = interactive_figure(draw, {"width": [1, 2, 3], "kind": ["line", "dots"]},
                                defaults={"width": 2})
    html = figure.html
    assert 'type="range"' in html and "<select" in html
    data = json.loads(re.search(r'class="attn-frames-data">(.*?)</script>', html).group(1))
    assert data["sizes"] == [3, 2] and len(data["frames"]) == 6
    shown = re.search(r'class="attn-frames-image" alt="[^"]*" src="([^"]+)"', html).group(1)
    assert shown == data["frames"][2]  # width=2 (index 1) with kind="line" (index 0)


def test_named_choices_are_dropdowns_and_numbers_sliders_in_increasing_order():
    figure = interactive_figure(draw, {"width": [1, 2], "kind": [("a line", "line"),
                                                               ("dots", "dots")]})
    scaled = interactive_figure(lambda scaled: draw(2 if scaled else 1), {"scaled": [False,
                                                                             True]})
    assert figure.sliders == [True, False] and scaled.sliders == [False]
    assert [label for label, _ in scaled.options[0]] == ["no", "yes"]
    assert 'type="range"' not in scaled.html and "<select" in scaled.html
    live = [type(control) for control in scaled.widget.children[0].children]
    assert live == [ipywidgets.Dropdown]
    with pytest.raises(ValueError, match=r"slider 'width' must increase.*\[5, 8, 3\]"):
        interactive_figure(draw, {"width": [5, 8, 3]})


def test_display_bundle_holds_the_live_widget_and_the_static_html():
    figure = interactive_figure(draw, {"width": [1, 2]})
    data, _ = DisplayFormatter().format(figure)  # what IPython sends to the front end
    assert set(data) == {WIDGET_VIEW, "text/html", "text/plain"}
    assert data[WIDGET_VIEW] == {"version_major": 2, "version_minor": 0,
                                 "model_id": figure.widget.model_id}
    assert "attn-frames" in data["text/html"]
    assert data["text/plain"].startswith("Interactive figure")


def test_display_bundle_is_built_without_ipywidgets_8s_repr_mimebundle(monkeypatch):
    # ipywidgets 7 (Colab's 7.7.1) has no Widget._repr_mimebundle_: calling it raised
    # AttributeError at every chapter's figure. Build the bundle with it removed.
    monkeypatch.delattr(ipywidgets.Widget, "_repr_mimebundle_", raising=False)
    figure = interactive_figure(draw, {"width": [1, 2]})
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {WIDGET_VIEW, "text/html", "text/plain"}
    assert bundle[WIDGET_VIEW]["model_id"] == figure.widget.model_id


def test_too_many_frames_or_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=rf"at most {MAX_FRAMES} frames"):
        interactive_figure(draw, {"width": list(range(MAX_FRAMES + 1))})
    with pytest.raises(ValueError, match=r"`controls` must be a non-empty dict"):
        interactive_figure(draw, {})
    with pytest.raises(TypeError, match=r"`draw` must be a function"):
        interactive_figure("draw", {"width": [1]})
    with pytest.raises(ValueError, match=r"defaults\['width'\].*Received: 7"):
        interactive_figure(draw, {"width": [1, 2]}, defaults={"width": 7})


def test_frames_over_the_page_budget_are_refused():
    def noise(seed):  # random pixels do not compress
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(np.random.default_rng(seed).random((400, 400)))
        return fig

    with pytest.raises(ValueError, match=r"more than the 1,000,000"):
        interactive_figure(noise, {"seed": [1, 2, 3]}, dpi=200)


def test_a_failing_draw_function_leaves_no_figure_open():
    # An open broken figure would be drawn again by the inline backend after the cell,
    # repeating the error in the notebook's outputs.
    def broken(width):
        fig, ax = plt.subplots()
        raise RuntimeError(f"cannot draw width {width}")

    plt.close("all")
    with pytest.raises(RuntimeError, match="cannot draw width 1"):
        interactive_figure(broken, {"width": [1, 2]})
    assert plt.get_fignums() == []


def test_live_widget_shows_the_frame_of_the_chosen_values():
    figure = interactive_figure(draw, {"width": [1, 2, 3], "kind": ["line", "dots"]})
    controls_box, image = figure.widget.children
    width, kind = controls_box.children
    assert image.value == figure.frames[0]
    width.value, kind.value = 2, 1  # indices: width=3, kind="dots"
    assert image.value == figure.frames[5]
