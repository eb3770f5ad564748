"""Measurements of attention code: its cost, what its rows look like, whether it leaks.

- :func:`tensor_bytes` – the memory a dense tensor of a given shape takes;
- :func:`time_call` – the median wall-clock time of a call, with its result
  materialised (TensorFlow may otherwise return before the work is done);
- :func:`row_kind` – names what a row of attention weights looks like (all zeros,
  uniform, NaN, ...), for comparing how libraries treat a fully-masked row;
- :func:`attention_weights_bytes` and :func:`time_self_attention` – the memory
  and time that self-attention costs as the sequence grows;
- :func:`leak_test` – which outputs change when a key they must not see changes
  (a future position under a causal mask, a padded position);
- :func:`peak_memory` – the peak memory that plain or tiled attention adds, for
  each sequence length, measured in a separate Python process.

Shapes follow the package glossary: ``B`` batch, ``Tq`` queries, ``Tv`` key–value
pairs.
"""

import json
import os
import subprocess
import sys
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


_PEAK_SCRIPT = """
import json, resource, sys
import numpy as np
import attn_lib
import tensorflow as tf
from attn_lib import masking, tiled
method, lengths, d, block, batch, dtype = json.loads(sys.argv[1])

@tf.function(reduce_retracing=True, autograph=False)
def plain(q, k, v):
    scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(d)  # (B, T, T)
    return tf.matmul(masking._masked_softmax(scores), v)  # (B, T, d)

def attend(q, k, v):
    if method == "plain":
        return plain(q, k, v)
    return tiled._tiled_attention(q, k, v, None, None, False, block, block)[0]

def run(length, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (tf.constant(rng.normal(size=(batch, length, d)).astype(dtype))
               for _ in range(3))
    attend(q, k, v).numpy()

def status(field):  # kB in /proc/self/status, None when there is no such file
    try:
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith(field + ":"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None

def reset_peak():  # Linux >= 4.0: VmHWM := VmRSS
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

for warm_up in (16, 32, 16):  # tracing, thread pools and caches, before the baseline
    run(warm_up, 0)
peaks = []
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
for length in lengths:
    if reset_peak() and status("VmHWM") is not None:
        before = status("VmRSS")
        run(length, length)
        peaks.append(status("VmHWM") - before)
    else:  # the high-water mark of the whole process
        run(length, length)
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline)
print(json.dumps(peaks))
"""


def peak_memory(lengths, method="plain", head_size=64, block_size=64, batch_size=1,
                dtype="float32", timeout=600):
    """Peak memory (bytes) that self-attention adds, per length, measured in a new process.

    A fresh Python process imports TensorFlow and runs the attention a few times on
    short sequences (tracing, thread pools). Then, for each length, it resets its
    peak resident memory to the current one (Linux: ``/proc/self/clear_refs``), makes
    the inputs, runs the attention and reads the new peak (``VmHWM``): ``peak -
    resident before`` is what that length added, inputs and output included. Where the
    peak cannot be reset it falls back to the process's high-water mark
    (``ru_maxrss``) minus the one after the warm-up, which never goes down: hence
    increasing lengths, and a process apart from the caller's, whose own peak would
    hide the measurement.

    Args:
        lengths: increasing sequence of ints ``T``.
        method: ``"plain"`` (scores ``(B, T, T)``, ``masked_softmax``, weights times
            values) or ``"tiled"`` (:func:`attn_lib.tiled_attention`).
        head_size: int, ``d`` of queries, keys and values.
        block_size: int, ``block_q = block_k`` of the tiled method.
        batch_size: int, ``B``.
        dtype: ``"float32"`` or ``"float64"``.
        timeout: seconds before the measurement is abandoned.

    Returns:
        int64 array ``(len(lengths),)`` of bytes. Memory is counted in pages and the
        allocator keeps some freed memory: compare how it *grows*, not single values.

    Raises:
        ValueError: `lengths` empty or not increasing, or an unknown `method`.
        TypeError: a size that is not an integer.
        RuntimeError: the measuring process failed (its last error lines are quoted).

    Example:
        >>> peak_memory([256, 512], method="tiled").shape  # doctest: +SKIP
        (2,)
    """
    lengths = [_validate.check_positive_int("lengths", int(t) if isinstance(t, np.integer)
                                            else t) for t in lengths]
    if not lengths or any(a >= b for a, b in zip(lengths, lengths[1:])):
        raise ValueError("`lengths` must be a non-empty, increasing sequence of lengths. "
                         f"Received: lengths={lengths}")
    if method not in ("plain", "tiled"):
        raise ValueError(f"`method` must be 'plain' or 'tiled'. Received: method={method!r}")
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"`dtype` must be 'float32' or 'float64'. Received: dtype={dtype!r}")
    sizes = [_validate.check_positive_int(name, value) for name, value in
             (("head_size", head_size), ("block_size", block_size),
              ("batch_size", batch_size))]
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    settings = json.dumps([method, lengths, *sizes, str(dtype)])
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, settings], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"The measuring process failed (exit code {done.returncode}):\n"
                           f"{tail}")
    return np.asarray(json.loads(done.stdout.strip().splitlines()[-1]), dtype=np.int64)


__all__ = ["attention_weights_bytes", "leak_test", "peak_memory", "row_kind", "tensor_bytes",
           "time_call", "time_self_attention"]
