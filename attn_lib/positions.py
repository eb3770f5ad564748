"""Where each token is: rotary embeddings, linear biases, learned or no positions.

Self-attention by itself does not know the order of its inputs (permute them and
the outputs permute the same way). The ways to tell it, each used by some model:

- sinusoidal: add a fixed table ``P[t]`` to the embeddings
  (:class:`PositionalEncoding`);
- learned: add a trained table ``E[t]`` to the embeddings (:class:`PositionEmbedding`);
- RoPE: rotate queries and keys by their positions, so that ``q_m · k_n`` depends on the
  positions only through ``m - n`` (:func:`rope`);
- ALiBi: add ``-slope · distance`` to the scores, a slope per head (:func:`alibi_bias`);
- none ("NoPE"): add nothing; a causal mask alone breaks the symmetry
  (:class:`NoPositionalEncoding`).

RoPE in a few lines: the ``d`` features of a query (or key) are ``d / 2`` pairs; the
pair of frequency ``i`` is rotated by the angle ``m θ_i``, ``θ_i = base^(-2i/d)``, at
position ``m``. Two rotations compose, so ``R(m)q · R(n)k = q · R(n - m)k``. *Which*
features form a pair is a convention, and implementations differ:

- ``pairing="half"`` (GPT-NeoX, Hugging Face's ``rotate_half``): feature ``i`` pairs
  with feature ``i + d/2``;
- ``pairing="interleaved"`` (GPT-J, Meta's original LLaMA code): ``2i`` pairs with
  ``2i + 1``.

Both are RoPE; they differ by a fixed permutation of the features. Mixing them, rotating
with one pairing while laying out the angles for the other, is a bug that still runs.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate, reference
from attn_lib.masking import size

_register = keras.saving.register_keras_serializable(package="attn_lib")

PAIRINGS = ("half", "interleaved")


# --- Sinusoidal (Vaswani et al., 2017) -----------------------------------------------------

@_register
class PositionalEncoding(keras.layers.Layer):
    """Adds sinusoidal positional encodings (Vaswani et al., 2017) to its input.

    ``P[t, 2i] = sin(t / 10000^(2i/d))`` and ``P[t, 2i+1] = cos(t / 10000^(2i/d))``.

    Args:
        max_len: int, the longest sequence the layer accepts.
        d_model: int, the size of each position's vector.

    Call arguments:
        x: ``(B, T, d_model)`` with ``T <= max_len``; its Keras mask is kept.

    Returns:
        ``x + P[:T]``, same shape. The table is in ``layer.encoding`` ``(max_len, d_model)``.

    Raises:
        ValueError: `x` longer than `max_len` or with a last axis other than `d_model`.

    Example:
        >>> layer = PositionalEncoding(max_len=50, d_model=4)
        >>> layer(np.zeros((1, 2, 4), "float32")).numpy().round(3)
        array([[[0.   , 1.   , 0.   , 1.   ],
                [0.841, 0.54 , 0.01 , 1.   ]]], dtype=float32)
    """

    def __init__(self, max_len, d_model, **kwargs):
        super().__init__(**kwargs)
        self.max_len = _validate.check_positive_int("max_len", max_len)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.encoding = reference.positional_encoding(max_len, d_model).astype(np.float32)
        self.supports_masking = True

    def __call__(self, x, *args, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        if shape[2] is not None and shape[2] != self.d_model or (
                shape[1] is not None and shape[1] > self.max_len):
            raise ValueError(f"`x` must have shape (B, T <= max_len={self.max_len}, "
                             f"d_model={self.d_model}). Received: x.shape={shape}")
        return super().__call__(x, *args, **kwargs)

    def call(self, x):
        return x + tf.cast(self.encoding, x.dtype)[tf.newaxis, :tf.shape(x)[1], :]

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "d_model": self.d_model}



# --- RoPE ------------------------------------------------------------------------------------

def rope_frequencies(dim, base=10000):
    """The angles per position, ``θ_i = base^(-2i/dim)`` for ``i = 0 ... dim/2 - 1``.

    Args:
        dim: even int, ``d``, the size of the vectors to rotate.
        base: number > 1 (default 10000): the longest wavelength is about
            ``2π · base`` positions.

    Returns:
        NumPy float64 array ``(dim / 2,)``, from 1 down to nearly ``1 / base``.

    Raises:
        TypeError, ValueError: `dim` not an even positive integer, `base` not > 1.

    Example:
        >>> rope_frequencies(4, base=100).tolist()
        [1.0, 0.1]
    """
    dim = _validate.check_positive_int("dim", dim)
    if dim % 2:
        raise ValueError(f"`dim` must be even (features rotate in pairs). Received: dim={dim}")
    return _rope_frequencies(dim, _check_base(base))


def rope(x, positions=None, base=10000, pairing="half"):
    """Rotary position embedding (Su et al., 2021): rotate each pair of features by ``m θ_i``.

    Applied to queries and keys (never values) after their projection, so that their
    dot product depends on the positions only through ``m - n``.

    Args:
        x: float tensor ``(..., T, d)`` with ``d`` even, e.g. heads ``(B, h, T, d)``.
        positions: integers ``(T,)``, or of a shape that broadcasts against
            ``x.shape[:-1]`` (e.g. ``(B, 1, T)`` for heads); default ``0 ... T - 1``.
            Any integers: negative positions rotate backwards.
        base: number > 1, the base of the frequencies (default 10000).
        pairing: ``"half"`` (feature ``i`` pairs with ``i + d/2``) or ``"interleaved"``
            (``2i`` pairs with ``2i + 1``).

    Returns:
        Tensor of the shape and dtype of `x`; each pair keeps its length.

    Raises:
        ValueError: `x` with fewer than 2 axes or an odd last axis; `positions` of a
            shape that does not broadcast; `base` <= 1; an unknown `pairing`.
        TypeError: `x` not floating point, `positions` not integers.

    Example:
        >>> x = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], "float32")
        >>> rope(x, base=100).numpy().round(3)  # position 1: the first pair turns by 1 rad
        array([[1.   , 0.   , 0.   , 0.   ],
               [0.54 , 0.   , 0.841, 0.   ]], dtype=float32)
        >>> rope(x, base=100, pairing="interleaved").numpy().round(3)
        array([[1.   , 0.   , 0.   , 0.   ],
               [0.54 , 0.841, 0.   , 0.   ]], dtype=float32)
    """
    shape = _validate.shape_of(x)
    if shape is None or len(shape) < 2:
        got = "an unknown rank" if shape is None else f"x.shape={shape}"
        raise ValueError(f"`x` must have at least 2 axes, (..., T, d). Received: {got}")
    _validate.check_float("x", x)
    if shape[-1] is not None and shape[-1] % 2:
        raise ValueError("The last axis of `x` must be even (features rotate in pairs). "
                         f"Received: x.shape={shape}")
    base = _check_base(base)
    if pairing not in PAIRINGS:
        raise ValueError('`pairing` must be "half" (i with i + d/2, GPT-NeoX) or '
                         f'"interleaved" (2i with 2i + 1, GPT-J). Received: pairing={pairing!r}')
    if positions is not None:
        dtype, p_shape = _validate.dtype_of(positions), _validate.shape_of(positions)
        if not dtype.is_integer:
            raise TypeError("`positions` must hold integers. "
                            f"Received: positions.dtype={dtype.name}")
        if not _broadcasts(p_shape, shape[:-1]):
            raise ValueError(f"`positions` must be (T,) or broadcast against x.shape[:-1]="
                             f"{shape[:-1]}. Received: positions.shape={p_shape}")
    return _rope(x, positions, base, pairing)


def _rope(x, positions=None, base=10000.0, pairing="half"):
    """`rope` without checks; `positions` may be a tensor, ``None`` for ``0 ... T - 1``."""
    x = tf.convert_to_tensor(x)
    if positions is None:
        positions = tf.range(size(x, -2))
    # 1) the angle of every pair at every position, (..., T, d/2), in float64: float32
    #    angles m·θ are off by ~1e-5 rad at m ~ 8000, and so are the scores q·k
    angles = (tf.cast(tf.expand_dims(positions, -1), tf.float64)
              * _frequencies_tensor(size(x, -1), base))
    # 2) the angle of every feature, the two of a pair alike: (..., T, d)
    angles = _layout_angles(angles, pairing)
    cos, sin = tf.cast(tf.cos(angles), x.dtype), tf.cast(tf.sin(angles), x.dtype)
    # 3) rotate: (a, b) -> (a cos - b sin, b cos + a sin) for every pair (a, b)
    return x * cos + _rotate_pairs(x, pairing) * sin


def _rope_frequencies(dim, base):
    return base ** (-np.arange(0, dim, 2) / dim)  # θ_i = base^(-2i/d), (d/2,)


def _frequencies_tensor(dim, base):
    """`_rope_frequencies` in TensorFlow, for a `dim` known only when the graph runs."""
    if isinstance(dim, int):
        return tf.constant(_rope_frequencies(dim, base))
    exponents = tf.cast(tf.range(0, dim, 2), tf.float64) / tf.cast(dim, tf.float64)
    return tf.pow(tf.constant(base, tf.float64), -exponents)


def _layout_angles(angles, pairing):
    """``(..., d/2)`` angles -> ``(..., d)``: each feature gets the angle of its pair."""
    if pairing == "half":  # θ_0 ... θ_{d/2-1}, θ_0 ... θ_{d/2-1}
        return tf.concat([angles, angles], axis=-1)
    return tf.repeat(angles, 2, axis=-1)  # θ_0, θ_0, θ_1, θ_1, ...


def _rotate_pairs(x, pairing):
    """``(a, b) -> (-b, a)`` for every pair: the 90° turn that ``sin`` multiplies."""
    if pairing == "half":
        first, second = tf.split(x, 2, axis=-1)  # (..., d/2) each
        return tf.concat([-second, first], axis=-1)
    first, second = x[..., 0::2], x[..., 1::2]  # (..., d/2) each
    return tf.reshape(tf.stack([-second, first], axis=-1), tf.shape(x))  # -b, a, ...


def _check_base(base):
    if isinstance(base, bool) or not isinstance(base, (int, float, np.number)):
        raise TypeError(f"`base` must be a number > 1. Received: base={base!r}")
    if not base > 1:
        raise ValueError(f"`base` must be > 1. Received: base={base}")
    return float(base)


def _broadcasts(shape, target):
    """Does `shape` broadcast *to* `target` (NumPy's rules; ``None`` = unknown)?"""
    if shape is None or target is None:
        return True  # an unknown rank: TensorFlow checks when it runs
    return len(shape) <= len(target) and all(
        a in (1, None) or b in (a, None) for a, b in zip(shape[::-1], target[::-1]))


# --- ALiBi -----------------------------------------------------------------------------------

def alibi_slopes(num_heads):
    """The slopes of ALiBi's heads (Press et al., 2022): a geometric sequence.

    For ``h`` a power of two, head ``k = 1 ... h`` has slope ``2^(-8k/h)``: for 8 heads
    ``1/2, 1/4, ..., 1/256``. For other ``h``, the paper's rule: the slopes of the largest
    power of two ``p < h``, then every other slope of ``2p`` heads (the ones between
    those) until there are ``h``.

    Args:
        num_heads: int > 0, ``h``.

    Returns:
        float32 tensor ``(h,)``.

    Raises:
        TypeError, ValueError: `num_heads` not a positive integer.

    Example:
        >>> (1 / alibi_slopes(6).numpy()).tolist()  # 4 heads' slopes, then 2 of 8's
        [4.0, 16.0, 64.0, 256.0, 2.0, 8.0]
    """
    num_heads = _validate.check_positive_int("num_heads", num_heads)
    return tf.constant(_alibi_slopes(num_heads), tf.float32)


def _alibi_slopes(num_heads):
    power = 2 ** math.floor(math.log2(num_heads))  # the largest power of two <= h
    slopes = [2.0 ** (-8.0 * k / power) for k in range(1, power + 1)]
    if power < num_heads:  # fill in from the slopes of 2p heads: 1st, 3rd, 5th, ...
        slopes += _alibi_slopes(2 * power)[0::2][:num_heads - power]
    return slopes


def alibi_bias(num_heads, num_queries, num_kv=None, offset=0):
    """ALiBi's bias, ``bias[k, i, j] = -slope_k · |i + offset - j|``, to add to scores.

    Query ``i`` sits at position ``i + offset`` (as in :func:`attn_lib.causal_mask`:
    ``offset`` positions cached before it), key ``j`` at position ``j``. Each head
    penalises distance at its own slope; no positional encoding is added to the
    embeddings. For a causal model add it to the scaled scores and mask the future
    with ``causal_mask(num_queries, num_kv, offset)``; the keys after a query (masked
    there) get the same penalty for their distance, which a model without a causal
    mask can use as it is.

    Args:
        num_heads: int, ``h``.
        num_queries: int, ``Tq``.
        num_kv: int, ``Tv`` (default ``Tq + offset``).
        offset: int >= 0, the position of the first query (default 0).

    Returns:
        float32 tensor ``(h, Tq, Tv)``; for scores ``(B, h, Tq, Tv)`` add ``bias[None]``.

    Raises:
        TypeError, ValueError: a size that is not a positive integer, a negative offset.

    Example:
        >>> alibi_bias(2, 3).numpy()  # slopes 1/16 and 1/256
        array([[[ 0.        , -0.0625    , -0.125     ],
                [-0.0625    ,  0.        , -0.0625    ],
                [-0.125     , -0.0625    ,  0.        ]],
        <BLANKLINE>
               [[ 0.        , -0.00390625, -0.0078125 ],
                [-0.00390625,  0.        , -0.00390625],
                [-0.0078125 , -0.00390625,  0.        ]]], dtype=float32)
    """
    num_heads = _validate.check_positive_int("num_heads", num_heads)
    num_queries = _validate.check_positive_int("num_queries", num_queries)
    offset = _validate.check_positive_int("offset", offset, allow_zero=True)
    num_kv = (num_queries + offset if num_kv is None
              else _validate.check_positive_int("num_kv", num_kv))
    return _alibi_bias(num_heads, num_queries, num_kv, offset)


def _alibi_bias(num_heads, num_queries, num_kv, offset=0):
    """`alibi_bias` without checks; the sizes and `offset` may be scalar tensors."""
    query_at = tf.range(num_queries) + offset  # (Tq,): positions offset ... offset + Tq - 1
    distance = tf.abs(tf.expand_dims(query_at, 1) - tf.expand_dims(tf.range(num_kv), 0))
    slopes = tf.constant(_alibi_slopes(num_heads), tf.float32)[:, None, None]  # (h, 1, 1)
    return slopes * tf.cast(-distance, tf.float32)  # (h, Tq, Tv); an exact 0 at distance 0


# --- positions added to the embeddings ---------------------------------------------------------

@_register
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position (absolute positions, as in BERT and GPT-2).

    A table ``E`` ``(max_len, d_model)`` of trainable weights; position ``t`` adds row
    ``t``. Rows of positions never seen in training keep their initial random values:
    such a model knows nothing about longer sequences.

    Args:
        max_len: int, the most positions a sequence may have.
        d_model: int, the size of each position's vector.

    Call arguments:
        x: ``(B, T, d_model)``; its Keras mask is kept.
        start: int >= 0, the position of ``x[:, 0]`` (default 0; a chunk generated after
            `start` cached positions), with ``start + T <= max_len``.

    Returns:
        ``x + E[start:start + T]``, same shape. The table is ``layer.embeddings``
        ``(max_len, d_model)``.

    Raises:
        TypeError, ValueError: sizes that are not positive integers; `x` not a float
            ``(B, T, d_model)`` with ``start + T <= max_len``.

    Example:
        >>> layer = PositionEmbedding(max_len=16, d_model=4)
        >>> out = layer(np.zeros((2, 3, 4), "float32"))
        >>> tuple(out.shape), tuple(layer.embeddings.shape)
        ((2, 3, 4), (16, 4))
        >>> bool(np.all(out[1] == layer.embeddings[:3]))
        True
    """

    def __init__(self, max_len, d_model, **kwargs):
        super().__init__(**kwargs)
        self.max_len = _validate.check_positive_int("max_len", max_len)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.supports_masking = True

    def __call__(self, x, start=0, **kwargs):
        start = _validate.check_positive_int("start", start, allow_zero=True)
        _check_sequence(x, self.max_len, self.d_model, start)
        return super().__call__(x, start=start, **kwargs)

    def build(self, x_shape):
        # like Keras' Embedding: small uniform values, none of them special
        self.embeddings = self.add_weight(name="embeddings", shape=(self.max_len, self.d_model),
                                          initializer="uniform")

    def call(self, x, start=0):
        rows = self.embeddings[start:start + size(x, 1)]  # (T, d_model)
        return x + tf.cast(rows, x.dtype)[tf.newaxis]

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "d_model": self.d_model}


@_register
class NoPositionalEncoding(keras.layers.Layer):
    """No positional encoding ("NoPE", Kazemnejad et al., 2023): returns `x` unchanged.

    Where a model takes a positional layer, this one says "none" explicitly (and shows
    in its summary and config). Without a causal mask, attention then cannot tell the
    order of its inputs at all; with one, query ``i`` sees exactly ``i + 1`` keys, and
    a model can infer positions from that.

    Call arguments:
        x: ``(B, T, d)``; its Keras mask is kept.

    Returns:
        `x`.

    Example:
        >>> x = np.ones((1, 2, 3), "float32")
        >>> bool(np.all(NoPositionalEncoding()(x) == x))
        True
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def __call__(self, x, *args, **kwargs):
        _check_sequence(x)
        return super().__call__(x, *args, **kwargs)

    def call(self, x):
        return x

    def compute_output_shape(self, x_shape):
        return x_shape


def _check_sequence(x, max_len=None, d_model=None, start=0):
    shape = _validate.check_rank("x", x, 3)
    _validate.check_float("x", x)
    if (d_model is not None and shape[2] is not None and shape[2] != d_model) or (
            max_len is not None and shape[1] is not None and start + shape[1] > max_len):
        longest = f"max_len={max_len}" if not start else f"max_len - start={max_len - start}"
        raise ValueError(f"`x` must have shape (B, T <= {longest}, d_model={d_model}). "
                         f"Received: x.shape={shape}")


__all__ = ["NoPositionalEncoding", "PAIRINGS", "PositionEmbedding", "PositionalEncoding",
           "alibi_bias", "alibi_slopes", "rope", "rope_frequencies"]
