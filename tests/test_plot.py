"""show_heatmaps: layout for one matrix, a row and a grid; label checks."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from attn_lib.plot import show_heatmaps  # noqa: E402


@pytest.mark.parametrize("shape, panels", [((3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4, 5), 6)])
def test_one_panel_per_matrix_plus_one_shared_colour_bar(shape, panels):
    fig = show_heatmaps(np.random.default_rng(0).random(shape))
    assert len(fig.axes) == panels + 1


def test_token_labels_titles_and_row_titles_are_drawn():
    fig = show_heatmaps(tf.ones((2, 2, 3)), xticklabels=["a", "b", "c"],
                        yticklabels=["x", "y"], titles=["left", "right"], row_titles=None)
    first = fig.axes[0]
    assert [t.get_text() for t in first.get_xticklabels()] == ["a", "b", "c"]
    assert first.get_title() == "left" and fig.axes[1].get_title() == "right"
    grid = show_heatmaps(np.ones((2, 1, 2, 2)), row_titles=["head 1", "head 2"])
    assert grid.axes[1].get_ylabel().startswith("head 2")


def test_annotate_writes_every_value():
    fig = show_heatmaps(np.array([[0.25, 0.75]]), annotate=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.25", "0.75"]


def test_colorbar_false_draws_only_the_heatmaps_and_the_figure_still_saves():
    # Chapter 07 once removed the colour bar by hand (fig.axes[1].remove()), which breaks
    # savefig with constrained layout on matplotlib < 3.11; colorbar=False never adds it.
    fig = show_heatmaps(np.random.default_rng(0).random((2, 3, 4)), colorbar=False,
                        titles=["left", "right"])
    assert len(fig.axes) == 2
    assert all(ax.images for ax in fig.axes)  # both are heatmaps, none is a colour bar
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_colorbar_must_be_a_bool():
    with pytest.raises(TypeError, match=r"`colorbar` must be True or False.*colorbar='no'"):
        show_heatmaps(np.ones((2, 2)), colorbar="no")


def test_wrong_label_counts_and_ranks_are_named():
    with pytest.raises(ValueError, match=r"xticklabels.*one label per key.*\(4\).*3 labels"):
        show_heatmaps(np.ones((3, 4)), xticklabels=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"matrices.*matrices.shape=\(4,\)"):
        show_heatmaps(np.ones(4))
