"""A small self-attention text classifier whose attention can be looked at.

The model of Chapter 8, read top to bottom::

    token_ids (B, T) ─ Embedding ─ + PositionalEncoding ─┐         X (B, T, d)
                                                          ├─ + ─ H  (B, T, d)
                                 SelfAttention(valid_lens)┘  (residual)
    H ─ AttentionPooling(valid_lens) ─ (B, d) ─ Dense(relu) ─ Dense(sigmoid) ─ (B,)

Two attentions, two kinds of weights: the self-attention weights ``(B, T, T)``
(``(B, h, T, T)`` with ``h`` heads) say which words each word mixes into its own
vector; the pooling weights ``(B, T)`` say how much of each (already mixed) word
vector goes into the review's single vector. Both ignore positions at or beyond
``valid_lens``.

The pooling is the structured self-attention of Lin et al. (2017) with one
"hop": ``a = softmax(w₂ᵀ tanh(W₁ Hₜ + b₁))``, pooled ``Σₜ aₜ Hₜ``.
"""

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.layers import AttentionPooling
from attn_lib.multihead import SelfAttention
from attn_lib.positions import PositionalEncoding

_register = keras.saving.register_keras_serializable(package="attn_lib")


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
        ``(B,)`` probabilities that each review is positive; :meth:`forward` also
        returns both attention weights, :meth:`attention_maps` all three as NumPy.

    Raises:
        ValueError, TypeError: a bad size, or `inputs` that is not the dict above.

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
        x_shape = ids_shape + (self.d_model,)
        shapes = [(self.embedding, ids_shape), (self.positional_encoding, x_shape),
                  (self.self_attention, x_shape), (self.pooling, x_shape),
                  (self.hidden, (ids_shape[0], self.d_model)),
                  (self.classify, (ids_shape[0], self.hidden_units))]
        for layer, shape in shapes:
            if not layer.built:  # a call of `forward` may have built it already
                layer.build(shape)

    def call(self, inputs, training=None):
        return self.forward(inputs, training)[0]

    def forward(self, inputs, training=None):
        """The forward pass, returning both attention weights with the probabilities.

        Args:
            inputs: dict with ``"token_ids"`` ``(B, T)`` and ``"valid_lens"`` ``(B,)``.
            training: whether dropout is active.

        Returns:
            ``(probabilities, self_weights, pool_weights)``: ``(B,)``, ``(B, T, T)``
            (``(B, h, T, T)`` with several heads) and ``(B, T)``.
        """
        token_ids, valid_lens = self._unpack(inputs)
        valid_lens = tf.cast(valid_lens, "int32")
        # 1) word vectors plus positions: (B, T, d)
        x = self.positional_encoding(self.embedding(token_ids))
        # 2) every word mixes in the words it attends to (padding masked): (B, T, d)
        mixed, self_weights = self.self_attention(x, valid_lens=valid_lens, training=training,
                                                  return_attention_scores=True)
        vectors = x + mixed  # the residual connection: H = X + SelfAttention(X)
        # 3) one vector per review, a weighted mean over its real words: (B, d)
        pooled, pool_weights = self.pooling(vectors, valid_lens=valid_lens,
                                            return_attention_scores=True)
        # 4) classify: (B,)
        return self.classify(self.hidden(pooled))[:, 0], self_weights, pool_weights

    def attention_maps(self, token_ids, valid_lens, batch_size=256):
        """Probabilities and both attention weights for a batch of reviews, as NumPy.

        Args:
            token_ids: ``(N, T)`` integers.
            valid_lens: ``(N,)`` integers, the number of real words of each review.
            batch_size: int, reviews per forward pass.

        Returns:
            dict with ``"probabilities"`` ``(N,)``, ``"self_attention"`` ``(N, T, T)``
            (``(N, h, T, T)`` with several heads) and ``"pooling"`` ``(N, T)``;
            weights at or beyond ``valid_lens`` are 0.

        Raises:
            ValueError: `token_ids` not ``(N, T)`` or `valid_lens` not ``(N,)``.
            TypeError, ValueError: a `batch_size` that is not a positive integer.
        """
        batch_size = _validate.check_positive_int("batch_size", batch_size)
        token_ids, valid_lens = np.asarray(token_ids), np.asarray(valid_lens)
        if token_ids.ndim != 2 or valid_lens.shape != token_ids.shape[:1]:
            raise ValueError(
                "`token_ids` must be (N, T) and `valid_lens` (N,). "
                f"Received: token_ids.shape={token_ids.shape}, "
                f"valid_lens.shape={valid_lens.shape}"
            )
        if not self.built:  # `forward` bypasses Keras' __call__, which would build the model
            self.build({"token_ids": token_ids.shape, "valid_lens": valid_lens.shape})
        parts = {"probabilities": [], "self_attention": [], "pooling": []}
        for start in range(0, len(token_ids), batch_size):
            batch = {"token_ids": token_ids[start:start + batch_size],
                     "valid_lens": valid_lens[start:start + batch_size]}
            outputs = self.forward(batch, training=False)
            for name, array in zip(parts, outputs):
                parts[name].append(array.numpy())
        return {name: np.concatenate(arrays) for name, arrays in parts.items()}

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_len": self.max_len, "d_model": self.d_model, "num_heads": self.num_heads,
                "pooling_units": self.pooling_units, "hidden_units": self.hidden_units,
                "dropout": self.dropout}


__all__ = ["SelfAttentionClassifier"]
