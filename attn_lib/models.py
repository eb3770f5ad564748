"""Encoder–decoder models: a GRU encoder and a GRU decoder, with or without attention.

The two decoders differ in one line, the *context vector* ``c_t`` fed to the
decoder at output step ``t`` (Cho et al., 2014; Bahdanau et al., 2015):

- without attention, ``c_t = h_last`` for every ``t``: the encoder's final state
  must carry the whole source sentence;
- with attention, ``c_t = Σ_j α_tj h_j`` with
  ``α_t = masked_softmax(w_vᵀ tanh(W_q s_{t-1} + W_k h_j))`` over the source
  positions ``j < src_len``: the previous decoder state ``s_{t-1}`` is the query,
  the encoder outputs ``h_j`` are keys and values (:class:`attn_lib.AdditiveAttention`).

One decoder step, for both::

    c_t = context(s_{t-1}, h)                     # (B, h)
    s_t = GRUCell([embed(y_{t-1}); c_t], s_{t-1})  # (B, h)
    logits_t = Dense([s_t; c_t])                   # (B, V)

Training uses teacher forcing (the decoder reads the reference ``y_{t-1}``);
:func:`greedy_decode` feeds back its own predictions. Shapes: ``B`` batch,
``Ts`` source positions, ``Tt`` target positions, ``h`` hidden size, ``V`` target
vocabulary.
"""

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.layers import AdditiveAttention

_register = keras.saving.register_keras_serializable(package="attn_lib")


def _check_tokens(name, tokens, rank=2):
    shape = _validate.check_rank(name, tokens, rank)
    if not _validate.dtype_of(tokens).is_integer:
        raise TypeError(f"`{name}` must hold integer token ids. "
                        f"Received: {name}.dtype={_validate.dtype_of(tokens).name}")
    return shape


@_register
class GRUEncoder(keras.layers.Layer):
    """Embedding followed by a GRU that skips the padding.

    Args:
        vocab_size: int, number of source tokens.
        embed_dim: int, size of the token embeddings.
        num_hiddens: int, size ``h`` of the GRU state.

    Call arguments:
        src: ``(B, Ts)`` int token ids. src_len: ``(B,)`` int valid lengths.

    Returns:
        ``(outputs, state)``: ``(B, Ts, h)`` one vector per source position (the keys
        and values of attention) and ``(B, h)`` the state after the last valid token.

    Example:
        >>> outputs, state = GRUEncoder(12, 4, 8)(np.array([[5, 6, 2, 0]]), np.array([3]))
        >>> tuple(outputs.shape), tuple(state.shape)
        ((1, 4, 8), (1, 8))
    """

    def __init__(self, vocab_size, embed_dim, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.num_hiddens = _validate.check_positive_int("num_hiddens", num_hiddens)
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim)
        self.rnn = keras.layers.GRU(num_hiddens, return_sequences=True, return_state=True)

    def build(self, src_shape, src_len_shape=None):
        self.embedding.build(src_shape)
        self.rnn.build(tuple(src_shape) + (self.embed_dim,))

    def call(self, src, src_len):
        src_len = tf.cast(src_len, tf.int32)
        mask = tf.range(tf.shape(src)[1]) < src_len[:, tf.newaxis]  # (B, Ts), True = a word
        outputs, state = self.rnn(self.embedding(src), mask=mask)  # (B, Ts, h), (B, h)
        return outputs, state

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "num_hiddens": self.num_hiddens}


class DecoderStep(NamedTuple):
    """What one decoder step computes (``B`` rows)."""

    logits: tf.Tensor  #: ``(B, V)`` scores of the next token
    state: tf.Tensor  #: ``(B, h)`` the new decoder state ``s_t``
    context: tf.Tensor  #: ``(B, h)`` the context vector ``c_t``
    attention_weights: tf.Tensor  #: ``(B, Ts)``; all zeros without attention


