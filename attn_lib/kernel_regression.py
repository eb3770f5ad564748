"""Nadaraya–Watson kernel regression as attention, with a width Keras can learn.

Nadaraya (1964) and Watson (1964) predict ``y`` at a new input ``x`` as a weighted
average of the training targets, the weights given by a kernel of the distance
between ``x`` and each training input. With a Gaussian kernel the weights are a
softmax of the scores ``a(q, k) = -||q - k||² / (2 σ²)``: the test input is the
*query*, the training inputs are the *keys*, the training targets the *values*.

- :func:`gaussian_kernel_scores` – the scores ``(B, Tq, Tv)`` for a given width σ;
- :class:`NadarayaWatson` – a Keras layer whose one weight is ``log σ``;
- :func:`leave_one_out` – training inputs in which no query sees its own key, so
  that learning σ does not collapse it to 0.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.layers import _Attention

_register = keras.saving.register_keras_serializable(package="attn_lib")


def _check_width(width):
    """Raise unless `width` is a positive number (checked when its value is known)."""
    if isinstance(width, bool) or not (
        isinstance(width, (int, float, np.number)) or tf.is_tensor(width)
        or isinstance(width, keras.Variable)
    ):
        raise TypeError(f"`width` must be a positive number. Received: width={width!r}")
    value = _validate.concrete_values(width)
    if value is not None and not np.all(value > 0):
        raise ValueError(f"`width` must be > 0. Received: width={float(np.min(value))}")


def gaussian_kernel_scores(queries, keys, width=1.0):
    """Gaussian-kernel scores ``-||q_i - k_j||² / (2 width²)`` for every query–key pair.

    A softmax of these scores over the keys gives the Nadaraya–Watson weights.

    Args:
        queries: float tensor ``(B, Tq, d)``.
        keys: float tensor ``(B, Tv, d)``, the same ``d``.
        width: positive number or scalar tensor, the kernel width σ.

    Returns:
        ``(B, Tq, Tv)`` scores in the dtype of `queries`; 0 on the diagonal of equal
        inputs, more negative the farther apart. The intermediate differences are
        ``(B, Tq, Tv, d)``, fine for the small ``d`` of regression.

    Raises:
        ValueError: wrong ranks, different batch sizes or ``d``, or ``width <= 0``.
        TypeError: non-float inputs or a non-numeric `width`.

    Example:
        >>> q = np.zeros((1, 1, 1), "float32"); k = np.array([[[1.0], [2.0]]], "float32")
        >>> gaussian_kernel_scores(q, k, width=1.0).numpy()
        array([[[-0.5, -2. ]]], dtype=float32)
    """
    q = _validate.check_rank("queries", queries, 3)
    k = _validate.check_rank("keys", keys, 3)
    dtype = _validate.check_float("queries", queries)
    _validate.check_float("keys", keys)
    _validate.check_same("`queries` and `keys` must have the same batch size",
                         ("queries.shape", "keys.shape"), (q[0], k[0]))
    if None not in (q[2], k[2]) and q[2] != k[2]:
        raise ValueError(
            "`queries` and `keys` must have the same size (the last axis) to measure "
            f"distances. Received: queries.shape={q}, keys.shape={k}"
        )
    _check_width(width)
    queries = tf.convert_to_tensor(queries)
    keys = tf.cast(keys, dtype)
    width = tf.cast(width, dtype)
    diffs = queries[:, :, tf.newaxis, :] - keys[:, tf.newaxis, :, :]  # (B, Tq, Tv, d)
    squared = tf.reduce_sum(tf.square(diffs), axis=-1)  # (B, Tq, Tv)
    return -squared / (2 * tf.square(width))


@_register
class NadarayaWatson(_Attention):
    """Nadaraya–Watson regression: attention with a Gaussian score and a learned width.

    ``output_i = Σ_j softmax_j(-||q_i - k_j||² / (2 σ²)) v_j``. The layer's only
    weight is ``log_width = log σ``, so σ stays positive while it is trained.

    Args:
        initial_width: positive float, σ before training.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        queries: ``(B, Tq, d)`` inputs where predictions are wanted.
        keys: ``(B, Tv, d)`` training inputs. values: ``(B, Tv, dv)`` their targets.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)``.
        mask: optional boolean, broadcastable to ``(B, Tq, Tv)``, ``True`` = use this key.
        training: whether dropout is active.

    Returns:
        ``(B, Tq, dv)`` predictions; the weights ``(B, Tq, Tv)`` are in
        ``attention_weights``.

    Raises:
        ValueError: ``initial_width <= 0``, or inputs of the wrong shapes.
        TypeError: a non-numeric `initial_width`, or non-float inputs.

    Example:
        >>> layer = NadarayaWatson(initial_width=0.5)
        >>> x = np.linspace(0, 1, 4, dtype="float32").reshape(1, 4, 1)
        >>> layer(x, x, 2 * x).shape, round(float(layer.width), 3)
        (TensorShape([1, 4, 1]), 0.5)
    """

    def __init__(self, initial_width=1.0, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        if isinstance(initial_width, bool) or not isinstance(
                initial_width, (int, float, np.number)):
            raise TypeError(
                "`initial_width` must be a positive float. "
                f"Received: initial_width={initial_width!r}"
            )
        if not initial_width > 0:
            raise ValueError(
                f"`initial_width` must be > 0. Received: initial_width={initial_width}"
            )
        self.initial_width = float(initial_width)

    def build(self, queries_shape, keys_shape=None, values_shape=None):
        self.log_width = self.add_weight(
            name="log_width", shape=(),
            initializer=keras.initializers.Constant(math.log(self.initial_width)),
        )

    @property
    def width(self):
        """The kernel width σ = exp(log_width), a scalar tensor."""
        return tf.exp(tf.convert_to_tensor(self.log_width))

    def call(self, queries, keys, values, valid_lens=None, mask=None, training=None):
        scores = gaussian_kernel_scores(queries, keys, self.width)  # (B, Tq, Tv)
        return self.attend(scores, values, valid_lens, mask, training)

    def get_config(self):
        return {**super().get_config(), "initial_width": self.initial_width}


def leave_one_out(x, y):
    """Training inputs for learning σ: each point is a query against all *other* points.

    If a training point were among its own keys, the loss would be smallest for
    σ → 0 (each point copies its own target). Leaving it out makes the loss an
    honest estimate of the error on new inputs.

    Args:
        x: ``(n,)`` or ``(n, d)`` training inputs, ``n >= 2``.
        y: ``(n,)`` or ``(n, dv)`` training targets.

    Returns:
        ``(queries, keys, values, targets)`` as float32 arrays of shapes
        ``(n, 1, d)``, ``(n, n - 1, d)``, ``(n, n - 1, dv)``, ``(n, 1, dv)``:
        batch element ``i`` asks with ``x[i]`` and looks up every ``j != i``.

    Raises:
        ValueError: `x` or `y` of rank other than 1 or 2, fewer than 2 points, or
            `x` and `y` with different numbers of points.

    Example:
        >>> queries, keys, values, targets = leave_one_out(np.arange(4.0), np.arange(4.0))
        >>> queries.shape, keys.shape, keys[0, :, 0].tolist()
        ((4, 1, 1), (4, 3, 1), [1.0, 2.0, 3.0])
    """
    arrays = {}
    for name, a in (("x", x), ("y", y)):
        a = np.asarray(a, dtype=np.float32)
        if a.ndim not in (1, 2):
            raise ValueError(
                f"`{name}` must have shape (n,) or (n, features). Received: {name}.shape={a.shape}"
            )
        arrays[name] = a.reshape(len(a), -1)  # (n, d)
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise ValueError(
            "`x` and `y` must have the same number of points. "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    n = len(x)
    if n < 2:
        raise ValueError(f"`x` must have at least 2 points. Received: x.shape={x.shape}")
    others = ~np.eye(n, dtype=bool)  # others[i, j] = (j != i)
    keys = np.stack([x[row] for row in others])  # (n, n - 1, d)
    values = np.stack([y[row] for row in others])  # (n, n - 1, dv)
    return x[:, None, :], keys, values, y[:, None, :]


__all__ = ["NadarayaWatson", "gaussian_kernel_scores", "leave_one_out"]
