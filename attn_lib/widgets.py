"""Interactive figures that work in Jupyter, in Colab *and* on the static website.

:func:`interactive_figure` takes a drawing function and a few controls, each with
a short list of values. It returns one object whose notebook display holds two
views of the same thing:

- a live ipywidgets UI (sliders, dropdowns and an image), used by Jupyter and
  Colab;
- a static HTML version: every combination of control values is drawn once, as
  a small PNG, and a few lines of JavaScript switch between the frames, used by
  the website (which has no kernel) and by any viewer without widgets.

Both views switch between the same frames, drawn once when the cell runs, so a
control never retrains or recomputes anything: keep the work in the drawing
function light, and compute expensive results before. To explore values that
are not in the lists, call the drawing function yourself.
"""

import base64
import hashlib
import html
import io
import itertools
import json
from numbers import Number

import ipywidgets
import matplotlib.pyplot as plt
from PIL import Image

MAX_FRAMES = 60
MAX_BYTES = 1_000_000

_SCRIPT = """
(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector(".attn-frames-data").textContent);
  var controls = root.querySelectorAll("[data-control]");
  var image = root.querySelector(".attn-frames-image");
  function update() {
    var index = 0;
    controls.forEach(function (control, k) {
      var i = parseInt(control.value, 10);
      index = index * data.sizes[k] + i;
      var shown = root.querySelector("[data-value-for='" + control.dataset.control + "']");
      if (shown) { shown.textContent = data.labels[k][i]; }
    });
    image.src = data.frames[index];
  }
  controls.forEach(function (control) { control.addEventListener("input", update); });
  controls.forEach(function (control) { control.addEventListener("change", update); });
})();
"""


def _is_pair(item):
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _is_slider(values):
    """A control is a slider when its values are plain numbers (not booleans, not labelled):
    anything else is a named choice, shown as a dropdown."""
    return all(isinstance(v, Number) and not isinstance(v, bool) for v in values)


def _options(values):
    """``[(label, value), ...]`` from plain values or ``(label, value)`` pairs."""
    options = []
    for item in values:
        if _is_pair(item):
            options.append(item)
        elif isinstance(item, bool):
            options.append(("yes" if item else "no", item))
        else:
            label = f"{item:g}" if isinstance(item, float) else str(item)
            options.append((label, item))
    return options


def _render(draw, values, dpi):
    """Call `draw(**values)` and return the figure as a small PNG.

    Plots use few colours, so a 256-colour palette (no dithering) looks the same
    as full colour and takes about 40% of the bytes: the page loads faster. The
    figures are closed even when `draw` or `savefig` fails: a figure left open is
    drawn again by the notebook after the cell, which repeats the error.
    """
    plt.close("all")
    buffer = io.BytesIO()
    try:
        figure = draw(**values)
        figure = figure if figure is not None else plt.gcf()
        figure.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close("all")
    image = Image.open(buffer).convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                             dither=Image.Dither.NONE)
    small = io.BytesIO()
    palette.save(small, format="PNG", optimize=True)
    return small.getvalue()


