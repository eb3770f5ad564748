"""Claims about trained models that hold on every machine, and numbers for the prose.

A model trained in a chapter ends somewhere slightly different on every CPU, library
version and random seed: floating-point sums are added in another order, and training
amplifies the difference. So a chapter never compares such numbers digit by digit.
The cell that trains and prints them is tagged ``nbval-ignore-output``; the next cell
states what the chapter claims, with a margin that holds on every seed and machine::

    claim("alignment accuracy", accuracy, at_least=0.9)

and a number the prose quotes is *glued* (myst-nb's ``glue``), so the website shows
the value of the committed run instead of a number typed by hand::

    glue("ch07_alignment_accuracy", accuracy)
    # in markdown: {glue:text}`ch07_alignment_accuracy:.3f`

:func:`glue` writes the same output as ``myst_nb.glue(..., display=False)`` but needs
no myst-nb, so chapters run unchanged in Colab. ``benchmarks/claims_robustness.py``
retrains every chapter on many seeds and under other numerics and reads back every
:func:`claim` through the file named by the environment variable
``ATTN_LIB_CLAIMS_LOG``.
"""

import json
import math
import os
from numbers import Real

import numpy as np
from IPython.display import display

GLUE_PREFIX = "application/papermill.record/"  # what myst-nb looks for
LOG_VARIABLE = "ATTN_LIB_CLAIMS_LOG"


def _as_number(name, value):
    """`value` as a Python float, or a TypeError naming `name`."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"`{name}` must be a real number (a Python or NumPy scalar). "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def glue(name, value):
    """Store a number under `name` for the prose to quote.

    Args:
        name: the key the markdown uses, ``{glue:text}`name:.3f```; unique in the book,
            so start it with the chapter (``"ch07_..."``).
        value: a real number (Python or NumPy scalar).

    Returns:
        None. The output is invisible in Jupyter and Colab; the website's build puts
        the value where the markdown names it.

    Raises:
        TypeError: `name` is not a string or `value` is not a real number.

    Example:
        >>> glue("ch00_example", np.float32(0.25))  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string. Received: name={name!r}")
    value = _as_number("value", value)
    display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})


def claim(description, value, at_least=None, at_most=None):
    """Assert that a measured number lies within bounds, and say so in one line.

    The printed line names the claim and its bounds, never the measured value, so it
    reads the same on every machine and nbval can compare it strictly. When the claim
    fails, the error names the value.

    Args:
        description: what is measured, e.g. ``"test accuracy"``.
        value: the measured number (Python or NumPy scalar).
        at_least: lower bound (inclusive), or None.
        at_most: upper bound (inclusive), or None. At least one bound is needed.

    Returns:
        None, so that a claim on a cell's last line adds no output that would differ
        between machines.

    Raises:
        TypeError: `description` is not a string, or a number is not real.
        ValueError: no bound is given, the bounds are reversed, or a number is NaN.
        AssertionError: the value is outside the bounds.

    Example:
        >>> claim("share of weight on the right word", 0.83, at_least=0.5)
        claim holds: share of weight on the right word >= 0.5
    """
    if not isinstance(description, str) or not description:
        raise TypeError("`description` must be a non-empty string. "
                        f"Received: description={description!r}")
    value = _as_number("value", value)
    bounds = {name: _as_number(name, bound)
              for name, bound in (("at_least", at_least), ("at_most", at_most))
              if bound is not None}
    if not bounds:
        raise ValueError("`claim` needs `at_least`, `at_most` or both. "
                         "Received: at_least=None, at_most=None")
    for name, number in {"value": value, **bounds}.items():
        if math.isnan(number):
            raise ValueError(f"`{name}` must not be NaN. Received: {name}=nan")
    if len(bounds) == 2 and bounds["at_least"] > bounds["at_most"]:
        raise ValueError("`at_least` must not exceed `at_most`. "
                         f"Received: at_least={at_least!r}, at_most={at_most!r}")
    holds = bounds.get("at_least", -math.inf) <= value <= bounds.get("at_most", math.inf)
    _log(description, value, bounds, holds)
    wording = " and ".join(f"{'>=' if name == 'at_least' else '<='} {number:g}"
                           for name, number in bounds.items())
    if not holds:
        raise AssertionError(f"claim fails: {description} = {value:.4g}, expected {wording}")
    print(f"claim holds: {description} {wording}")


def _log(description, value, bounds, holds):
    """Append the claim to the file named by ATTN_LIB_CLAIMS_LOG, if it is set."""
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"claim": description, "value": value, **bounds,
                                  "holds": holds}) + "\n")


__all__ = ["claim", "glue"]
