"""Small fixed inputs and measurements for the chapters on self-attention.

Nothing here is learned or downloaded. The pieces are:

- a toy vocabulary whose words come in kinds (animals, verbs, places, ...) and
  :func:`embed_tokens`, which gives every word a fixed vector: words of the same
  kind point in nearly the same direction, so attention maps built from
  similarities are easy to read;
- :func:`encode_sentences`, which pads a few sentences into one batch, optionally
  with sinusoidal positions appended;
- :func:`demo_multi_head_attention`, an :class:`attn_lib.MultiHeadAttention`
  whose four heads are set by hand to do recognisable jobs;
- :func:`attention_weights_bytes` and :func:`time_self_attention`, the memory and
  time that self-attention costs as the sequence grows.
"""

import hashlib
import re
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from attn_lib import _validate, reference
from attn_lib.diagnostics import tensor_bytes, time_call
from attn_lib.layers import MultiHeadAttention

WORD_KINDS = {
    "determiner": ("the", "a", "an", "this"),
    "animal": ("cat", "dog", "bird", "mouse", "cats", "dogs"),
    "person": ("man", "woman", "child", "girl", "boy"),
    "pronoun": ("it", "he", "she", "they"),
    "verb": ("sat", "saw", "chased", "bites", "bit", "ate", "was", "slept"),
    "place": ("mat", "garden", "house", "park", "tree"),
    "preposition": ("on", "in", "into", "under", "near"),
    "adjective": ("small", "big", "old", "tired", "happy"),
    "connective": ("and", "because", "but", "then"),
}
"""The toy vocabulary: kind of word -> words. Other words get a vector of their own kind."""

NOUN_KINDS = ("animal", "person", "pronoun")
HEAD_NAMES = ("previous word", "same kind of word", "verb ↔ noun", "untrained")
"""What each head of :func:`demo_multi_head_attention` does, in head order."""

_KIND_OF = {word: kind for kind, words in WORD_KINDS.items() for word in words}


def tokenize(sentence):
    """Lower-case words of `sentence` (letters and apostrophes; punctuation dropped).

    Example:
        >>> tokenize("The dog bites the man.")
        ['the', 'dog', 'bites', 'the', 'man']
    """
    if not isinstance(sentence, str):
        raise TypeError(f"`sentence` must be a string. Received: sentence={sentence!r}")
    return re.findall(r"[a-z']+", sentence.lower())


def kind_of(token):
    """The kind of `token` in :data:`WORD_KINDS`, or ``None`` for an unknown word."""
    return _KIND_OF.get(token)


def _check_dim(dim):
    dim = _validate.check_positive_int("dim", dim)
    if dim < len(WORD_KINDS):
        raise ValueError(
            f"`dim` must be at least the number of word kinds ({len(WORD_KINDS)}) so that "
            f"every kind has its own direction. Received: dim={dim}"
        )
    return dim


