"""Measurements of attention code: its cost, what its rows look like, whether it leaks.

- :func:`tensor_bytes` – the memory a dense tensor of a given shape takes;
- :func:`time_call` – the median wall-clock time of a call, with its result
  materialised (TensorFlow may otherwise return before the work is done);
- :func:`row_kind` – names what a row of attention weights looks like (all zeros,
  uniform, NaN, ...), for comparing how libraries treat a fully-masked row;
- :func:`attention_weights_bytes` and :func:`time_self_attention` – the memory
  and time that self-attention costs as the sequence grows;
- :func:`leak_test` – which outputs change when a key they must not see changes
  (a future position under a causal mask, a padded position).

Shapes follow the package glossary: ``B`` batch, ``Tq`` queries, ``Tv`` key–value
pairs.
"""

import time

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


def attention_weights_bytes(length, batch_size=1, num_heads=1, dtype="float32"):
    """Bytes taken by the attention weights ``(B, h, T, T)`` of one self-attention layer.

    Args:
        length: int, the sequence length ``T``.
        batch_size: int, ``B``. num_heads: int, ``h``.
        dtype: the weights' dtype (``"float32"``: 4 bytes each).

    Returns:
        Python int ``B * h * T * T * itemsize``.

    Example:
        >>> attention_weights_bytes(1024, batch_size=2, num_heads=8) / 2**20  # MiB
        64.0
    """
    length = _validate.check_positive_int("length", length)
    batch_size = _validate.check_positive_int("batch_size", batch_size)
    num_heads = _validate.check_positive_int("num_heads", num_heads)
    return tensor_bytes((batch_size, num_heads, length, length), dtype)


def time_self_attention(lengths, batch_size=1, num_heads=1, head_size=64, repeats=3, seed=0):
    """Seconds that ``softmax(Q Kᵀ / √d) V`` takes for each sequence length.

    Queries, keys and values are random ``(B, h, T, head_size)`` float32 tensors; the
    time of each length is the best of `repeats` runs after one warm-up run, which
    is the least disturbed by other programs. Wall-clock times vary between
    machines and runs: compare their *growth*, not their values.

    Args:
        lengths: sequence of ints ``T``.
        batch_size, num_heads, head_size: the other sizes.
        repeats: int > 0, runs per length.
        seed: seed of the random inputs.

    Returns:
        float64 array ``(len(lengths),)`` of seconds.

    Example:
        >>> seconds = time_self_attention([8, 16], repeats=1)
        >>> seconds.shape
        (2,)
    """
    lengths = [_validate.check_positive_int("lengths", int(t) if isinstance(t, np.integer)
                                            else t) for t in lengths]
    if not lengths:
        raise ValueError("`lengths` must hold at least one length. Received: lengths=[]")
    repeats = _validate.check_positive_int("repeats", repeats)
    rng = np.random.default_rng(seed)

    def attend(q, k, v):
        scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(head_size)  # (B, h, T, T)
        return tf.matmul(tf.nn.softmax(scores, axis=-1), v)  # (B, h, T, d)

    seconds = []
    for length in lengths:
        shape = (batch_size, num_heads, length, head_size)
        qkv = [tf.constant(rng.normal(size=shape).astype(np.float32)) for _ in range(3)]
        seconds.append(time_call(lambda qkv=qkv: attend(*qkv), repeats=repeats, warmup=1,
                                 best=True))
    return np.asarray(seconds, dtype=np.float64)


def leak_test(call, visible, queries, keys=None, values=None, seed=0, atol=1e-6):
    """Which outputs change when a key or value they must not see is changed.

    For each key position ``j`` in turn, adds random noise to the keys and values
    at ``j`` (with ``keys=None``, to the one input of a self-attention call) and
    records which outputs changed. Output ``(b, i)`` changing although
    ``visible[b, i, j]`` is False is a *leak*: a causal mask that lets a query see
    the future, or padding that is read. In self-attention, query ``i = j`` itself
    changed, so that pair is never counted.

    Args:
        call: callable, ``call(queries, keys, values)`` or, with ``keys=None``,
            ``call(x)``, returning ``(B, Tq, d_out)`` deterministically (dropout off).
        visible: boolean array ``(B, Tq, Tv)``, True where query ``i`` may see key ``j``.
        queries: float array ``(B, Tq, dq)`` (the sequence ``x`` for self-attention).
        keys, values: float arrays ``(B, Tv, dk)``, ``(B, Tv, dv)``, or ``None``.
        seed: seed of the noise.
        atol: an output counts as changed when it moves by more than this.

    Returns:
        Boolean array ``(B, Tq, Tv)``: True where output ``(b, i)`` changed when key
        ``j`` changed although ``visible[b, i, j]`` is False. ``leaks.any()`` is
        False for a layer that leaks nothing.

    Raises:
        ValueError: inputs of the wrong ranks, or `visible` not ``(B, Tq, Tv)``.
        TypeError: `call` is not callable.

    Example:
        >>> import attn_lib
        >>> layer = attn_lib.SelfAttention(units=4)
        >>> x = np.random.default_rng(0).normal(size=(1, 3, 4)).astype("float32")
        >>> visible = attn_lib.causal_mask(3).numpy()[None]
        >>> bool(leak_test(lambda x: layer(x, causal=True), visible, x).any())
        False
    """
    if not callable(call):
        raise TypeError(f"`call` must be callable. Received: call={call!r}")
    self_attention = keys is None
    inputs = [np.asarray(queries)] if self_attention else [np.asarray(a) for a in
                                                          (queries, keys, values)]
    for name, a in zip(("queries", "keys", "values"), inputs):
        if a.ndim != 3:
            raise ValueError(f"`{name}` must have rank 3. Received: {name}.shape={a.shape}")
    batch, num_queries, num_kv = inputs[0].shape[0], inputs[0].shape[1], inputs[-1].shape[1]
    visible = np.asarray(visible, dtype=bool)
    if visible.shape != (batch, num_queries, num_kv):
        raise ValueError(f"`visible` must have shape (B, Tq, Tv) = {(batch, num_queries, num_kv)}."
                         f" Received: visible.shape={visible.shape}")
    rng = np.random.default_rng(seed)
    base = np.asarray(call(*inputs))
    leaks = np.zeros(visible.shape, dtype=bool)
    for j in range(num_kv):
        perturbed = [a.copy() for a in inputs]
        for a in perturbed[-2:] if not self_attention else perturbed:
            a[:, j] += rng.normal(size=a[:, j].shape).astype(a.dtype)
        changed = np.abs(np.asarray(call(*perturbed)) - base).max(axis=-1) > atol  # (B, Tq)
        leaks[:, :, j] = changed & ~visible[:, :, j]
        if self_attention and j < num_queries:
            leaks[:, j, j] = False
    return leaks


__all__ = ["attention_weights_bytes", "leak_test", "row_kind", "tensor_bytes", "time_call",
           "time_self_attention"]
