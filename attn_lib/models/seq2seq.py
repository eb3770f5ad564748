"""Encoder–decoder models: a GRU encoder and a GRU decoder, with or without attention.

The two decoders differ in one line, the *context vector* ``c_t`` fed to the
decoder at output step ``t`` (Cho et al., 2014; Bahdanau et al., 2015):

- without attention, ``c_t = h_last`` for every ``t``: the encoder's final state
  must carry the whole source sentence;
- with attention, ``c_t = Σ_j α_tj h_j`` with
  ``α_t = masked_softmax(w_v · tanh(s_{t-1} W_q + h_j W_k))`` over the source
  positions ``j < src_valid_lens``: the previous decoder state ``s_{t-1}`` is the query,
  the encoder outputs ``h_j`` are keys and values (:class:`attn_lib.AdditiveAttention`).

One decoder step, for both::

    c_t = context(s_{t-1}, h)                     # (B, h)
    s_t = GRUCell([embed(y_{t-1}); c_t], s_{t-1})  # (B, h)
    logits_t = Dense([s_t; c_t])                   # (B, V)

Training uses teacher forcing (the decoder reads the reference ``y_{t-1}``);
:func:`greedy_decode` feeds back its own predictions. Shapes: ``B`` batch,
``Ts`` source positions, ``Tt`` target positions, ``h`` the GRU state size (`units`;
here not a number of heads), ``e`` the embedding size, ``V`` target vocabulary.
"""

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate
from attn_lib.layers import AdditiveAttention
from attn_lib.masking import _sequence_mask

_register = keras.saving.register_keras_serializable(package="attn_lib")


@_register
class GRUEncoder(keras.layers.Layer):
    """Embedding followed by a GRU that skips the padding.

    Args:
        vocab_size: int, number of source tokens.
        embed_dim: int, size ``e`` of the token embeddings.
        units: int, size ``h`` of the GRU state (as in ``keras.layers.GRU``).

    Call arguments:
        src: ``(B, Ts)`` int token ids.
        src_valid_lens: ``(B,)`` int, the number of real tokens of each row; the
            GRU skips the positions at or beyond it.

    Returns:
        ``(outputs, state)``: ``(B, Ts, h)`` one vector per source position (the keys
        and values of attention) and ``(B, h)`` the state after the last valid token.

    Raises:
        TypeError, ValueError: a size that is not a positive integer.

    Example:
        >>> encoder = GRUEncoder(vocab_size=12, embed_dim=4, units=8)
        >>> outputs, state = encoder(np.array([[5, 6, 2, 0]]), np.array([3]))
        >>> tuple(outputs.shape), tuple(state.shape)
        ((1, 4, 8), (1, 8))
    """

    def __init__(self, vocab_size, embed_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.units = _validate.check_positive_int("units", units)
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim)
        self.rnn = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def build(self, src_shape, src_valid_lens_shape=None):
        self.embedding.build(src_shape)
        self.rnn.build(tuple(src_shape) + (self.embed_dim,))

    def call(self, src, src_valid_lens):
        mask = _sequence_mask(src_valid_lens, tf.shape(src)[1])  # (B, Ts), True = a word
        outputs, state = self.rnn(self.embedding(src), mask=mask)  # (B, Ts, h), (B, h)
        return outputs, state

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim, "units": self.units}


class DecoderStep(NamedTuple):
    """What one step of :meth:`GRUDecoder.step` computes, for ``B`` sentences.

    Attributes:
        logits: ``(B, V)`` scores of the next token.
        state: ``(B, h)`` the new decoder state ``s_t``.
        context: ``(B, h)`` the context vector ``c_t``.
        attention_weights: ``(B, Ts)`` the weights of ``c_t``; all zeros without
            attention.
    """

    logits: tf.Tensor
    state: tf.Tensor
    context: tf.Tensor
    attention_weights: tf.Tensor


