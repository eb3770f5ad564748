"""A small decoder-only Transformer that generates with or without a key-value cache.

Tokens are embedded, the sinusoidal encodings of their positions added
(:class:`attn_lib.PositionalEncoding`'s table), then each block does
``x + MHA(LN(x))`` (causal self-attention) and ``x + MLP(LN(x))``, and a last layer
norm and a linear head give the logits of the next token. Shapes: ``B`` batch, ``T``
positions, ``d`` = `d_model`, ``V`` = `vocab_size`, ``h`` heads of size ``d / h``.

One forward pass, :meth:`Decoder.forward`, serves training (the whole sequence, no
cache) and generation (a chunk of new tokens after ``cache.length`` stored ones); its
three steps, :meth:`Decoder.embed`, the blocks and :meth:`Decoder.to_logits`, are
public so that a chapter can write the generation loop itself.
"""

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.cache import KVCache
from attn_lib.masking import _causal_mask, size
from attn_lib.multihead import GroupedQueryAttention, MultiHeadAttention
from attn_lib.positions import NoPositionalEncoding, PositionalEncoding, PositionEmbedding

#: Where a Decoder's positions come from: added to the embeddings (the first two), inside
#: attention (rotated queries and keys; biased scores), or nowhere but the causal mask.
POSITION_ENCODINGS = ("sinusoidal", "learned", "rope", "alibi", "none")

_register = keras.saving.register_keras_serializable(package="attn_lib")


@_register
class DecoderBlock(keras.layers.Layer):
    """Pre-norm Transformer block: ``x + MHA(LN(x))``, then ``x + MLP(LN(x))``.

    Args:
        d_model: int, ``d``, the size of every position's vector.
        num_heads: int dividing `d_model`.
        mlp_units: int, the hidden size of the MLP.
        num_key_value_heads: None (one per head: multi-head attention) or int dividing
            `num_heads`: grouped-query attention.
        sliding_window: None or int, the positions each query sees (itself included).
        position_encoding: None, ``"rope"`` or ``"alibi"``: the attention's (default None).

    Call arguments:
        x: ``(B, t, d)``.
        attention_mask: optional boolean ``(B or 1, t, T_all)``, True = attend, with
            ``T_all`` = ``t`` plus the positions the cache holds.
        cache: optional :class:`attn_lib.KVCache`; `cache_index` names this block's layer.

    Returns:
        ``(B, t, d)``.

    Example:
        >>> block = DecoderBlock(d_model=8, num_heads=2, mlp_units=16)
        >>> block(np.zeros((1, 3, 8), "float32")).shape
        TensorShape([1, 3, 8])
    """

    def __init__(self, d_model, num_heads, mlp_units, num_key_value_heads=None,
                 sliding_window=None, position_encoding=None, **kwargs):
        super().__init__(**kwargs)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        self.mlp_units = _validate.check_positive_int("mlp_units", mlp_units)
        if d_model % num_heads:
            raise ValueError("`d_model` must be divisible by `num_heads`. "
                             f"Received: d_model={d_model}, num_heads={num_heads}")
        self.norm_1 = keras.layers.LayerNormalization(epsilon=1e-5)
        self.num_key_value_heads, self.sliding_window = num_key_value_heads, sliding_window
        if num_key_value_heads is None and sliding_window is None:  # chapter 10's blocks
            self.attention = MultiHeadAttention(num_heads, key_dim=d_model // num_heads,
                                                position_encoding=position_encoding)
        else:
            self.attention = GroupedQueryAttention(
                num_heads, num_key_value_heads or num_heads, key_dim=d_model // num_heads,
                sliding_window=sliding_window, position_encoding=position_encoding)
        self.norm_2 = keras.layers.LayerNormalization(epsilon=1e-5)
        self.mlp_in = keras.layers.Dense(mlp_units, activation="relu")
        self.mlp_out = keras.layers.Dense(d_model)

    def build(self, x_shape):  # explicit: Keras must not build it by running `call`
        self.norm_1.build(x_shape)
        self.attention.build(x_shape, x_shape, x_shape)
        self.norm_2.build(x_shape)
        self.mlp_in.build(x_shape)
        self.mlp_out.build((*x_shape[:-1], self.mlp_units))

    def call(self, x, attention_mask=None, cache=None, cache_index=0):
        y = self.norm_1(x)
        x = x + self.attention(y, y, y, mask=attention_mask, cache=cache,
                               cache_index=cache_index)
        return x + self.mlp_out(self.mlp_in(self.norm_2(x)))  # (B, t, d)

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model,
                "num_heads": self.num_heads, "mlp_units": self.mlp_units,
                "num_key_value_heads": self.num_key_value_heads,
                "sliding_window": self.sliding_window,
                "position_encoding": self.attention.position_encoding}


