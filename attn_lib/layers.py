"""Keras attention layers with one score each, and their base class :class:`AttentionLayer`.

Keys are masked by `valid_lens`, `mask` and the inputs' Keras masks (``Embedding(mask_zero=
True)``): a padded query gets zero weights; the output keeps the queries' Keras mask.
"""

import math

import keras
import tensorflow as tf

from attn_lib import _validate, scoring
from attn_lib.masking import _masked_softmax, and_masks, keras_key_mask

_register = keras.saving.register_keras_serializable(package="attn_lib")


class AttentionLayer(keras.layers.Layer):
    """Base of the attention layers: checks once, masks, softmax, dropout, weighted sum.

    To write one: create weights in ``build(queries_shape, keys_shape, values_shape)``
    and return the scores ``(B, Tq, Tv)`` from ``score(queries, keys)``; ``call``
    then masks, normalises and mixes the values with :meth:`attend`. ``__call__``
    checks the arguments once and folds the inputs' Keras masks into `mask`;
    ``sized_inputs`` names the inputs whose last axis the weights fix.

    Args:
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. values: ``(B, Tv, dv)``.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)``, any integer dtype.
        mask: optional boolean ``(B or 1, Tq or 1, Tv)``, True = attend.
        training: bool or None, whether dropout is active. return_attention_scores: bool.

    Raises:
        ValueError: wrong ranks or sizes of the inputs, `valid_lens` or `mask`.
        TypeError: non-float inputs, non-integer `valid_lens`, non-boolean `mask` or flags.

    Returns:
        ``(B, Tq, dv)``, or ``(output, weights)`` with weights ``(B, Tq, Tv)``, also in
        ``attention_weights`` (numbers after an eager call only; in ``tf.function``
        or ``model.predict`` ask for ``return_attention_scores=True``).
    """

    same_size, sized_inputs = False, ("queries", "keys")  # same last axis? sizes fixed?

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dropout = _validate.check_rate("dropout", dropout)
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.attention_weights = self._input_sizes = None

    def __call__(self, queries, keys, values, valid_lens=None, mask=None, training=None,
                 return_attention_scores=False, **kwargs):
        q, k, v = _validate.check_attention_inputs(queries, keys, values, self.same_size)
        mask = self._check_options(dict(queries=q, keys=k, values=v), q[0], q[1], k[1],
                                   valid_lens, mask, training, return_attention_scores)
        mask = and_masks(mask, keras_key_mask(queries, keys, values))
        return super().__call__(queries, keys, values, valid_lens=valid_lens, mask=mask,
                                training=training,
                                return_attention_scores=return_attention_scores, **kwargs)

    def _check_options(self, shapes, batch, num_queries, num_kv, valid_lens, mask,
                       training, return_attention_scores, per_query=True):
        """Check what every attention layer takes; return `mask` as a tensor."""
        _validate.check_bool("training", training, allow_none=True)
        _validate.check_bool("return_attention_scores", return_attention_scores)
        if valid_lens is not None:
            _validate.check_valid_lens(valid_lens, batch, num_queries, per_query)
        if mask is not None:
            _validate.check_mask(mask, (batch, num_queries, num_kv))
            mask = tf.convert_to_tensor(mask)
        sizes = {name: shapes[name][-1] for name in self.sized_inputs}
        self._input_sizes = self._input_sizes or sizes  # the first call builds the weights
        if sizes != self._input_sizes and None not in sizes.values():
            raise ValueError(f"Layer '{self.name}' was built for inputs whose last axis is "
                             f"{self._input_sizes}; its weights fix those. Received: {sizes}")
        return mask

    def call(self, queries, keys, values, valid_lens=None, mask=None, training=None,
             return_attention_scores=False):
        scores = self.score(queries, keys)  # (B, Tq, Tv): what a subclass defines
        return self.attend(scores, values, valid_lens, mask, training, return_attention_scores)

    def attend(self, scores, values, valid_lens=None, mask=None, training=None,
               return_attention_scores=False):
        """Masked softmax of `scores` ``(B, [h,] Tq, Tv)``, dropout, weighted sum of `values`."""
        weights = _masked_softmax(scores, valid_lens, mask)
        self.attention_weights = weights
        dropped = self.dropout_layer(weights, training=training) if self.dropout else weights
        output = tf.matmul(dropped, values)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, queries, previous_mask=None):
        return getattr(queries, "_keras_mask", None)  # the output keeps the queries' mask

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout}


