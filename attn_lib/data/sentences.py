"""A toy vocabulary with fixed embeddings, for the chapters on self-attention.

Nothing here is learned or downloaded. Its words come in kinds (animals, verbs,
places, ...) and :func:`embed_tokens` gives every word a fixed vector: words of
the same kind point in nearly the same direction, so attention maps built from
similarities are easy to read; :func:`kind_directions` returns those kind
directions. :func:`encode_sentences` pads a few sentences into one batch,
optionally with sinusoidal positions appended.
"""

import hashlib
import re
from typing import NamedTuple

import numpy as np

from attn_lib import _validate, reference

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


def kind_directions(dim=16, seed=0):
    """The direction of each kind of word, the directions :func:`embed_tokens` builds on.

    A chapter that sets attention weights by hand reads these to make a head look for a
    kind of word (Chapter 6's verb-noun head).

    Args:
        dim: int >= the number of kinds (9), the embedding size.
        seed: int, the seed :func:`embed_tokens` was called with.

    Returns:
        dict kind -> float64 unit vector ``(dim,)``, in the order of :data:`WORD_KINDS`;
        the vectors are orthonormal.

    Raises:
        TypeError: `dim` is not an int.
        ValueError: `dim` is smaller than the number of kinds.

    Example:
        >>> directions = kind_directions()
        >>> round(float(directions["verb"] @ directions["animal"]), 6)
        0.0
    """
    dim = _check_dim(dim)
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
    kinds = kind_directions(dim, seed)
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


__all__ = ["NOUN_KINDS", "WORD_KINDS", "EncodedSentences", "embed_tokens", "encode_sentences",
           "kind_directions", "kind_of", "tokenize"]
