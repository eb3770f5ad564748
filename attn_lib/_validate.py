"""Argument checks, run once, where a public function or layer is entered.

Each check raises before TensorFlow would, in the Keras style: what went wrong,
what was expected, then ``Received: ...`` with shapes (never tensor contents).
Checks on *values* (negative lengths, say) run only when the values are known
(NumPy arrays, eager tensors); while tracing only shapes and dtypes are checked.
"""

import numpy as np
import tensorflow as tf


def shape_of(x):
    """The static shape of `x` as a tuple (unknown sizes ``None``), ``None`` for an unknown rank."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    if isinstance(shape, tf.TensorShape) and shape.rank is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


def dtype_of(x):
    """The dtype of `x` as a ``tf.DType`` (NumPy arrays and lists included)."""
    dtype = getattr(x, "dtype", None)
    return tf.as_dtype(np.asarray(x).dtype if dtype is None else dtype)


def concrete_values(x):
    """`x` as a NumPy array when its values are known now, else ``None``."""
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.generic)):
        return np.asarray(x)
    if isinstance(x, tf.Tensor) and hasattr(x, "numpy") and tf.executing_eagerly():
        return x.numpy()
    return None


def check_rank(name, x, rank):
    """Raise unless `x` has exactly `rank` axes; return its shape."""
    shape = shape_of(x)
    if shape is None or len(shape) != rank:
        axes = {2: "(batch, features)", 3: "(batch, positions, features)"}.get(rank, "")
        got = "an unknown rank" if shape is None else f"{name}.shape={shape}"
        raise ValueError(f"`{name}` must have rank {rank} {axes}. Received: {got}")
    return shape


def check_token_ids(name, tokens, rank=2):
    """Raise unless `tokens` are integer ids with `rank` axes (``(B, T)``); return the shape."""
    shape = check_rank(name, tokens, rank)
    if not dtype_of(tokens).is_integer:
        raise TypeError(f"`{name}` must hold integer token ids. "
                        f"Received: {name}.dtype={dtype_of(tokens).name}")
    return shape


def check_float(name, x):
    """Raise unless `x` holds floating-point numbers."""
    dtype = dtype_of(x)
    if not dtype.is_floating:
        raise TypeError(f"`{name}` must be a floating-point tensor (float16, bfloat16, "
                        f"float32 or float64). Received: {name}.dtype={dtype.name}")
    return dtype


def check_bool(name, value, allow_none=False):
    """Raise unless `value` is True or False (or ``None`` when allowed)."""
    if (value is None and allow_none) or isinstance(value, (bool, np.bool_)):
        return value if value is None else bool(value)
    expected = "True, False or None" if allow_none else "True or False"
    raise TypeError(f"`{name}` must be {expected}. Received: {name}={value!r}")


def check_positive(name, value):
    """Raise unless `value` is a number (or scalar tensor or variable) > 0; return it."""
    if isinstance(value, bool) or not (isinstance(value, (int, float, np.number))
                                       or tf.is_tensor(value) or hasattr(value, "assign")):
        raise TypeError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    known = concrete_values(value)
    if known is not None and not np.all(known > 0):
        raise ValueError(f"`{name}` must be > 0. Received: {name}={float(np.min(known))}")
    return value


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


def check_same(what, names, sizes):
    """Raise unless all known `sizes` agree (``None`` means unknown)."""
    if len({s for s in sizes if s is not None}) > 1:
        received = ", ".join(f"{n}={s}" for n, s in zip(names, sizes))
        raise ValueError(f"{what}. Received: {received}")


def check_pair(queries, keys, same_size):
    """Check queries ``(B, Tq, dq)`` and keys ``(B, Tv, dk)``; return both shapes."""
    q, k = check_rank("queries", queries, 3), check_rank("keys", keys, 3)
    check_float("queries", queries)
    check_float("keys", keys)
    if not fits(q[:1], k[:1]):
        raise ValueError("`queries` and `keys` must have the same batch size. "
                         f"Received: queries.shape={q}, keys.shape={k}")
    if same_size and not fits(q[2:], k[2:]):
        raise ValueError(
            "Dot-product and distance scores need queries and keys of the same size (the "
            "last axis); use AdditiveAttention or GeneralAttention for different sizes. "
            f"Received: queries.shape={q}, keys.shape={k}")
    return q, k


def check_attention_inputs(queries, keys, values, same_size=False):
    """Check (queries, keys, values); return ``(B, Tq, dq)``, ``(B, Tv, dk)``, ``(B, Tv, dv)``."""
    q, k = check_pair(queries, keys, same_size)
    v = check_rank("values", values, 3)
    check_float("values", values)
    if not fits(v[:2], k[:2]):
        raise ValueError("`keys` and `values` must have the same batch size and number of "
                         f"positions. Received: keys.shape={k}, values.shape={v}")
    return q, k, v


def fits(shape, expected, broadcast=False):
    """Does `shape` match `expected` axis by axis? ``None`` matches all; 1 too if `broadcast`."""
    return shape is not None and len(shape) == len(expected) and all(
        None in (a, b) or a == b or (broadcast and a == 1) for a, b in zip(shape, expected))


def check_valid_lens(valid_lens, batch_size, num_queries, per_query=True):
    """Check `valid_lens`: integers (any width), ``(B,)`` or ``(B, Tq)``, none negative."""
    dtype, shape = dtype_of(valid_lens), shape_of(valid_lens)
    if not dtype.is_integer:
        raise TypeError("`valid_lens` must hold integers (the number of valid key positions)."
                        f" Received: valid_lens.dtype={dtype.name}")
    allowed = [(batch_size,), (batch_size, num_queries)][:2 if per_query else 1]
    if not any(fits(shape, expected) for expected in allowed):
        names = " or ".join(["(B,)", "(B, Tq)"][:len(allowed)])
        raise ValueError(f"`valid_lens` must have shape {names}, here "
                         f"{' or '.join(map(str, allowed))}. Received: valid_lens.shape={shape}")
    values = concrete_values(valid_lens)
    if values is not None and values.size and values.min() < 0:
        raise ValueError("`valid_lens` must be non-negative. "
                         f"Received: valid_lens with minimum {int(values.min())}")


def check_mask(mask, target_shape, target="scores"):
    """Check a boolean `mask` against scores of `target_shape` (True = attend).

    The mask must have the *same rank* as the scores, each size equal to the scores'
    or 1; nothing is broadcast by coincidence of sizes.
    """
    if isinstance(mask, (list, tuple)) and any(m is None or tf.is_tensor(m) or
                                               isinstance(m, np.ndarray) for m in mask):
        raise TypeError(
            "`mask` must be one boolean tensor of the shape of the scores, not a list; "
            "Keras' `mask=[query_mask, value_mask]` is written here as "
            "`valid_lens=...` or `mask=value_mask[:, None, :]`. "
            f"Received: a {type(mask).__name__} of {len(mask)} items")
    dtype = dtype_of(mask)
    if dtype != tf.bool:
        raise TypeError(f"`mask` must be boolean (True = attend to this key). "
                        f"Received: mask.dtype={dtype.name}")
    shape, rank = shape_of(mask), len(target_shape)
    if not fits(shape, target_shape, broadcast=True):
        names = {2: ("Tq", "Tv"), 3: ("B", "Tq", "Tv"), 4: ("B", "h", "Tq", "Tv")}.get(
            rank, ("...", "Tq", "Tv"))
        hint = (" A (Tq, Tv) mask shared by the batch is written mask[None]; a (B, Tv) "
                "padding mask mask[:, None, :]." if rank == 3 else "")
        form = ", ".join(n + " or 1" for n in names)
        raise ValueError(f"`mask` must have rank {rank} ({form}) to match the {target} "
                         f"{target_shape}.{hint} Received: mask.shape={shape}")