@_register
class GRUDecoder(keras.layers.Layer):
    """GRU decoder whose context is attention over the encoder outputs, or the last state.

    Args:
        vocab_size: int, number of target tokens ``V``.
        embed_dim: int, size ``e`` of the token embeddings.
        units: int, size ``h`` of the GRU state (as in ``keras.layers.GRU``), which
            is also the size of the attention's hidden layer.
        attention: bool; ``True`` for Bahdanau attention, ``False`` for the fixed
            context ``c_t = h_last``.

    Call arguments:
        tgt_in: ``(B, Tt)`` int decoder inputs (``<bos>`` then the reference words).
        enc_outputs: ``(B, Ts, h)`` the encoder's outputs.
        enc_state: ``(B, h)`` the encoder's final state, the first decoder state.
        src_valid_lens: ``(B,)`` int, the source lengths; attention gives the
            positions at or beyond them weight 0.

    Returns:
        ``(B, Tt, V)`` logits. The attention weights of the last call, ``(B, Tt, Ts)``,
        are kept in ``attention_weights`` and the context vectors, ``(B, Tt, h)``, in
        ``contexts`` (eager calls only; inside ``fit`` they are symbolic).

    Raises:
        TypeError, ValueError: a size that is not a positive integer, or an
            `attention` that is not a bool.

    Example:
        >>> decoder = GRUDecoder(vocab_size=10, embed_dim=4, units=8)
        >>> enc_outputs, enc_state = np.ones((1, 3, 8), "float32"), np.ones((1, 8), "float32")
        >>> logits = decoder(np.array([[1, 5]]), enc_outputs, enc_state, np.array([2]))
        >>> tuple(logits.shape), tuple(decoder.attention_weights.shape)
        ((1, 2, 10), (1, 2, 3))
    """

    def __init__(self, vocab_size, embed_dim, units, attention=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.units = _validate.check_positive_int("units", units)
        self.attention = _validate.check_bool("attention", attention)
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim)
        self.cell = keras.layers.GRUCell(units)
        self.dense = keras.layers.Dense(vocab_size)
        self.additive = AdditiveAttention(units=units) if self.attention else None
        self.attention_weights = None
        self.contexts = None

    def step(self, token, state, enc_outputs, enc_state, src_valid_lens):
        """One output step, shared by teacher forcing (`call`) and :func:`greedy_decode`.

        Args:
            token: ``(B,)`` int, the previous word ``y_{t-1}``.
            state: ``(B, h)``, the previous decoder state ``s_{t-1}``.
            enc_outputs: ``(B, Ts, h)``. enc_state: ``(B, h)``.
            src_valid_lens: ``(B,)`` int source lengths.

        Returns:
            A :class:`DecoderStep` of the logits, the new state, the context and the
            attention weights.
        """
        if self.attention:
            # 1) the previous state asks; encoder outputs are keys and values
            query = state[:, tf.newaxis, :]  # (B, 1, h)
            context, weights = self.additive(query, enc_outputs, enc_outputs,
                                             valid_lens=src_valid_lens,
                                             return_attention_scores=True)
            context, weights = context[:, 0, :], weights[:, 0, :]  # (B, h), (B, Ts)
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

    def build(self, tgt_in_shape, enc_outputs_shape, enc_state_shape=None,
              src_valid_lens_shape=None):
        # Build every sub-layer now: the loop in `call` must not create variables.
        h = self.units
        shapes = [(self.embedding, (None,)), (self.cell, (None, self.embed_dim + h)),
                  (self.dense, (None, 2 * h))]
        for layer, shape in shapes:
            if not layer.built:  # `step` may have built it already
                layer.build(shape)
        if self.attention and not self.additive.built:
            self.additive.build((None, 1, h), tuple(enc_outputs_shape))

    def call(self, tgt_in, enc_outputs, enc_state, src_valid_lens):
        num_steps = tf.shape(tgt_in)[1]
        arrays = [tf.TensorArray(enc_state.dtype, size=num_steps) for _ in range(3)]

        def one_step(t, state, logits, weights, contexts):
            # teacher forcing: the reference word y_{t-1} is fed back, not the prediction
            out = self.step(tgt_in[:, t], state, enc_outputs, enc_state, src_valid_lens)
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
                "embed_dim": self.embed_dim, "units": self.units,
                "attention": self.attention}


