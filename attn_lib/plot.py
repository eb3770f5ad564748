"""One look for every attention heatmap in the book."""

import matplotlib.pyplot as plt
import numpy as np


def _as_grid(matrices):
    """Any of ``(Tq, Tv)``, ``(n, Tq, Tv)``, ``(rows, cols, Tq, Tv)`` -> 4-D array."""
    if hasattr(matrices, "numpy"):
        matrices = matrices.numpy()
    array = np.asarray(matrices, dtype=float)
    if array.ndim not in (2, 3, 4):
        raise ValueError(
            "`matrices` must be one matrix (Tq, Tv), a row of them (n, Tq, Tv) or a grid "
            f"(rows, cols, Tq, Tv). Received: matrices.shape={array.shape}"
        )
    while array.ndim < 4:
        array = array[np.newaxis]
    return array


def _check_labels(name, labels, size, axis_name):
    if labels is not None and len(labels) != size:
        raise ValueError(
            f"`{name}` must have one label per {axis_name} ({size}). "
            f"Received: {len(labels)} labels"
        )


def show_heatmaps(matrices, xlabel="Keys", ylabel="Queries", titles=None, row_titles=None,
                  xticklabels=None, yticklabels=None, cmap="Reds", vmin=None, vmax=None,
                  annotate=False, figsize=None, colorbar=True, colorbar_label="attention weight",
                  suptitle=None):
    """Draw attention weights as heatmaps with one shared colour bar (or none).

    Args:
        matrices: array or tensor ``(Tq, Tv)``, ``(n, Tq, Tv)`` (a row of n maps)
            or ``(rows, cols, Tq, Tv)`` (a grid, e.g. heads × examples).
        xlabel, ylabel: axis labels (keys along x, queries along y by default).
        titles: one title per column (or a ``rows × cols`` nested list).
        row_titles: one label per row, written at the left of each row.
        xticklabels: ``Tv`` token labels for the keys; yticklabels: ``Tq`` for queries.
        cmap: matplotlib colour map. vmin, vmax: colour range (default: the data's,
            with ``vmin=0``).
        annotate: write each value (2 decimals) in its cell; for small matrices.
        figsize: figure size in inches (default: grows with the grid).
        colorbar: draw the shared colour bar (default). ``False`` leaves it out, when
            the title or the annotations already give the values that matter; the
            figure then has one axes per heatmap and nothing else.
        colorbar_label: the colour bar's label (unused without a colour bar).
        suptitle: a title over the whole figure.

    Returns:
        The matplotlib ``Figure``. In a notebook write ``fig = show_heatmaps(...)``
        so the figure is shown once.

    Raises:
        ValueError: `matrices` of the wrong rank, or label lists of the wrong length.
        TypeError: `colorbar` is not ``True`` or ``False``.

    Example:
        >>> fig = show_heatmaps(np.eye(3), xticklabels=list("abc"), yticklabels=list("abc"))
        >>> len(fig.axes)  # one heatmap and its colour bar
        2
    """
    if not isinstance(colorbar, bool):
        raise TypeError(f"`colorbar` must be True or False. Received: colorbar={colorbar!r}")
    grid = _as_grid(matrices)
    rows, cols, num_queries, num_kv = grid.shape
    _check_labels("xticklabels", xticklabels, num_kv, "key (the last axis)")
    _check_labels("yticklabels", yticklabels, num_queries, "query (the second-to-last axis)")
    _check_labels("row_titles", row_titles, rows, "row")
    if figsize is None:
        cell = 0.32 if max(num_queries, num_kv) > 8 else 0.45
        width = min(3.2, max(1.6, cell * num_kv))
        height = min(3.2, max(1.2, cell * num_queries))
        figsize = (width * cols + (1.2 if colorbar else 0.4), height * rows + 0.6)
    vmin = 0.0 if vmin is None else vmin
    vmax = float(np.nanmax(grid)) if vmax is None else vmax
    fig, axes = plt.subplots(rows, cols, figsize=figsize, sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            image = ax.imshow(grid[r, c], cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
            if annotate:
                for (i, j), value in np.ndenumerate(grid[r, c]):
                    shade = "white" if value > vmin + 0.6 * (vmax - vmin) else "black"
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                            color=shade)
            if xticklabels is not None:
                ax.set_xticks(range(num_kv), xticklabels, rotation=90 if num_kv > 6 else 0)
            if yticklabels is not None:
                ax.set_yticks(range(num_queries), yticklabels)
            if r == rows - 1:
                ax.set_xlabel(xlabel)
            if c == 0:
                label = ylabel if row_titles is None else f"{row_titles[r]}\n{ylabel}"
                ax.set_ylabel(label)
            title = _title_at(titles, r, c, rows)
            if title:
                ax.set_title(title, fontsize=10)
    if colorbar:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=colorbar_label)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _title_at(titles, r, c, rows):
    if titles is None:
        return None
    if rows > 1 and len(titles) == rows and isinstance(titles[0], (list, tuple)):
        return titles[r][c]
    return titles[c] if r == 0 else None


__all__ = ["show_heatmaps"]