class InteractiveFigure:
    """A figure with controls; see :func:`interactive_figure`.

    Attributes:
        frames: list of PNG bytes, one per combination of control values, in
            row-major order of the controls.
        html: the static HTML (controls, frames and script).
        widget: the live ipywidgets UI (controls and an ``Image``).
    """

    def __init__(self, draw, controls, defaults, dpi, description):
        self.names = list(controls)
        self.options = [_options(controls[name]) for name in self.names]
        self.sliders = [_is_slider(controls[name]) for name in self.names]
        self.defaults = [
            self._default_index(name, options, defaults)
            for name, options in zip(self.names, self.options)
        ]
        self.description = description
        self.frames = [
            _render(draw, dict(zip(self.names, (value for _, value in combo))), dpi)
            for combo in itertools.product(*self.options)
        ]
        self.html = self._static_html()
        size = len(self.html.encode())  # what the page downloads: base64 frames and all
        if size > MAX_BYTES:
            raise ValueError(
                f"The {len(self.frames)} frames take {size:,} bytes of HTML, more than the "
                f"{MAX_BYTES:,} a page can afford. Lower `dpi` or use fewer control values."
            )
        self._widget = None

    @property
    def widget(self):
        """The live ipywidgets UI, made on first use."""
        if self._widget is None:
            self._widget = self._live_widget()
        return self._widget

    @staticmethod
    def _default_index(name, options, defaults):
        if name not in defaults:
            return 0
        for i, (label, value) in enumerate(options):
            if value == defaults[name] or label == defaults[name]:
                return i
        raise ValueError(
            f"`defaults['{name}']` must be one of the values of control '{name}'. "
            f"Received: {defaults[name]!r}"
        )

    def _static_html(self):
        uris = ["data:image/png;base64," + base64.b64encode(f).decode() for f in self.frames]
        data = {
            "sizes": [len(o) for o in self.options],
            "labels": [[label for label, _ in o] for o in self.options],
            "frames": uris,
        }
        index = self._frame_index(self.defaults)
        controls = []
        for name, options, default, slider in zip(self.names, self.options, self.defaults,
                                                  self.sliders):
            label = html.escape(name.replace("_", " "))
            if slider:
                controls.append(
                    f'<label>{label} <input type="range" min="0" max="{len(options) - 1}" '
                    f'step="1" value="{default}" data-control="{html.escape(name)}"> '
                    f'<output data-value-for="{html.escape(name)}">'
                    f"{html.escape(options[default][0])}</output></label>"
                )
            else:
                items = "".join(
                    f'<option value="{i}"{" selected" if i == default else ""}>'
                    f"{html.escape(text)}</option>"
                    for i, (text, _) in enumerate(options)
                )
                controls.append(
                    f'<label>{label} <select data-control="{html.escape(name)}">{items}'
                    "</select></label>"
                )
        digest = hashlib.sha1("".join(uris).encode()).hexdigest()[:10]
        alt = html.escape(self.description or "interactive figure")
        return (
            f'<div class="attn-frames" id="attn-frames-{digest}">'
            f'<div class="attn-frames-controls">{" ".join(controls)}</div>'
            f'<img class="attn-frames-image" alt="{alt}" src="{uris[index]}" '
            'style="max-width:100%">'
            f'<script type="application/json" class="attn-frames-data">{json.dumps(data)}'
            "</script>"
            f"<script>{_SCRIPT}</script>"
            '<p class="attn-frames-note"><small>Pre-computed frames: the controls switch '
            "between pictures drawn when the notebook ran. Launch the notebook to run the "
            "live version.</small></p></div>"
        )

    def _frame_index(self, indices):
        index = 0
        for options, i in zip(self.options, indices):
            index = index * len(options) + i
        return index

    def _live_widget(self):
        # The live UI switches between the same pre-rendered frames: no kernel work and
        # no display messages when a control moves, so it also behaves under nbval.
        controls = []
        for name, options, default, slider in zip(self.names, self.options, self.defaults,
                                                  self.sliders):
            kind = ipywidgets.SelectionSlider if slider else ipywidgets.Dropdown
            labelled = [(label, i) for i, (label, _) in enumerate(options)]
            controls.append(kind(options=labelled, value=default,
                                 description=name.replace("_", " "),
                                 style={"description_width": "initial"}))
        image = ipywidgets.Image(value=self.frames[self._frame_index(self.defaults)],
                                 format="png")

        def show(_change=None):
            image.value = self.frames[self._frame_index([c.value for c in controls])]

        for control in controls:
            control.observe(show, names="value")
        return ipywidgets.VBox([ipywidgets.HBox(controls), image])

    def _repr_mimebundle_(self, include=None, exclude=None):
        """One display bundle: the live widget, the static frames and a text summary.

        The widget's entry is its view spec, ``{"version_major": 2, "version_minor": 0,
        "model_id": ...}``, which ipywidgets 7 (Colab) and 8 (JupyterLab) both make with
        the public ``get_view_spec()`` (ipywidgets 7 has no ``_repr_mimebundle_``).
        A front end with widgets draws the widget; the website and viewers without
        widgets show the HTML frames; a terminal prints the summary.
        """
        summary = ", ".join(f"{n} ({len(o)} values)" for n, o in zip(self.names, self.options))
        return {
            "application/vnd.jupyter.widget-view+json": self.widget.get_view_spec(),
            "text/html": self.html,
            "text/plain": (
                f"Interactive figure: {self.description or 'figure'}; controls: {summary}; "
                f"{len(self.frames)} pre-rendered frames"
            ),
        }


def interactive_figure(draw, controls, defaults=None, dpi=80, description=None):
    """Turn a drawing function and a few controls into an interactive figure.

    Args:
        draw: function called as ``draw(**values)`` with one keyword per control;
            it draws a matplotlib figure and returns it (or leaves it current).
        controls: ``{name: values}``; `values` is a short list of numbers in
            increasing order (shown as a slider), or a named choice: strings,
            booleans (labelled yes/no) or ``(label, value)`` pairs (shown as a
            dropdown).
        defaults: optional ``{name: value}`` for the first picture (else the first
            value of each control).
        dpi: resolution of the pre-rendered frames.
        description: one line saying what the figure shows (used as alt text).

    Returns:
        An :class:`InteractiveFigure`; make it the last expression of a cell.

    Raises:
        ValueError: no controls, a control with no values, numbers not in
            increasing order, more than
            ``MAX_FRAMES`` combinations, or frames over ``MAX_BYTES`` in all.
        TypeError: `draw` is not callable.

    Example:
        >>> def draw(width):
        ...     fig, ax = plt.subplots(figsize=(2, 1))
        ...     ax.plot([0, 1], [0, width])
        ...     return fig
        >>> figure = interactive_figure(draw, {"width": [0.5, 1.0, 2.0]})
        >>> len(figure.frames)
        3
    """
    if not callable(draw):
        raise TypeError(f"`draw` must be a function. Received: draw={draw!r}")
    if not isinstance(controls, dict) or not controls:
        raise ValueError(
            "`controls` must be a non-empty dict {name: list of values}. "
            f"Received: controls={controls!r}"
        )
    total = 1
    for name, values in controls.items():
        if len(values) == 0:
            raise ValueError(f"Control '{name}' needs at least one value. Received: []")
        values = list(values)
        if _is_slider(values) and any(a >= b for a, b in zip(values, values[1:])):
            raise ValueError(
                f"The values of slider '{name}' must increase, so that the slider runs in "
                f"order; put the starting value in `defaults`. Received: {values}"
            )
        total *= len(values)
    if total > MAX_FRAMES:
        raise ValueError(
            f"The controls make {total} combinations; at most {MAX_FRAMES} frames are "
            "pre-rendered for the website. Use fewer values."
        )
    return InteractiveFigure(draw, controls, defaults or {}, dpi, description)


__all__ = ["InteractiveFigure", "interactive_figure"]
