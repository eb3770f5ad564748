"""A small self-attention text classifier whose attention can be looked at.

The model of Chapter 8, read top to bottom::

    token_ids (B, T) ─ Embedding ─ + PositionalEncoding ─┐         (B, T, d)
                                                          ├─ + ─ h  (B, T, d)
                                 SelfAttention(valid_lens)┘  (residual)
    h ─ AttentionPooling(valid_lens) ─ (B, d) ─ Dense(relu) ─ Dense(sigmoid) ─ (B,)

Two attentions, two kinds of weights: the self-attention weights ``(B, T, T)``
say which words each word mixes into its own vector; the pooling weights
``(B, T)`` say how much of each (already mixed) word vector goes into the
review's single vector. Both ignore positions at or beyond ``valid_lens``.

The pooling is the structured self-attention of Lin et al. (2017) with one
"hop": ``a = softmax(w₂ᵀ tanh(W₁ hₜ + b₁))``, pooled ``Σₜ aₜ hₜ``.
"""

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.layers import PositionalEncoding, SelfAttention
from attn_lib.masking import masked_softmax

_register = keras.saving.register_keras_serializable(package="attn_lib")


@_register
class AttentionPooling(keras.layers.Layer):
    """Pool a sequence into one vector with learned attention weights (Lin et al., 2017).

    ``scores_t = w₂ᵀ tanh(W₁ h_t + b₁)``; ``a = masked_softmax(scores)``;
    output ``Σ_t a_t h_t``. This is additive attention with one *learned* query.

    Args:
        units: int, the size of the hidden layer ``W₁``.

    Call arguments:
        x: ``(B, T, d)`` float.
        valid_lens: optional integers ``(B,)``; positions ``t >= valid_lens`` get weight 0.

    Returns:
        ``(B, d)``; the weights ``(B, T)`` are in ``attention_weights``.

    Example:
        >>> pool = AttentionPooling(units=4)
        >>> x = np.ones((2, 5, 3), "float32")
        >>> pool(x, valid_lens=np.array([2, 5])).shape
        TensorShape([2, 3])
        >>> np.round(pool.attention_weights.numpy()[0], 2).tolist()
        [0.5, 0.5, 0.0, 0.0, 0.0]
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = _validate.check_positive_int("units", units)
        self.attention_weights = None

    def __call__(self, x, valid_lens=None, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        if valid_lens is not None:
            _validate.check_valid_lens(valid_lens, shape[0], shape[1])
            if len(_validate.shape_of(valid_lens)) != 1:
                raise ValueError(
                    "`valid_lens` of a pooling layer must have shape (B,). "
                    f"Received: valid_lens.shape={_validate.shape_of(valid_lens)}"
                )
        return super().__call__(x, valid_lens=valid_lens, **kwargs)

    def build(self, x_shape, valid_lens_shape=None):
        self.W_1 = self.add_weight(name="W_1", shape=(x_shape[-1], self.units))
        self.b_1 = self.add_weight(name="b_1", shape=(self.units,), initializer="zeros")
        self.w_2 = self.add_weight(name="w_2", shape=(self.units,))

    def call(self, x, valid_lens=None):
        features = tf.tanh(tf.matmul(x, self.W_1) + self.b_1)  # (B, T, units)
        scores = tf.linalg.matvec(features, self.w_2)  # (B, T)
        weights = masked_softmax(scores[:, tf.newaxis, :], valid_lens)[:, 0]  # (B, T)
        self.attention_weights = weights
        return tf.einsum("bt,btd->bd", weights, x)  # (B, d)

    def compute_output_shape(self, x_shape, valid_lens_shape=None):
        return (x_shape[0], x_shape[-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@_register
class SelfAttentionClassifier(keras.Model):
    """Binary classifier: embedding, positional encoding, self-attention, attention pooling.

    Args:
        vocab_size: int, number of token ids (id 0 is padding by convention; any
            token at or beyond `valid_lens` is ignored whatever its id).
        max_len: int, the longest review ``T`` the model accepts.
        d_model: int, size of the word vectors (and of the self-attention).
        num_heads: int dividing `d_model`, heads of the self-attention.
        pooling_units: int, hidden size of :class:`AttentionPooling`.
        hidden_units: int, size of the dense layer before the output.
        dropout: float in [0, 1), dropout on the self-attention weights.

    Call arguments:
        inputs: dict with ``"token_ids"`` ``(B, T)`` integers and ``"valid_lens"``
            ``(B,)`` integers (the number of real words of each review).
        training: whether dropout is active.

    Returns:
        ``(B,)`` probabilities that each review is positive.

    Raises:
        ValueError / TypeError: from the sizes, or when `inputs` lacks a key.

    Example:
        >>> model = SelfAttentionClassifier(vocab_size=10, max_len=6, d_model=8)
        >>> inputs = {"token_ids": np.ones((2, 6), "int32"), "valid_lens": np.array([3, 6])}
        >>> model(inputs).shape
        TensorShape([2])
        >>> maps = model.attention_maps(inputs["token_ids"], inputs["valid_lens"])
        >>> maps["self_attention"].shape, maps["pooling"].shape
        ((2, 6, 6), (2, 6))
    """

    def __init__(self, vocab_size, max_len, d_model=32, num_heads=1, pooling_units=16,
                 hidden_units=32, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.max_len = _validate.check_positive_int("max_len", max_len)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        self.pooling_units = _validate.check_positive_int("pooling_units", pooling_units)
        self.hidden_units = _validate.check_positive_int("hidden_units", hidden_units)
        self.dropout = _validate.check_rate("dropout", dropout)
        self.embedding = keras.layers.Embedding(vocab_size, d_model, name="embedding")
        self.positional_encoding = PositionalEncoding(max_len, d_model,
                                                      name="positional_encoding")
        self.self_attention = SelfAttention(d_model, num_heads=num_heads, dropout=dropout,
                                            name="self_attention")
        self.pooling = AttentionPooling(pooling_units, name="pooling")
        self.hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")
        self.classify = keras.layers.Dense(1, activation="sigmoid", name="classify")

    @staticmethod
    def _unpack(inputs):
        if not isinstance(inputs, dict) or set(inputs) != {"token_ids", "valid_lens"}:
            keys = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                '`inputs` must be a dict with the keys "token_ids" (B, T) and "valid_lens" '
                f"(B,). Received: {keys}"
            )
        return inputs["token_ids"], inputs["valid_lens"]

    def build(self, inputs_shape):
        ids_shape = tuple(inputs_shape["token_ids"])
        self.embedding.build(ids_shape)
        x_shape = ids_shape + (self.d_model,)
        self.positional_encoding.build(x_shape)
        self.self_attention.build(x_shape)
        self.pooling.build(x_shape)
        self.hidden.build((ids_shape[0], self.d_model))
        self.classify.build((ids_shape[0], self.hidden_units))

    def call(self, inputs, training=None):
        token_ids, valid_lens = self._unpack(inputs)
        valid_lens = tf.cast(valid_lens, "int32")
        # 1) word vectors plus positions: (B, T, d)
        x = self.positional_encoding(self.embedding(token_ids))
        # 2) every word mixes in the words it attends to (padding masked): (B, T, d)
        h = x + self.self_attention(x, valid_lens=valid_lens, training=training)
        # 3) one vector per review, a weighted mean over its real words: (B, d)
        pooled = self.pooling(h, valid_lens=valid_lens)
        # 4) classify: (B,)
        return self.classify(self.hidden(pooled))[:, 0]

    def attention_maps(self, token_ids, valid_lens, batch_size=256):
        """Probabilities and both attention weights for a batch of reviews, as NumPy.

        Args:
            token_ids: ``(N, T)`` integers. valid_lens: ``(N,)`` integers.
            batch_size: int, reviews per forward pass.

        Returns:
            dict with ``"probabilities"`` ``(N,)``, ``"self_attention"`` ``(N, T, T)``
            (``(N, h, T, T)`` with several heads) and ``"pooling"`` ``(N, T)``;
            weights at or beyond ``valid_lens`` are 0.
        """
        batch_size = _validate.check_positive_int("batch_size", batch_size)
        token_ids, valid_lens = np.asarray(token_ids), np.asarray(valid_lens)
        if token_ids.ndim != 2 or valid_lens.shape != token_ids.shape[:1]:
            raise ValueError(
                "`token_ids` must be (N, T) and `valid_lens` (N,). "
                f"Received: token_ids.shape={token_ids.shape}, "
                f"valid_lens.shape={valid_lens.shape}"
            )
        parts = {"probabilities": [], "self_attention": [], "pooling": []}
        for start in range(0, len(token_ids), batch_size):
            batch = {"token_ids": token_ids[start:start + batch_size],
                     "valid_lens": valid_lens[start:start + batch_size]}
            parts["probabilities"].append(self(batch, training=False).numpy())
            parts["self_attention"].append(self.self_attention.attention_weights.numpy())
            parts["pooling"].append(self.pooling.attention_weights.numpy())
        return {name: np.concatenate(arrays) for name, arrays in parts.items()}

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_len": self.max_len, "d_model": self.d_model, "num_heads": self.num_heads,
                "pooling_units": self.pooling_units, "hidden_units": self.hidden_units,
                "dropout": self.dropout}


__all__ = ["AttentionPooling", "SelfAttentionClassifier"]