@_register
class EncoderDecoder(keras.Model):
    """A GRU encoder–decoder for translation, with or without additive attention.

    Args:
        src_vocab_size, tgt_vocab_size: ints, sizes of the two vocabularies.
        embed_dim: int, size ``e`` of the token embeddings (both sides).
        units: int, size ``h`` of the GRU states (both sides).
        attention: bool, Bahdanau attention (``True``) or the fixed context (``False``).

    Call arguments:
        inputs: a tuple ``(src, src_valid_lens, tgt_in)`` of int arrays ``(B, Ts)``,
            ``(B,)``, ``(B, Tt)``: source ids, source lengths, decoder inputs.

    Returns:
        ``(B, Tt, V)`` logits of every target position, under teacher forcing. After
        an eager call, ``model.decoder.attention_weights`` holds ``(B, Tt, Ts)`` and
        ``model.decoder.contexts`` ``(B, Tt, h)``.

    Raises:
        ValueError, TypeError: bad sizes, or inputs of the wrong rank or dtype.

    Example:
        >>> model = EncoderDecoder(12, 10, embed_dim=4, units=8)
        >>> src = np.array([[5, 6, 2, 0]]); tgt_in = np.array([[1, 7, 8]])
        >>> model((src, np.array([3]), tgt_in)).shape
        TensorShape([1, 3, 10])
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim=32, units=32,
                 attention=True, **kwargs):
        super().__init__(**kwargs)
        self.src_vocab_size = _validate.check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = _validate.check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.embed_dim = _validate.check_positive_int("embed_dim", embed_dim)
        self.units = _validate.check_positive_int("units", units)
        self.encoder = GRUEncoder(src_vocab_size, embed_dim, units, name="encoder")
        self.decoder = GRUDecoder(tgt_vocab_size, embed_dim, units, attention,
                                  name="decoder")
        self.attention = self.decoder.attention

    def build(self, input_shape):
        src_shape, src_valid_lens_shape, tgt_shape = _unpack(input_shape, shapes=True)
        if not self.encoder.built:
            self.encoder.build(src_shape, src_valid_lens_shape)
        self.decoder.build(tgt_shape, tuple(src_shape) + (self.units,))

    def call(self, inputs):
        src, src_valid_lens, tgt_in = _unpack(inputs)
        enc_outputs, enc_state = self.encoder(src, src_valid_lens)
        return self.decoder(tgt_in, enc_outputs, enc_state, src_valid_lens)

    def get_config(self):
        return {**super().get_config(), "src_vocab_size": self.src_vocab_size,
                "tgt_vocab_size": self.tgt_vocab_size, "embed_dim": self.embed_dim,
                "units": self.units, "attention": self.attention}


def _unpack(inputs, shapes=False):
    """Check the ``(src, src_valid_lens, tgt_in)`` triple (or, with `shapes`, its shapes)."""
    triple = isinstance(inputs, (tuple, list)) and len(inputs) == 3
    if shapes and triple:
        triple = all(isinstance(s, (tuple, list)) for s in inputs)
    if not triple:
        received = (f"an input of shape {tuple(inputs)}" if shapes
                    else f"{type(inputs).__name__} of shape {_validate.shape_of(inputs)}")
        raise ValueError("`inputs` must be a tuple of three arrays "
                         f"(src, src_valid_lens, tgt_in). Received: {received}")
    if shapes:
        return inputs
    src, src_valid_lens, tgt_in = inputs
    check = _validate.check_token_ids
    shapes = (check("src", src), check("src_valid_lens", src_valid_lens, rank=1),
              check("tgt_in", tgt_in))
    if len({shape[0] for shape in shapes if shape[0] is not None}) > 1:
        raise ValueError("`src`, `src_valid_lens` and `tgt_in` must have the same batch size. "
                         f"Received: src.shape={shapes[0]}, src_valid_lens.shape={shapes[1]}, "
                         f"tgt_in.shape={shapes[2]}")
    return src, src_valid_lens, tgt_in


class Decoding(NamedTuple):
    """The result of :func:`greedy_decode` (``N`` sentences, ``T`` steps).

    Attributes:
        tokens: ``(N, T)`` int predicted ids; ``<eos>`` ends a sentence, ``<pad>`` after it.
        valid_lens: ``(N,)`` int, the valid length of each row of `tokens`: the
            steps up to and including ``<eos>`` (``T`` if none came), as in
            ``TranslationSplit.tgt_valid_lens``.
        attention_weights: ``(N, T, Ts)`` the weights of each step (zeros without
            attention, and after ``<eos>``).
        contexts: ``(N, T, h)`` the context vector of each step (zeros after ``<eos>``).
    """

    tokens: np.ndarray
    valid_lens: np.ndarray
    attention_weights: np.ndarray
    contexts: np.ndarray


def greedy_decode(model, src, src_valid_lens, max_steps, bos=1, eos=2, pad=0):
    """Translate by feeding back the most likely word, one step at a time.

    Args:
        model: an :class:`EncoderDecoder`.
        src: ``(N, Ts)`` int source ids.
        src_valid_lens: ``(N,)`` int source lengths.
        max_steps: int, the most output steps (stop earlier when every sentence
            has produced `eos`).
        bos, eos, pad: ids of the special target tokens.

    Returns:
        A :class:`Decoding` of NumPy arrays.

    Raises:
        TypeError: `model` is not an EncoderDecoder; non-integer ids.
        ValueError: bad shapes or `max_steps`.

    Example:
        >>> model = EncoderDecoder(12, 10, embed_dim=4, units=8)
        >>> result = greedy_decode(model, np.array([[5, 6, 2]]), np.array([3]), max_steps=4)
        >>> result.attention_weights.shape[2], result.contexts.shape[2]
        (3, 8)
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"`model` must be an EncoderDecoder. Received: {type(model).__name__}")
    max_steps = _validate.check_positive_int("max_steps", max_steps)
    src = np.asarray(src)
    src_valid_lens = np.asarray(src_valid_lens)
    _validate.check_token_ids("src", src)
    _validate.check_token_ids("src_valid_lens", src_valid_lens, rank=1)
    if src.shape[0] != src_valid_lens.shape[0]:
        raise ValueError("`src` and `src_valid_lens` must have the same batch size. "
                         f"Received: src.shape={src.shape}, "
                         f"src_valid_lens.shape={src_valid_lens.shape}")
    if not model.built:  # build every layer the regular way before stepping by hand
        model((src[:1], src_valid_lens[:1], np.full((1, 1), bos, src.dtype)))
    enc_outputs, enc_state = model.encoder(src, src_valid_lens)
    token = tf.fill((src.shape[0],), tf.constant(bos, src.dtype))
    state, done = enc_state, np.zeros(src.shape[0], bool)
    tokens, weights, contexts = [], [], []
    for _ in range(max_steps):
        out = model.decoder.step(token, state, enc_outputs, enc_state, src_valid_lens)
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
    valid_lens = np.where(ended.any(axis=1), ended.argmax(axis=1) + 1, tokens.shape[1])
    return Decoding(tokens, valid_lens, np.stack(weights, axis=1), np.stack(contexts, axis=1))


__all__ = ["DecoderStep", "Decoding", "EncoderDecoder", "GRUDecoder", "GRUEncoder",
           "greedy_decode"]
