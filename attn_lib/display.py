"""Showing library code on the page: :func:`show_source`."""

import inspect
import textwrap


class Source:
    """The source code of a library object, shown as a highlighted Python block.

    Jupyter, Colab and the book's website render it as Markdown (a fenced
    ``python`` block); anywhere else its text is the plain source.
    """

    def __init__(self, text, name):
        self.text, self.name = text, name

    def _repr_markdown_(self):
        return f"```python\n{self.text}\n```"

    def __repr__(self):
        return self.text


def show_source(obj):
    """The source of a library function, class or method, for a notebook to display.

    A chapter that does not build a library object itself shows it once with this,
    so the reader sees the code the chapter runs (and the page changes when it does).

    Args:
        obj: a function, class or method (bound or not) defined in Python.

    Returns:
        A :class:`Source`; as the last expression of a cell it displays the code.

    Raises:
        TypeError: `obj` has no Python source (a built-in, an instance, a module
            attribute that is a number ...).

    Example:
        >>> from attn_lib.masking import causal_mask
        >>> show_source(causal_mask).text.splitlines()[0]
        'def causal_mask(num_queries, num_kv=None, offset=0):'
    """
    target = getattr(obj, "__func__", obj)
    try:
        text = inspect.getsource(target)
    except (TypeError, OSError) as error:
        raise TypeError("`obj` must be a function, class or method written in Python. "
                        f"Received: obj={obj!r} ({error})") from None
    return Source(textwrap.dedent(text).rstrip(), getattr(target, "__qualname__", str(obj)))


__all__ = ["Source", "show_source"]
