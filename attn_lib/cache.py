"""A key-value cache for generating one token (or one chunk) at a time.

A decoder that generates token ``T + 1`` needs the keys and values of positions
``0 ... T`` in every layer. They do not change once computed (each position only
sees the positions before it), so recomputing them at every step repeats work that
grows with ``T``. The cache keeps them, per layer, as ``(B, h_kv, T, d_head)``:

======  ==============================================================
``B``   batch size (fixed by the first append, until :meth:`KVCache.reset`)
``h_kv`` number of key-value heads (a separate argument: grouped-query
        attention keeps fewer key-value heads than query heads)
``T``   positions stored, :attr:`KVCache.length`
``d``   ``d_head``, the size of one head's keys and values
======  ==============================================================

The cache only stores; the attention layer that reads it decides the mask
(:class:`attn_lib.MultiHeadAttention` with ``cache=``).
"""

import tensorflow as tf

from attn_lib import _validate


class KVCache:
    """Keys and values of every position generated so far, one pair of tensors per layer.

    Args:
        num_layers: int, the number of attention layers that store into the cache.
        num_kv_heads: int, ``h_kv``, the number of key-value heads per layer.
        head_dim: int, ``d_head``, the size of one head's keys and of its values.
        dtype: the dtype of the stored tensors (default ``"float32"``).

    Attributes:
        length: int, the positions stored (the same in every layer between two forward
            passes); the position of the next token.
        nbytes: int, the bytes of the stored tensors, measured from their shapes and
            dtype: ``2 * num_layers * B * length * h_kv * d_head * bytes_per_element``.

    Raises:
        TypeError, ValueError: sizes that are not positive integers, a dtype that is not
            floating point.

    Example:
        >>> import numpy as np
        >>> cache = KVCache(num_layers=2, num_kv_heads=4, head_dim=8)
        >>> chunk = np.zeros((1, 4, 3, 8), "float32")  # (B, h_kv, t, d_head): 3 positions
        >>> keys, values = cache.append(0, chunk, chunk)
        >>> _ = cache.append(1, chunk, chunk)
        >>> keys.shape, cache.length, cache.nbytes  # 2 * 2 layers * 1 * 3 * 4 * 8 * 4 bytes
        (TensorShape([1, 4, 3, 8]), 3, 1536)
        >>> cache.reset(); cache.length, cache.nbytes
        (0, 0)
    """

    def __init__(self, num_layers, num_kv_heads, head_dim, dtype="float32"):
        self.num_layers = _validate.check_positive_int("num_layers", num_layers)
        self.num_kv_heads = _validate.check_positive_int("num_kv_heads", num_kv_heads)
        self.head_dim = _validate.check_positive_int("head_dim", head_dim)
        self.dtype = tf.as_dtype(dtype)
        if not self.dtype.is_floating:
            raise TypeError(f"`dtype` must be a floating-point dtype. Received: dtype={dtype!r}")
        self.reset()

    def reset(self):
        """Forget every stored position: call it before a new prompt."""
        self._keys = [None] * self.num_layers  # per layer: (B, h_kv, T, d_head) or None
        self._values = [None] * self.num_layers

    def keys(self, layer):
        """The stored keys of `layer`, ``(B, h_kv, T, d_head)``, or None when it is empty."""
        return self._keys[self._check_layer(layer)]

    def values(self, layer):
        """The stored values of `layer`, ``(B, h_kv, T, d_head)``, or None when it is empty."""
        return self._values[self._check_layer(layer)]

    def stored(self, layer):
        """The number of positions `layer` holds."""
        keys = self._keys[self._check_layer(layer)]
        return 0 if keys is None else int(keys.shape[2])

    @property
    def length(self):
        lengths = {self.stored(layer) for layer in range(self.num_layers)}
        if len(lengths) > 1:
            raise RuntimeError("The layers of the cache hold different numbers of positions "
                               "(a forward pass stopped half-way?); call `reset()`. "
                               f"Received: {[self.stored(i) for i in range(self.num_layers)]}")
        return lengths.pop()

    @property
    def batch_size(self):
        """``B`` of the stored tensors, or None while the cache is empty."""
        stored = next((k for k in self._keys if k is not None), None)
        return None if stored is None else int(stored.shape[0])

    @property
    def nbytes(self):
        return sum(int(tf.size(t)) * t.dtype.size
                   for t in self._keys + self._values if t is not None)

    def append(self, layer, keys, values):
        """Store the keys and values of `t` new positions of `layer`; return all of them.

        Args:
            layer: int in ``[0, num_layers)``.
            keys: ``(B, h_kv, t, d_head)``, the new positions' keys.
            values: ``(B, h_kv, t, d_head)``, their values.

        Returns:
            ``(keys, values)``, each ``(B, h_kv, T + t, d_head)``: the stored positions
            followed by the new ones.

        Raises:
            ValueError: `layer` out of range; `keys` or `values` of another shape than
                ``(B, num_kv_heads, t, head_dim)``, or another ``B`` than the stored one.
            TypeError: `keys` or `values` of another dtype than the cache's.
        """
        layer = self._check_layer(layer)
        keys, values = self._check_chunk(keys, values)
        if self._keys[layer] is not None:
            keys = tf.concat([self._keys[layer], keys], axis=2)  # (B, h_kv, T + t, d)
            values = tf.concat([self._values[layer], values], axis=2)
        self._keys[layer], self._values[layer] = keys, values
        return keys, values

    def _check_layer(self, layer):
        layer = _validate.check_positive_int("layer", layer, allow_zero=True)
        if layer >= self.num_layers:
            raise ValueError(f"`layer` must be in [0, num_layers={self.num_layers}). "
                             f"Received: layer={layer}")
        return layer

    def _check_chunk(self, keys, values):
        keys, values = tf.convert_to_tensor(keys), tf.convert_to_tensor(values)
        for name, x in (("keys", keys), ("values", values)):
            if x.dtype != self.dtype:
                raise TypeError(f"`{name}` must have the cache's dtype {self.dtype.name}. "
                                f"Received: {name}.dtype={x.dtype.name}")
        batch = self.batch_size
        expected = (batch or keys.shape[0], self.num_kv_heads, keys.shape[2], self.head_dim)
        if keys.shape.rank != 4 or tuple(keys.shape) != expected or values.shape != keys.shape:
            raise ValueError(
                "`keys` and `values` must both have shape (B, num_kv_heads="
                f"{self.num_kv_heads}, t, head_dim={self.head_dim})"
                + (f" with the stored B={batch}" if batch is not None else "")
                + f". Received: keys.shape={tuple(keys.shape)}, "
                f"values.shape={tuple(values.shape)}")
        return keys, values

    def __repr__(self):
        stored = [self.stored(layer) for layer in range(self.num_layers)]
        length = stored[0] if len(set(stored)) == 1 else stored  # never raises
        return (f"KVCache(num_layers={self.num_layers}, num_kv_heads={self.num_kv_heads}, "
                f"head_dim={self.head_dim}, dtype={self.dtype.name!r}, length={length})")


__all__ = ["KVCache"]
