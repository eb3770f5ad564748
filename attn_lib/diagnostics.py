"""Tools for looking *at* attention code: cost, fully-masked rows, and a faulty layer.

- :func:`tensor_bytes` – the memory a dense tensor of a given shape takes;
- :func:`time_call` – the median wall-clock time of a call, with its result
  materialised (TensorFlow may otherwise return before the work is done);
- :func:`row_kind` – names what a row of attention weights looks like (all zeros,
  uniform, NaN, ...), for comparing how libraries treat a fully-masked row;
- :class:`SeedBilinearLayer` – a Keras 3 re-expression of the custom bilinear
  attention layer of the book's seed document 004, *with its defects kept on
  purpose*, so that a chapter can demonstrate them next to
  :class:`attn_lib.GeneralAttention`, which fixes them. Never use it in a model.

Shapes follow the package glossary: ``B`` batch, ``Tq`` queries, ``Tv`` key–value
pairs.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate


def tensor_bytes(shape, dtype="float32"):
    """The number of bytes a dense tensor of `shape` and `dtype` occupies.

    Args:
        shape: tuple of non-negative ints, e.g. ``(B, Tq, Tv, h)``.
        dtype: a NumPy/TensorFlow dtype or its name, e.g. ``"float32"``.

    Returns:
        Python int, ``prod(shape) * itemsize``.

    Raises:
        TypeError: `shape` is not a sequence of integers.
        ValueError: a size is negative.

    Example:
        >>> tensor_bytes((2, 3, 4), "float32")
        96
    """
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"`shape` must be a tuple of integers. Received: shape={shape!r}")
    sizes = [_validate.check_positive_int("shape", s, allow_zero=True) for s in shape]
    itemsize = tf.as_dtype(dtype).size
    return int(np.prod(sizes, dtype=np.int64)) * itemsize


def time_call(function, repeats=5, warmup=1, best=False):
    """Median (or, with `best`, the smallest) wall-clock seconds of ``function()``.

    Each result is materialised (``.numpy()`` on tensors, recursively through
    lists, tuples and dicts) inside the timed region, so lazy work is counted.

    Args:
        function: a callable taking no arguments.
        repeats: int > 0, timed runs.
        warmup: int >= 0, untimed runs first (tracing, caches).
        best: return the fastest run instead of the median: the one least disturbed
            by other programs, for comparing how times *grow*.

    Returns:
        Python float, the median (or smallest) time in seconds.

    Raises:
        TypeError: `function` is not callable, or the counts are not integers.
        ValueError: `repeats` < 1 or `warmup` < 0.

    Example:
        >>> time_call(lambda: sum(range(10))) >= 0.0
        True
    """
    if not callable(function):
        raise TypeError(f"`function` must be callable. Received: function={function!r}")
    repeats = _validate.check_positive_int("repeats", repeats)
    warmup = _validate.check_positive_int("warmup", warmup, allow_zero=True)
    for _ in range(warmup):
        _materialise(function())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _materialise(function())
        times.append(time.perf_counter() - start)
    return float(min(times) if best else np.median(times))


def _materialise(result):
    if isinstance(result, dict):
        for value in result.values():
            _materialise(value)
    elif isinstance(result, (list, tuple)):
        for value in result:
            _materialise(value)
    elif hasattr(result, "numpy"):
        result.numpy()


def row_kind(row, atol=1e-6):
    """Name the shape of one row of attention weights.

    Args:
        row: 1-D array-like of weights over the keys.
        atol: absolute tolerance for "equal".

    Returns:
        One of ``"nan"`` (some entry is NaN), ``"zeros"`` (all zero),
        ``"uniform"`` (all equal to ``1/len(row)``), ``"one-hot"`` (a single 1),
        ``"distribution"`` (non-negative, sums to 1) or ``"other"``.

    Raises:
        ValueError: `row` is not 1-D or is empty.

    Example:
        >>> row_kind([0.25, 0.25, 0.25, 0.25])
        'uniform'
    """
    row = np.asarray(row, dtype=np.float64)
    if row.ndim != 1 or row.size == 0:
        raise ValueError(
            f"`row` must be a non-empty 1-D array of weights. Received: row.shape={row.shape}"
        )
    if np.isnan(row).any():
        return "nan"
    if np.allclose(row, 0.0, atol=atol):
        return "zeros"
    if np.allclose(row, 1.0 / row.size, atol=atol):
        return "uniform"
    if (row >= -atol).all() and abs(row.sum() - 1.0) <= max(atol, 1e-4):
        if np.isclose(row.max(), 1.0, atol=atol):
            return "one-hot"
        return "distribution"
    return "other"


class SeedBilinearLayer(keras.layers.Layer):
    """Seed 004's "general" attention layer, re-expressed in Keras 3, defects kept.

    For demonstration only: :class:`attn_lib.GeneralAttention` is the correct
    layer. The seed computes ``scores = query @ W @ keyᵀ`` and mixes the values
    with the softmax of the scores, but:

    (a) ``W`` has shape ``(B, dim, dim)``: one matrix per *position in the batch*,
        fixed when the layer is built. Another batch size fails, or (batch 1)
        silently broadcasts to the build-time batch size; ``B=None`` cannot build.
    (b) the softmax runs over the flattened ``Tq·Tv`` grid of each example, so
        the weights of *all queries together* sum to 1, not those of each query.
    (c) it creates a batch-shaped bias ``b`` of shape ``(B, Tq, dim)`` but never
        uses it: it adds its boolean *flag* (``True``, i.e. ``1.0``) to the output.
    (d) its inputs are the list ``[query, value, key]`` (Keras' order): position 1
        is the value and position 2 the key, the reverse of the textbook's
        ``(queries, keys, values)``; passing the textbook order silently swaps
        them, and a two-element ``[query, value]`` list raises ``IndexError``.

    Args:
        use_bias: bool, the seed's ``bias`` flag (default ``True``).

    Call arguments:
        inputs: list ``[query, value, key]`` with query ``(B, Tq, dim)``,
            value ``(B, Tv, dim)`` and key ``(B, Tv, dim)``, ``B`` the build-time batch.

    Returns:
        ``(B, Tq, dim)``; the grid-normalised weights ``(B, Tq, Tv)`` are kept in
        ``attention_weights``.

    Example:
        >>> layer = SeedBilinearLayer()
        >>> x = np.ones((4, 2, 3), "float32")
        >>> layer([x, x, x]).shape, tuple(layer.W.shape)
        (TensorShape([4, 2, 3]), (4, 3, 3))
    """

    def __init__(self, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(use_bias, bool):
            raise TypeError(f"`use_bias` must be True or False. Received: use_bias={use_bias!r}")
        self.use_bias = use_bias
        self.attention_weights = None

    def build(self, input_shape):
        batch, self.num_queries, dim = input_shape[0]
        self.num_kv = input_shape[1][1]
        # (a) one (dim, dim) matrix per batch position; the seed initialises with ones
        self.W = self.add_weight(name="W", shape=(batch, dim, dim), initializer="ones")
        if self.use_bias:
            # (c) a batch-shaped bias that call() never reads
            self.b = self.add_weight(name="b", shape=(batch, self.num_queries, dim),
                                     initializer="zeros")

    def call(self, inputs):
        query, value, key = inputs[0], inputs[1], inputs[2]  # (d) [query, value, key]
        scores = tf.matmul(tf.matmul(query, self.W), key, transpose_b=True)  # (B, Tq, Tv)
        # (b) softmax over the whole Tq*Tv grid of each example
        grid = tf.reshape(scores, (-1, self.num_queries * self.num_kv))
        weights = tf.reshape(tf.nn.softmax(grid), (-1, self.num_queries, self.num_kv))
        self.attention_weights = weights
        result = tf.matmul(weights, value)  # (B, Tq, dim)
        if self.use_bias:
            result = result + float(self.use_bias)  # (c) adds the flag (1.0), not self.b
        return result

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias}


__all__ = ["SeedBilinearLayer", "row_kind", "tensor_bytes", "time_call"]
