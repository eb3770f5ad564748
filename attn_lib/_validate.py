"""Argument checks shared by every public function.

Each check raises before TensorFlow would, with a message in the Keras style:
what went wrong, what was expected, then ``Received: ...`` with shapes (never
tensor contents). Checks on *values* (negative lengths, say) run only when the
values are known, i.e. for NumPy arrays and eager tensors; inside a traced
``tf.function`` only shapes and dtypes can be checked.
"""

import numpy as np
import tensorflow as tf


def shape_of(x):
    """The static shape of `x` as a tuple; unknown sizes are ``None``."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:  # a fully unknown TensorShape
        return None


def dtype_of(x):
    """The dtype of `x` as a ``tf.DType`` (NumPy arrays and lists included)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = np.asarray(x).dtype
    return tf.as_dtype(dtype)


def concrete_values(x):
    """`x` as a NumPy array when its values are known now, else ``None``."""
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.generic)):
        return np.asarray(x)
    if tf.is_tensor(x) and hasattr(x, "numpy") and tf.executing_eagerly():
        try:
            return x.numpy()
        except (AttributeError, NotImplementedError, TypeError, ValueError):
            return None
    return None


def check_rank(name, x, rank):
    """Raise unless `x` has exactly `rank` axes."""
    shape = shape_of(x)
    if shape is not None and len(shape) != rank:
        axes = {2: "(batch, features)", 3: "(batch, positions, features)"}.get(rank, f"{rank} axes")
        raise ValueError(
            f"`{name}` must have rank {rank}, i.e. shape {axes}. "
            f"Received: {name}.shape={shape}"
        )
    return shape


def check_float(name, x):
    """Raise unless `x` holds floating-point numbers."""
    dtype = dtype_of(x)
    if not dtype.is_floating:
        raise TypeError(
            f"`{name}` must be a floating-point tensor (float16, bfloat16, float32 or "
            f"float64). Received: {name}.dtype={dtype.name}"
        )
    return dtype


def check_same(what, names, sizes):
    """Raise unless all known `sizes` agree (``None`` means unknown)."""
    known = [s for s in sizes if s is not None]
    if len(set(known)) > 1:
        received = ", ".join(f"{n}={s}" for n, s in zip(names, sizes))
        raise ValueError(f"{what}. Received: {received}")


def check_attention_inputs(queries, keys, values, same_size=False):
    """Check the (queries, keys, values) triple of a scoring function or layer.

    Returns the three static shapes ``(B, Tq, dq)``, ``(B, Tv, dk)``, ``(B, Tv, dv)``.
    """
    q = check_rank("queries", queries, 3)
    k = check_rank("keys", keys, 3)
    v = check_rank("values", values, 3)
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        check_float(name, x)
    check_same(
        "`queries`, `keys` and `values` must have the same batch size",
        ("queries.shape[0]", "keys.shape[0]", "values.shape[0]"), (q[0], k[0], v[0]),
    )
    if None not in (k[1], v[1]) and k[1] != v[1]:
        raise ValueError(
            "`keys` and `values` must have the same number of positions. "
            f"Received: keys.shape={k}, values.shape={v}"
        )
    if same_size and None not in (q[2], k[2]) and q[2] != k[2]:
        raise ValueError(
            "Dot-product scoring needs queries and keys of the same size (the last axis); "
            "use AdditiveAttention or GeneralAttention for different sizes. "
            f"Received: queries.shape={q}, keys.shape={k}"
        )
    return q, k, v


def check_valid_lens(valid_lens, batch_size, num_queries):
    """Check `valid_lens`: integers of shape ``(B,)`` or ``(B, Tq)``, none negative."""
    shape = shape_of(valid_lens)
    dtype = dtype_of(valid_lens)
    if not dtype.is_integer:
        raise TypeError(
            "`valid_lens` must hold integers (the number of valid key positions). "
            f"Received: valid_lens.dtype={dtype.name}"
        )
    expected = f"({batch_size},) or ({batch_size}, {num_queries})"
    if shape is None or len(shape) not in (1, 2):
        raise ValueError(
            f"`valid_lens` must have shape (B,) or (B, Tq), here {expected}. "
            f"Received: valid_lens.shape={shape}"
        )
    if None not in (shape[0], batch_size) and shape[0] != batch_size:
        raise ValueError(
            f"`valid_lens` must have one entry per batch element, shape {expected}. "
            f"Received: valid_lens.shape={shape}"
        )
    if len(shape) == 2 and None not in (shape[1], num_queries) and shape[1] != num_queries:
        raise ValueError(
            f"A 2-D `valid_lens` must have one entry per query, shape {expected}. "
            f"Received: valid_lens.shape={shape}"
        )
    values = concrete_values(valid_lens)
    if values is not None and values.size and values.min() < 0:
        raise ValueError(
            "`valid_lens` must be non-negative. "
            f"Received: valid_lens with minimum {int(values.min())}"
        )


def check_mask(mask, target_shape, target="scores"):
    """Check that boolean `mask` broadcasts to `target_shape`."""
    dtype = dtype_of(mask)
    if dtype != tf.bool:
        raise TypeError(
            "`mask` must be boolean (True = attend to this key). "
            f"Received: mask.dtype={dtype.name}"
        )
    shape = shape_of(mask)
    if shape is None or target_shape is None:
        return
    ok = len(shape) <= len(target_shape) and all(
        m is None or t is None or m in (1, t)
        for m, t in zip(reversed(shape), reversed(target_shape))
    )
    if not ok:
        raise ValueError(
            f"`mask` must broadcast to the shape of the {target}, {target_shape}. "
            f"Received: mask.shape={shape}"
        )


def check_positive_int(name, value, allow_zero=False):
    """Raise unless `value` is a (positive) Python integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be {bound}. Received: {name}={value}")
    return int(value)


def check_rate(name, value):
    """Raise unless `value` is a probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
    return float(value)