@_register
class GRUDecoder(keras.layers.Layer):
    """GRU decoder whose context is attention over the encoder outputs, or the last state.

    Args:
        vocab_size: int, number of target tokens ``V``.
        embed_dim: int, size of the token embeddings.
        num_hiddens: int, size ``h`` of the GRU state (and of the attention's hidden layer).
        attention: bool; ``True`` for Bahdanau attention, ``False`` for the fixed
            context ``c_t = h_last``.

    Call arguments:
        tgt_in: ``(B, Tt)`` int decoder inputs (``<bos>`` then the reference words).
        enc_outputs: ``(B, Ts, h)``. enc_state: ``(B, h)``. src_len: ``(B,)`` int.

    Returns:
        ``(B, Tt, V)`` logits. The attention weights of the last call, ``(B, Tt, Ts)``,
        are in ``attention_weights`` and the context vectors, ``(B, Tt, h)``, in
        ``contexts``.
    """

    def __init__(self, vocab_size, embed_dim, num_hiddens, attention=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.num_hiddens = _validate.check_positive_int("num_hiddens", num_hiddens)
        if not isinstance(attention, (bool, np.bool_)):
            raise TypeError(f"`attention` must be True or False. Received: attention={attention!r}")
        self.attention = bool(attention)
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim)
        self.cell = keras.layers.GRUCell(num_hiddens)
        self.dense = keras.layers.Dense(vocab_size)
        self.additive = AdditiveAttention(num_hiddens) if self.attention else None
        self.attention_weights = None
        self.contexts = None

    def step(self, token, state, enc_outputs, enc_state, src_len):
        """One output step: ``token`` ``(B,)`` is ``y_{t-1}``, ``state`` ``(B, h)`` is ``s_{t-1}``.

        Returns:
            A :class:`DecoderStep`.
        """
        if self.attention:
            # 1) the previous state asks; encoder outputs are keys and values
            query = state[:, tf.newaxis, :]  # (B, 1, h)
            context = self.additive(query, enc_outputs, enc_outputs, valid_lens=src_len)
            context = context[:, 0, :]  # (B, h)
            weights = self.additive.attention_weights[:, 0, :]  # (B, Ts)
        else:
            # 1) no question asked: the same summary at every step
            context = enc_state  # (B, h)
            weights = tf.zeros_like(enc_outputs[:, :, 0])  # (B, Ts)
        # 2) update the state from the previous word and the context
        inputs = tf.concat([self.embedding(token), context], axis=-1)  # (B, e + h)
        output, new_states = self.cell(inputs, [state])
        # 3) score the next word from the new state and the context
        logits = self.dense(tf.concat([output, context], axis=-1))  # (B, V)
        return DecoderStep(logits, new_states[0], context, weights)

    def build(self, tgt_in_shape, enc_outputs_shape, enc_state_shape=None, src_len_shape=None):
        # Build every sub-layer now: the loop in `call` must not create variables.
        h = self.num_hiddens
        shapes = [(self.embedding, (None,)), (self.cell, (None, self.embed_dim + h)),
                  (self.dense, (None, 2 * h))]
        for layer, shape in shapes:
            if not layer.built:  # `step` may have built it already
                layer.build(shape)
        if self.attention and not self.additive.built:
            self.additive.build((None, 1, h), tuple(enc_outputs_shape))

    def call(self, tgt_in, enc_outputs, enc_state, src_len):
        num_steps = tf.shape(tgt_in)[1]
        arrays = [tf.TensorArray(enc_state.dtype, size=num_steps) for _ in range(3)]

        def one_step(t, state, logits, weights, contexts):
            # teacher forcing: the reference word y_{t-1} is fed back, not the prediction
            out = self.step(tgt_in[:, t], state, enc_outputs, enc_state, src_len)
            return (t + 1, out.state, logits.write(t, out.logits),
                    weights.write(t, out.attention_weights), contexts.write(t, out.context))

        _, _, logits, weights, contexts = tf.while_loop(
            lambda t, *_: t < num_steps, one_step, (tf.constant(0), enc_state, *arrays))
        # TensorArrays stack time first: (Tt, B, ...) -> (B, Tt, ...)
        self.attention_weights = tf.transpose(weights.stack(), (1, 0, 2))  # (B, Tt, Ts)
        self.contexts = tf.transpose(contexts.stack(), (1, 0, 2))  # (B, Tt, h)
        return tf.transpose(logits.stack(), (1, 0, 2))  # (B, Tt, V)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "num_hiddens": self.num_hiddens,
                "attention": self.attention}