def _kind_directions(dim, seed):
    """Orthonormal ``(kinds, dim)`` directions, one per kind of word."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(dim, len(WORD_KINDS))))
    return dict(zip(WORD_KINDS, q.T))


def _word_direction(token, dim, seed):
    """A unit vector that depends only on (`token`, `dim`, `seed`), never on the sentence."""
    digest = int.from_bytes(hashlib.sha256(token.encode()).digest()[:8], "little")
    v = np.random.default_rng([seed, digest]).normal(size=dim)
    return v / np.linalg.norm(v)


def embed_tokens(tokens, dim=16, noise=0.3, seed=0):
    """Fixed embeddings in which words of the same kind are similar.

    A word's vector is the direction of its kind plus `noise` times a direction of
    its own, scaled to length ``√dim`` (entries of unit size on average, as for a
    trained embedding). Kinds are orthogonal, so the cosine similarity of two words
    is about ``1 / (1 + noise²)`` for the same kind and about 0 otherwise. A word not
    in :data:`WORD_KINDS` gets only its own (seeded) direction. A word's vector
    never depends on the other words.

    Args:
        tokens: list of `n` strings.
        dim: int >= the number of kinds (9), the embedding size.
        noise: float >= 0, how far words stray from their kind.
        seed: int, the seed of the kind directions and word directions.

    Returns:
        float32 array ``(n, dim)``.

    Raises:
        TypeError: `tokens` is a string rather than a list, or `dim` is not an int.
        ValueError: `dim` is smaller than the number of kinds, or `noise` < 0.

    Example:
        >>> x = embed_tokens(["cat", "dog", "mat"])
        >>> x.shape
        (3, 16)
        >>> bool(x[0] @ x[1] > 10 * abs(x[0] @ x[2]))  # cat is closer to dog than to mat
        True
    """
    if isinstance(tokens, str):
        raise TypeError(
            "`tokens` must be a list of words; use tokenize(sentence) first. "
            f"Received: tokens={tokens!r}"
        )
    dim = _check_dim(dim)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"`noise` must be a number >= 0. Received: noise={noise!r}")
    kinds = _kind_directions(dim, seed)
    rows = []
    for token in tokens:
        own = _word_direction(str(token), dim, seed)
        kind = kind_of(token)
        v = own if kind is None else kinds[kind] + noise * own
        rows.append(np.sqrt(dim) * v / np.linalg.norm(v))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), dim)


class EncodedSentences(NamedTuple):
    """A padded batch of sentences.

    Attributes:
        tokens: list of `B` token lists (unpadded).
        x: float32 ``(B, T, dim + pos_dim)``; zeros after each sentence's end.
        valid_lens: int32 ``(B,)``, the number of real tokens per sentence.
    """

    tokens: list
    x: np.ndarray
    valid_lens: np.ndarray


def encode_sentences(sentences, dim=16, pos_dim=0, noise=0.3, seed=0):
    """Embed and pad `sentences` into one batch; optionally append positions.

    Args:
        sentences: list of `B` strings (or of token lists).
        dim, noise, seed: as for :func:`embed_tokens`.
        pos_dim: int >= 0; if > 0, the sinusoidal encoding of each position
            (:func:`attn_lib.reference.positional_encoding`, ``pos_dim`` even) is
            appended to each word vector, so the two can be read separately.

    Returns:
        :class:`EncodedSentences` with ``x`` of shape ``(B, T, dim + pos_dim)``
        where ``T`` is the longest sentence.

    Raises:
        ValueError: no sentences, an empty sentence, or an odd `pos_dim`.

    Example:
        >>> batch = encode_sentences(["the cat sat", "a dog"], pos_dim=4)
        >>> batch.x.shape, batch.valid_lens.tolist()
        ((2, 3, 20), [3, 2])
    """
    if isinstance(sentences, str) or len(sentences) == 0:
        raise ValueError(
            f"`sentences` must be a non-empty list of sentences. Received: {sentences!r}"
        )
    pos_dim = _validate.check_positive_int("pos_dim", pos_dim, allow_zero=True)
    if pos_dim % 2:
        raise ValueError(f"`pos_dim` must be even (sine, cosine pairs). Received: {pos_dim}")
    tokens = [tokenize(s) if isinstance(s, str) else list(s) for s in sentences]
    if any(len(t) == 0 for t in tokens):
        raise ValueError(f"Every sentence needs at least one word. Received: {sentences!r}")
    length = max(len(t) for t in tokens)
    x = np.zeros((len(tokens), length, dim + pos_dim), dtype=np.float32)
    positions = reference.positional_encoding(length, pos_dim) if pos_dim else None
    for b, words in enumerate(tokens):
        x[b, : len(words), :dim] = embed_tokens(words, dim, noise, seed)
        if pos_dim:
            x[b, : len(words), dim:] = positions[: len(words)]
    valid_lens = np.array([len(t) for t in tokens], dtype=np.int32)
    return EncodedSentences(tokens, x, valid_lens)


def _shift_back_matrix(pos_dim, fit_len=256):
    """``M`` with ``P[t] @ M = P[t - 1]`` for the sinusoidal table ``P``.

    Found by least squares on a long table: that it fits exactly (to rounding)
    shows that "one position back" is a *linear* map of the encodings.
    """
    P = reference.positional_encoding(fit_len, pos_dim)
    M, *_ = np.linalg.lstsq(P[1:], P[:-1], rcond=None)
    return M


def demo_multi_head_attention(dim=16, pos_dim=16, seed=0):
    """A built :class:`attn_lib.MultiHeadAttention` with four hand-set heads.

    It expects inputs from ``encode_sentences(..., dim=dim, pos_dim=pos_dim)``:
    a word part (first `dim` features) and a position part (last `pos_dim`).
    The heads, in the order of :data:`HEAD_NAMES`:

    0. *previous word*: queries are the position part shifted one step back, keys
       the position part, so position ``t`` matches ``t - 1`` best (position 0,
       which has no previous word, looks at itself);
    1. *same kind of word*: queries and keys are the word part, so a word attends
       to itself and to words of its kind;
    2. *verb ↔ noun*: the query of a verb looks like a noun and the query of a noun
       looks like a verb, so verbs attend to nouns and nouns to verbs; other words
       find no match and spread their weight;
    3. *untrained*: random projections, as a freshly initialised layer has.

    Every head's values are the word part; the output projection averages the heads.

    Args:
        dim: int >= 9, size of the word part.
        pos_dim: even int > 0, size of the position part.
        seed: the seed used by :func:`embed_tokens` (the kind directions must match)
            and for the untrained head.

    Returns:
        A :class:`attn_lib.MultiHeadAttention` with ``num_heads=4`` and
        ``key_dim = max(dim, pos_dim)``, already built for inputs of size
        ``dim + pos_dim``.

    Example:
        >>> batch = encode_sentences(["the dog bites the man"], pos_dim=16)
        >>> mha = demo_multi_head_attention()
        >>> _ = mha(batch.x, batch.x, batch.x)
        >>> mha.attention_weights.shape
        TensorShape([1, 4, 5, 5])
    """
    dim = _check_dim(dim)
    pos_dim = _validate.check_positive_int("pos_dim", pos_dim)
    if pos_dim % 2:
        raise ValueError(f"`pos_dim` must be even (sine, cosine pairs). Received: {pos_dim}")
    d_model, key_dim, heads = dim + pos_dim, max(dim, pos_dim), len(HEAD_NAMES)
    words, positions = slice(0, dim), slice(dim, d_model)
    W_q = np.zeros((heads, d_model, key_dim))
    W_k = np.zeros((heads, d_model, key_dim))
    # 0) previous word: <P[t] M, P[j]> = <P[t-1], P[j]> peaks at j = t - 1
    W_q[0, positions, :pos_dim] = 40.0 * _shift_back_matrix(pos_dim)
    W_k[0, positions, :pos_dim] = np.eye(pos_dim)
    # 1) same kind of word: plain similarity of the word parts
    W_q[1, words, :dim] = np.eye(dim)
    W_k[1, words, :dim] = np.eye(dim)
    # 2) verb <-> noun: a bilinear form that pairs the verb direction with noun directions
    kinds = _kind_directions(dim, seed)
    pairing = sum(np.outer(kinds["verb"], kinds[n]) + np.outer(kinds[n], kinds["verb"])
                  for n in NOUN_KINDS)
    W_q[2, words, :dim] = 1.5 * pairing
    W_k[2, words, :dim] = np.eye(dim)
    # 3) untrained: random, scaled like a Glorot initialisation
    rng = np.random.default_rng(seed)
    scale = np.sqrt(2.0 / (d_model + key_dim))
    W_q[3] = rng.normal(0.0, scale, (d_model, key_dim))
    W_k[3] = rng.normal(0.0, scale, (d_model, key_dim))
    W_v = np.zeros((heads, d_model, key_dim))
    W_v[:, words, :dim] = np.eye(dim)
    W_o = np.zeros((heads, key_dim, d_model))
    W_o[:, :dim, words] = np.eye(dim) / heads

    def merge(w):  # (h, d_in, d) -> (d_in, h*d), head-major columns like the layer's split
        return np.transpose(w, (1, 0, 2)).reshape(w.shape[1], -1)

    layer = MultiHeadAttention(num_heads=heads, key_dim=key_dim, name="demo_heads")
    dummy = np.zeros((1, 1, d_model), dtype=np.float32)
    layer(dummy, dummy, dummy)
    layer.W_q.assign(merge(W_q).astype(np.float32))
    layer.W_k.assign(merge(W_k).astype(np.float32))
    layer.W_v.assign(merge(W_v).astype(np.float32))
    layer.W_o.assign(W_o.reshape(heads * key_dim, d_model).astype(np.float32))
    return layer


def attention_weights_bytes(length, batch_size=1, num_heads=1, dtype="float32"):
    """Bytes taken by the attention weights ``(B, h, T, T)`` of one self-attention layer.

    Args:
        length: int, the sequence length ``T``.
        batch_size: int, ``B``. num_heads: int, ``h``.
        dtype: the weights' dtype (``"float32"``: 4 bytes each).

    Returns:
        Python int ``B * h * T * T * itemsize``.

    Example:
        >>> attention_weights_bytes(1024, batch_size=2, num_heads=8) / 2**20  # MiB
        64.0
    """
    length = _validate.check_positive_int("length", length)
    batch_size = _validate.check_positive_int("batch_size", batch_size)
    num_heads = _validate.check_positive_int("num_heads", num_heads)
    return tensor_bytes((batch_size, num_heads, length, length), dtype)


def time_self_attention(lengths, batch_size=1, num_heads=1, head_size=64, repeats=3, seed=0):
    """Seconds that ``softmax(Q Kᵀ / √d) V`` takes for each sequence length.

    Queries, keys and values are random ``(B, h, T, head_size)`` float32 tensors; the
    time of each length is the best of `repeats` runs after one warm-up run, which
    is the least disturbed by other programs. Wall-clock times vary between
    machines and runs: compare their *growth*, not their values.

    Args:
        lengths: sequence of ints ``T``.
        batch_size, num_heads, head_size: the other sizes.
        repeats: int > 0, runs per length.
        seed: seed of the random inputs.

    Returns:
        float64 array ``(len(lengths),)`` of seconds.

    Example:
        >>> seconds = time_self_attention([8, 16], repeats=1)
        >>> seconds.shape
        (2,)
    """
    lengths = [_validate.check_positive_int("lengths", int(t) if isinstance(t, np.integer)
                                            else t) for t in lengths]
    if not lengths:
        raise ValueError("`lengths` must hold at least one length. Received: lengths=[]")
    repeats = _validate.check_positive_int("repeats", repeats)
    rng = np.random.default_rng(seed)

    def attend(q, k, v):
        scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(head_size)  # (B, h, T, T)
        return tf.matmul(tf.nn.softmax(scores, axis=-1), v)  # (B, h, T, d)

    seconds = []
    for length in lengths:
        shape = (batch_size, num_heads, length, head_size)
        qkv = [tf.constant(rng.normal(size=shape).astype(np.float32)) for _ in range(3)]
        seconds.append(time_call(lambda qkv=qkv: attend(*qkv), repeats=repeats, warmup=1,
                                 best=True))
    return np.asarray(seconds, dtype=np.float64)


__all__ = [
    "HEAD_NAMES",
    "NOUN_KINDS",
    "WORD_KINDS",
    "EncodedSentences",
    "attention_weights_bytes",
    "demo_multi_head_attention",
    "embed_tokens",
    "encode_sentences",
    "kind_of",
    "time_self_attention",
    "tokenize",
]