@_register
class DotProductAttention(AttentionLayer):
    """Scaled dot-product attention, ``softmax(Q Kᵀ / √d) V`` (Vaswani et al., 2017).

    Args:
        dropout: float in [0, 1), dropout rate on the attention weights.
        scaled: bool; divide scores by √d. ``False``: Luong's "dot", ``keras.layers.Attention()``.

    Call arguments, returns, raises: as for :class:`AttentionLayer`, with queries and
    keys of one size ``d``.

    Example:
        >>> import numpy as np
        >>> layer = DotProductAttention()
        >>> q = np.ones((2, 3, 4), "float32"); kv = np.ones((2, 5, 4), "float32")
        >>> layer(q, kv, kv, valid_lens=np.array([2, 5])).shape
        TensorShape([2, 3, 4])
    """

    same_size, sized_inputs = True, ()

    def __init__(self, dropout=0.0, scaled=True, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.scaled = _validate.check_bool("scaled", scaled)

    def score(self, queries, keys):
        return scoring._dot_product_scores(queries, keys, self.scaled)

    def get_config(self):
        return {**super().get_config(), "scaled": self.scaled}


@_register
class AdditiveAttention(AttentionLayer):
    """Additive (Bahdanau) attention, ``score(q, k) = w_v · tanh(q W_q + k W_k)``.

    Queries and keys may differ in size; W_q, W_k, w_v are learned (Keras' layer has none).

    Args:
        units: int, the size ``h`` of the hidden layer.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments, returns, raises: as for :class:`AttentionLayer`.

    Example:
        >>> import numpy as np
        >>> layer = AdditiveAttention(units=8)
        >>> q = np.ones((2, 1, 20), "float32"); k = np.ones((2, 10, 2), "float32")
        >>> layer(q, k, np.ones((2, 10, 4), "float32")).shape
        TensorShape([2, 1, 4])
    """

    def __init__(self, units, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.units = _validate.check_positive_int("units", units)

    def build(self, queries_shape, keys_shape, values_shape=None):
        self.W_q = self.add_weight(name="W_q", shape=(queries_shape[-1], self.units))
        self.W_k = self.add_weight(name="W_k", shape=(keys_shape[-1], self.units))
        self.w_v = self.add_weight(name="w_v", shape=(self.units,))

    def score(self, queries, keys):
        return scoring._additive_scores(queries, keys, self.W_q, self.W_k, self.w_v)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@_register
class GeneralAttention(AttentionLayer):
    """Luong's "general" (bilinear) attention, ``score(q, k) = q W kᵀ``, one ``(dq, dk)`` W.

    Args:
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments, returns, raises: as for :class:`AttentionLayer`.

    Example:
        >>> import numpy as np
        >>> layer = GeneralAttention()
        >>> q = np.ones((3, 2, 5), "float32"); k = np.ones((3, 4, 6), "float32")
        >>> layer(q, k, k).shape, layer.W.shape
        (TensorShape([3, 2, 6]), TensorShape([5, 6]))
    """

    def build(self, queries_shape, keys_shape, values_shape=None):
        self.W = self.add_weight(name="W", shape=(queries_shape[-1], keys_shape[-1]))

    def score(self, queries, keys):
        return scoring._general_scores(queries, keys, self.W)


@_register
class NadarayaWatson(AttentionLayer):
    """Nadaraya–Watson regression: attention with a Gaussian score and a learned width.

    ``output_i = Σ_j softmax_j(-‖q_i - k_j‖² / (2σ²)) v_j``. The only weight is
    ``log_width = log σ``, so σ stays positive while it is trained.

    Args:
        initial_width: positive float, σ before training.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments, returns, raises: as for :class:`AttentionLayer` (queries: inputs to
    predict at; keys: training inputs; values: their targets); and for `initial_width`.

    Example:
        >>> import numpy as np
        >>> layer = NadarayaWatson(initial_width=0.5)
        >>> x = np.linspace(0, 1, 4, dtype="float32").reshape(1, 4, 1)
        >>> layer(x, x, 2 * x).shape, round(float(layer.width), 3)
        (TensorShape([1, 4, 1]), 0.5)
    """

    same_size, sized_inputs = True, ()

    def __init__(self, initial_width=1.0, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.initial_width = float(_validate.check_positive("initial_width", initial_width))

    def build(self, *shapes):
        start = keras.initializers.Constant(math.log(self.initial_width))
        self.log_width = self.add_weight(name="log_width", shape=(), initializer=start)

    @property
    def width(self):  # σ = exp(log_width), a scalar tensor
        return tf.exp(tf.convert_to_tensor(self.log_width))

    def score(self, queries, keys):
        return scoring._gaussian_kernel_scores(queries, keys, tf.cast(self.width, queries.dtype))

    def get_config(self):
        return {**super().get_config(), "initial_width": self.initial_width}


@_register
class AttentionPooling(AttentionLayer):
    """Pool a sequence into one vector with a learned query (Lin et al., 2017).

    ``a = masked_softmax(w₂ᵀ tanh(W₁ x_t + b₁))``, output ``Σ_t a_t x_t``.

    Args:
        units: int, the size of the hidden layer ``W₁``.

    Call arguments:
        x: ``(B, T, d)`` float; its Keras mask, if any, masks positions.
        valid_lens: integers ``(B,)``, or mask: boolean ``(B or 1, 1, T)``: what to pool.
        return_attention_scores: bool, also return the weights ``(B, T)``.

    Returns:
        ``(B, d)``, or ``(output, weights)``; weights ``(B, T)`` also in ``attention_weights``.

    Example:
        >>> import numpy as np
        >>> x = np.ones((2, 5, 3), "float32")
        >>> _, weights = AttentionPooling(4)(x, np.array([2, 5]), return_attention_scores=True)
        >>> np.round(weights.numpy()[0], 2).tolist()
        [0.5, 0.5, 0.0, 0.0, 0.0]
    """

    sized_inputs = ("x",)

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = _validate.check_positive_int("units", units)

    def __call__(self, x, valid_lens=None, mask=None, return_attention_scores=False, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        mask = self._check_options(dict(x=shape), shape[0], 1, shape[1], valid_lens, mask,
                                   None, return_attention_scores, per_query=False)
        mask = and_masks(mask, keras_key_mask(None, x))
        return keras.layers.Layer.__call__(self, x, valid_lens=valid_lens, mask=mask, **kwargs,
                                           return_attention_scores=return_attention_scores)

    def build(self, x_shape, *_, **__):
        self.W_1 = self.add_weight(name="W_1", shape=(x_shape[-1], self.units))
        self.b_1 = self.add_weight(name="b_1", shape=(self.units,), initializer="zeros")
        self.w_2 = self.add_weight(name="w_2", shape=(self.units,))

    def call(self, x, valid_lens=None, mask=None, return_attention_scores=False):
        features = tf.tanh(tf.matmul(x, self.W_1) + self.b_1)  # (B, T, units)
        scores = tf.expand_dims(tf.linalg.matvec(features, self.w_2), 1)  # (B, 1, T)
        pooled, weights = self.attend(scores, x, valid_lens, mask, None, True)
        pooled, weights = tf.squeeze(pooled, 1), tf.squeeze(weights, 1)  # (B, d), (B, T)
        self.attention_weights = weights
        return (pooled, weights) if return_attention_scores else pooled

    def compute_mask(self, x, previous_mask=None):  # no positions left to mask
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units}


__all__ = ["AdditiveAttention", "AttentionLayer", "AttentionPooling", "DotProductAttention",
           "GeneralAttention", "NadarayaWatson"]