@_register
class EncoderDecoder(keras.Model):
    """A GRU encoder–decoder for translation, with or without additive attention.

    Args:
        src_vocab_size, tgt_vocab_size: ints, sizes of the two vocabularies.
        embed_dim: int, size of the token embeddings (both sides).
        num_hiddens: int, size ``h`` of the GRU states.
        attention: bool, Bahdanau attention (``True``) or the fixed context (``False``).

    Call arguments:
        inputs: a tuple ``(src, src_len, tgt_in)`` of int arrays ``(B, Ts)``, ``(B,)``,
            ``(B, Tt)``.

    Returns:
        ``(B, Tt, V)`` logits of every target position, under teacher forcing. After
        a call, ``model.decoder.attention_weights`` holds ``(B, Tt, Ts)`` and
        ``model.decoder.contexts`` ``(B, Tt, h)``.

    Raises:
        ValueError, TypeError: bad sizes, or inputs of the wrong rank or dtype.

    Example:
        >>> model = EncoderDecoder(12, 10, embed_dim=4, num_hiddens=8)
        >>> src = np.array([[5, 6, 2, 0]]); tgt_in = np.array([[1, 7, 8]])
        >>> model((src, np.array([3]), tgt_in)).shape
        TensorShape([1, 3, 10])
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim=32, num_hiddens=32,
                 attention=True, **kwargs):
        super().__init__(**kwargs)
        self.src_vocab_size = _validate.check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = _validate.check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.num_hiddens = _validate.check_positive_int("num_hiddens", num_hiddens)
        self.encoder = GRUEncoder(src_vocab_size, embed_dim, num_hiddens, name="encoder")
        self.decoder = GRUDecoder(tgt_vocab_size, embed_dim, num_hiddens, attention,
                                  name="decoder")
        self.attention = self.decoder.attention

    def build(self, input_shape):
        src_shape, src_len_shape, tgt_shape = _unpack(input_shape, shapes=True)
        if not self.encoder.built:
            self.encoder.build(src_shape, src_len_shape)
        self.decoder.build(tgt_shape, tuple(src_shape) + (self.num_hiddens,))

    def call(self, inputs):
        src, src_len, tgt_in = _unpack(inputs)
        enc_outputs, enc_state = self.encoder(src, src_len)
        return self.decoder(tgt_in, enc_outputs, enc_state, src_len)

    def get_config(self):
        return {**super().get_config(), "src_vocab_size": self.src_vocab_size,
                "tgt_vocab_size": self.tgt_vocab_size, "embed_dim": self.embed_dim,
                "num_hiddens": self.num_hiddens, "attention": self.attention}


def _unpack(inputs, shapes=False):
    """Check the ``(src, src_len, tgt_in)`` triple (or, with `shapes`, its three shapes)."""
    triple = isinstance(inputs, (tuple, list)) and len(inputs) == 3
    if shapes and triple:
        triple = all(isinstance(s, (tuple, list)) for s in inputs)
    if not triple:
        received = (f"an input of shape {tuple(inputs)}" if shapes
                    else f"{type(inputs).__name__} of shape {_validate.shape_of(inputs)}")
        raise ValueError("`inputs` must be a tuple of three arrays (src, src_len, tgt_in). "
                         f"Received: {received}")
    if shapes:
        return inputs
    src, src_len, tgt_in = inputs
    src_shape = _check_tokens("src", src)
    tgt_shape = _check_tokens("tgt_in", tgt_in)
    _check_tokens("src_len", src_len, rank=1)
    _validate.check_same("`src`, `src_len` and `tgt_in` must have the same batch size",
                         ("src.shape", "src_len.shape", "tgt_in.shape"),
                         (src_shape[0], _validate.shape_of(src_len)[0], tgt_shape[0]))
    return src, src_len, tgt_in


class Decoding(NamedTuple):
    """The result of :func:`greedy_decode` (``N`` sentences, ``T`` steps).

    Attributes:
        tokens: ``(N, T)`` int predicted ids; ``<eos>`` ends a sentence, ``<pad>`` after it.
        lengths: ``(N,)`` int steps until and including ``<eos>`` (``T`` if none came).
        attention_weights: ``(N, T, Ts)`` the weights of each step (zeros without
            attention, and after ``<eos>``).
        contexts: ``(N, T, h)`` the context vector of each step.
    """

    tokens: np.ndarray
    lengths: np.ndarray
    attention_weights: np.ndarray
    contexts: np.ndarray


def greedy_decode(model, src, src_len, max_steps, bos=1, eos=2, pad=0):
    """Translate by feeding back the most likely word, one step at a time.

    Args:
        model: an :class:`EncoderDecoder`.
        src: ``(N, Ts)`` int source ids. src_len: ``(N,)`` int valid lengths.
        max_steps: int, the most output steps (stop earlier when every sentence
            has produced `eos`).
        bos, eos, pad: ids of the special target tokens.

    Returns:
        A :class:`Decoding` of NumPy arrays.

    Raises:
        TypeError: `model` is not an EncoderDecoder; non-integer ids.
        ValueError: bad shapes or `max_steps`.

    Example:
        >>> model = EncoderDecoder(12, 10, embed_dim=4, num_hiddens=8)
        >>> result = greedy_decode(model, np.array([[5, 6, 2]]), np.array([3]), max_steps=4)
        >>> result.attention_weights.shape[2], result.contexts.shape[2]
        (3, 8)
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"`model` must be an EncoderDecoder. Received: {type(model).__name__}")
    max_steps = _validate.check_positive_int("max_steps", max_steps)
    src = np.asarray(src)
    src_len = np.asarray(src_len)
    _check_tokens("src", src)
    _check_tokens("src_len", src_len, rank=1)
    if src.shape[0] != src_len.shape[0]:
        raise ValueError("`src` and `src_len` must have the same batch size. "
                         f"Received: src.shape={src.shape}, src_len.shape={src_len.shape}")
    if not model.built:  # build every layer the regular way before stepping by hand
        model((src[:1], src_len[:1], np.full((1, 1), bos, src.dtype)))
    enc_outputs, enc_state = model.encoder(src, src_len)
    token = tf.fill((src.shape[0],), tf.constant(bos, src.dtype))
    state, done = enc_state, np.zeros(src.shape[0], bool)
    tokens, weights, contexts = [], [], []
    for _ in range(max_steps):
        out = model.decoder.step(token, state, enc_outputs, enc_state, src_len)
        state = out.state
        predicted = np.argmax(out.logits.numpy(), axis=-1).astype(src.dtype)
        alive = ~done[:, None]
        tokens.append(np.where(done, pad, predicted))
        weights.append(out.attention_weights.numpy() * alive)
        contexts.append(out.context.numpy() * alive)
        done |= predicted == eos
        token = tf.constant(predicted)
        if done.all():
            break
    tokens = np.stack(tokens, axis=1)
    ended = tokens == eos
    lengths = np.where(ended.any(axis=1), ended.argmax(axis=1) + 1, tokens.shape[1])
    return Decoding(tokens, lengths, np.stack(weights, axis=1), np.stack(contexts, axis=1))


__all__ = ["DecoderStep", "Decoding", "EncoderDecoder", "GRUDecoder", "GRUEncoder",
           "greedy_decode"]