@_register
class Decoder(keras.Model):
    """A decoder-only Transformer: embedding + positions, causal blocks, linear head.

    Args:
        vocab_size: int, ``V``.
        max_len: int, the most positions a sequence (prompt and generated) may have.
        d_model: int, ``d`` (default 32).
        num_heads: int dividing `d_model` (default 2).
        num_layers: int, the number of blocks (default 2).
        mlp_units: int, the MLP's hidden size (default ``4 * d_model``).
        num_key_value_heads: None (multi-head attention) or int dividing `num_heads`
            (grouped-query attention; 1 is multi-query attention).
        sliding_window: None or int, the positions each query sees (itself included);
            the cache then keeps only that many.
        position_encoding: one of :data:`POSITION_ENCODINGS` (default ``"sinusoidal"``).

    Call arguments:
        token_ids: integers ``(B, T)``, ``T <= max_len``.

    Returns:
        The logits of the next token at every position, ``(B, T, V)``.

    Raises:
        ValueError, TypeError: sizes that are not positive integers; in
            :meth:`forward`: a sequence longer than `max_len`, a cache of another shape.

    Example:
        >>> model = Decoder(vocab_size=10, max_len=16, d_model=8)
        >>> model(np.zeros((2, 5), "int32")).shape
        TensorShape([2, 5, 10])
        >>> cache = model.new_cache()
        >>> model.forward(np.zeros((2, 5), "int32"), cache).shape, cache.length
        (TensorShape([2, 5, 10]), 5)
    """

    def __init__(self, vocab_size, max_len, d_model=32, num_heads=2, num_layers=2,
                 mlp_units=None, num_key_value_heads=None, sliding_window=None,
                 position_encoding="sinusoidal", **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.max_len = _validate.check_positive_int("max_len", max_len)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        self.num_layers = _validate.check_positive_int("num_layers", num_layers)
        self.mlp_units = 4 * d_model if mlp_units is None else _validate.check_positive_int(
            "mlp_units", mlp_units)
        if position_encoding not in POSITION_ENCODINGS:
            raise ValueError(f"`position_encoding` must be one of {POSITION_ENCODINGS}. "
                             f"Received: position_encoding={position_encoding!r}")
        self.position_encoding = position_encoding
        self.embedding = keras.layers.Embedding(vocab_size, d_model)
        self.positions = {"sinusoidal": lambda: PositionalEncoding(max_len, d_model),
                          "learned": lambda: PositionEmbedding(max_len, d_model)}.get(
            position_encoding, NoPositionalEncoding)()
        inside = position_encoding if position_encoding in ("rope", "alibi") else None
        self.num_key_value_heads, self.sliding_window = num_key_value_heads, sliding_window
        self.blocks = [DecoderBlock(d_model, num_heads, self.mlp_units, num_key_value_heads,
                                    sliding_window, inside, name=f"block_{i}")
                       for i in range(num_layers)]
        self.norm = keras.layers.LayerNormalization(epsilon=1e-5)
        self.head = keras.layers.Dense(vocab_size)

    def new_cache(self):
        """An empty :class:`attn_lib.KVCache` that fits this model."""
        return KVCache(self.num_layers, self.num_key_value_heads or self.num_heads,
                       self.d_model // self.num_heads, window=self.sliding_window)

    def embed(self, token_ids, start=0):
        """Token embeddings plus the encodings of positions ``start ... start + t - 1``.

        ``(B, t)`` -> ``(B, t, d)``; `start` is where the chunk begins in the sequence.
        """
        x = self.embedding(token_ids)  # (B, t, d)
        if self.position_encoding == "sinusoidal":
            t = size(token_ids, 1)
            return x + tf.constant(self.positions.encoding)[start:start + t]  # (t, d)
        if self.position_encoding == "learned":
            return self.positions(x, start=start)
        return x  # RoPE and ALiBi act inside attention; "none" has only the causal mask

    def to_logits(self, x):
        """``(B, t, d)`` -> the next token's logits ``(B, t, V)``."""
        return self.head(self.norm(x))

    def forward(self, token_ids, cache=None):
        """Logits ``(B, t, V)`` of a chunk ``(B, t)``; with a `cache`, the chunk follows
        its ``cache.length`` stored positions, and their keys and values join the cache."""
        _validate.check_token_ids("token_ids", token_ids)
        start = 0 if cache is None else cache.length  # the chunk's position
        kept = 0 if cache is None else cache.stored(0)  # the keys before it in the mask
        t = size(token_ids, 1)
        if isinstance(t, int) and start + t > self.max_len:
            raise ValueError(f"The sequence is longer than max_len={self.max_len}. Received: "
                             f"{start} cached + {t} new positions")
        x = self.embed(token_ids, start)  # 1) (B, t, d)
        mask = tf.expand_dims(_causal_mask(t, kept + t, kept), 0)  # (1, t, kept + t)
        for i, block in enumerate(self.blocks):  # 2) causal self-attention and MLP
            x = block(x, attention_mask=mask, cache=cache, cache_index=i)
        return self.to_logits(x)  # 3) (B, t, V)

    def build(self, token_ids_shape=None):
        self.forward(tf.zeros((1, 1), "int32"))  # one position builds every weight
        self.built = True

    def call(self, token_ids):
        return self.forward(token_ids)

    def generate(self, prompt_ids, steps, use_cache=True):
        """Greedy continuation of `prompt_ids` ``(B, T0)`` by `steps` tokens.

        Without a cache every step runs the whole sequence so far; with one, the
        prompt fills a new cache (the prefill) and every step runs one token.

        Returns:
            ``(tokens, logits)``: the generated tokens ``(B, steps)`` int32 and the
            logits each was chosen from, ``(B, steps, V)``, as NumPy arrays.
        """
        steps = _validate.check_positive_int("steps", steps)
        tokens = np.asarray(prompt_ids, dtype=np.int32)
        if tokens.ndim != 2 or tokens.shape[1] < 1:
            raise ValueError("`prompt_ids` must have shape (B, T0) with T0 >= 1. "
                             f"Received: prompt_ids.shape={tokens.shape}")
        cache = self.new_cache() if use_cache else None
        chunk, generated, all_logits = tokens, [], []
        for _ in range(steps):
            logits = self.forward(chunk if use_cache else tokens, cache)[:, -1]  # (B, V)
            next_token = np.argmax(logits, axis=-1).astype(np.int32)[:, None]  # (B, 1)
            tokens = np.concatenate([tokens, next_token], axis=1)
            chunk = next_token
            generated.append(next_token)
            all_logits.append(logits.numpy())
        return np.concatenate(generated, axis=1), np.stack(all_logits, axis=1)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_len": self.max_len, "d_model": self.d_model,
                "num_heads": self.num_heads, "num_layers": self.num_layers,
                "mlp_units": self.mlp_units, "num_key_value_heads": self.num_key_value_heads,
                "sliding_window": self.sliding_window,
                "position_encoding": self.position_encoding}


__all__ = ["POSITION_ENCODINGS", "Decoder", "DecoderBlock"]
