"""Synthetic movie reviews whose sentiment is decided by known words.

Chapter 8 trains a self-attention classifier on these instead of downloading
IMDB. Every review is a run of neutral filler words with exactly one sentiment
word somewhere in it:

- a *positive* word ("good", "great", ...) makes the review positive (label 1),
  a *negative* word ("bad", "boring", ...) makes it negative (label 0);
- ``not`` *directly before* the sentiment word flips the label ("not good" is
  negative, "not bad" positive);
- ``not`` elsewhere, before a neutral word ("not long"), is a distractor and
  changes nothing.

So the words that decide the label are known: the sentiment word, and the
``not`` in front of it when there is one. A bag of words cannot solve the task
(a review with a distractor ``not`` has the same words as a negated one); a
model must find the sentiment word wherever it is *and* look at its left
neighbour, which is what self-attention with positional encodings can do.

Shapes: ``N`` reviews, padded to ``T = max_len`` positions; padding is token id 0.
Chapter 8's three data sets are ``make_reviews(**CHAPTER8_DATA[split])`` for
``split`` in ``"train"``, ``"valid"``, ``"test"``.
"""

from typing import NamedTuple

import numpy as np

from attn_lib import _validate

PAD = "<pad>"
NEGATION = "not"
POSITIVE_WORDS = ("good", "great", "excellent", "wonderful", "superb", "enjoyable")
NEGATIVE_WORDS = ("bad", "awful", "terrible", "boring", "dull", "poor")
NEUTRAL_WORDS = (
    "the", "a", "movie", "film", "plot", "story", "actors", "cast", "director", "script",
    "music", "ending", "scenes", "was", "is", "and", "with", "this", "its", "very",
    "quite", "long", "really", "seemed",
)
#: All words, index = token id; ``VOCABULARY[0]`` is the padding token.
VOCABULARY = (PAD, NEGATION) + POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS
WORD_TO_ID = {word: i for i, word in enumerate(VOCABULARY)}

_CHAPTER8_REVIEWS = dict(min_len=6, max_len=20, negation_rate=0.5, distractor_rate=0.5)
#: Chapter 8's data sets, ``make_reviews(**CHAPTER8_DATA["train"])`` and likewise
#: ``"valid"`` and ``"test"``, used by the chapter, its exercise checks and the tests:
#: 4,000, 1,000 and 1,000 reviews of 6 to 20 words, from seeds 1, 2 and 3.
CHAPTER8_DATA = {
    "train": dict(num_reviews=4000, **_CHAPTER8_REVIEWS, seed=1),
    "valid": dict(num_reviews=1000, **_CHAPTER8_REVIEWS, seed=2),
    "test": dict(num_reviews=1000, **_CHAPTER8_REVIEWS, seed=3),
}


class ReviewData(NamedTuple):
    """A padded batch of synthetic reviews and what decides their labels.

    Attributes:
        token_ids: ``(N, T)`` int32; row ``n`` holds ``valid_lens[n]`` word ids, then 0s.
        valid_lens: ``(N,)`` int32, the number of real words of each review.
        labels: ``(N,)`` int32, 1 = positive, 0 = negative.
        decisive: ``(N, T)`` bool, True at the sentiment word and at the ``not``
            that negates it; False everywhere else (padding included).
        negated: ``(N,)`` bool, whether the sentiment word is negated.
        vocabulary: tuple of words; ``vocabulary[i]`` is token id ``i``.
    """

    token_ids: np.ndarray
    valid_lens: np.ndarray
    labels: np.ndarray
    decisive: np.ndarray
    negated: np.ndarray
    vocabulary: tuple


def _check_probability(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"`{name}` must be a float in [0, 1]. Received: {name}={value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")
    return float(value)


def make_reviews(num_reviews=1000, min_len=6, max_len=20, negation_rate=0.5,
                 distractor_rate=0.5, seed=0):
    """Generate `num_reviews` padded reviews with one sentiment word each.

    Each review: a length drawn uniformly from ``[min_len, max_len]``; neutral
    words everywhere; one sentiment word (positive or negative with equal
    chance) at a uniformly drawn position; with probability `negation_rate` a
    ``not`` right before it; with probability `distractor_rate` one more
    ``not`` before a neutral word, never next to the sentiment word (when the
    review has room for it).

    Args:
        num_reviews: int > 0, ``N``.
        min_len: int >= 4, the shortest review (room for the sentiment word,
            its ``not``, and a distractor ``not`` with its neutral word).
        max_len: int >= `min_len`, the longest review and the padded length ``T``.
        negation_rate: float in [0, 1], share of negated sentiment words.
        distractor_rate: float in [0, 1], share of reviews with a distractor ``not``.
        seed: seed of NumPy's ``default_rng``; the same seed gives the same data.

    Returns:
        :class:`ReviewData` with ``token_ids`` ``(N, T)``, ``valid_lens`` ``(N,)``,
        ``labels`` ``(N,)``, ``decisive`` ``(N, T)`` and ``negated`` ``(N,)``.

    Raises:
        TypeError: a size is not an integer or a rate not a number.
        ValueError: a size or rate out of range, or ``min_len > max_len``.

    Example:
        >>> data = make_reviews(num_reviews=3, min_len=4, max_len=8, seed=1)
        >>> data.token_ids.shape, data.valid_lens.shape, data.decisive.shape
        ((3, 8), (3,), (3, 8))
        >>> bool((data.decisive.sum(axis=1) == 1 + data.negated).all())
        True
    """
    num_reviews = _validate.check_positive_int("num_reviews", num_reviews)
    min_len = _validate.check_positive_int("min_len", min_len)
    max_len = _validate.check_positive_int("max_len", max_len)
    if min_len < 4:
        raise ValueError(
            "`min_len` must be at least 4 (a sentiment word, its `not`, and a distractor "
            f"`not` before a neutral word). Received: min_len={min_len}"
        )
    if max_len < min_len:
        raise ValueError(
            f"`max_len` must be >= `min_len`. Received: min_len={min_len}, max_len={max_len}"
        )
    negation_rate = _check_probability("negation_rate", negation_rate)
    distractor_rate = _check_probability("distractor_rate", distractor_rate)

    rng = np.random.default_rng(seed)
    neutral_ids = np.array([WORD_TO_ID[w] for w in NEUTRAL_WORDS])
    sentiment_ids = np.array([WORD_TO_ID[w] for w in POSITIVE_WORDS + NEGATIVE_WORDS])
    not_id = WORD_TO_ID[NEGATION]
    token_ids = np.zeros((num_reviews, max_len), dtype=np.int32)
    decisive = np.zeros((num_reviews, max_len), dtype=bool)
    valid_lens = rng.integers(min_len, max_len + 1, size=num_reviews).astype(np.int32)
    negated = rng.random(num_reviews) < negation_rate
    positive = rng.random(num_reviews) < 0.5
    with_distractor = rng.random(num_reviews) < distractor_rate
    for n in range(num_reviews):
        length = valid_lens[n]
        words = rng.choice(neutral_ids, size=length)
        # 1) the sentiment word, with room for its `not` on the left when negated
        position = rng.integers(int(negated[n]), length)
        pool = sentiment_ids[: len(POSITIVE_WORDS)] if positive[n] else sentiment_ids[
            len(POSITIVE_WORDS):]
        words[position] = rng.choice(pool)
        decisive[n, position] = True
        if negated[n]:
            words[position - 1] = not_id
            decisive[n, position - 1] = True
        # 2) a distractor `not` before a neutral word, away from the sentiment word
        if with_distractor[n]:
            taken = {position - 1, position, position + 1}
            # `not` at i negates the word at i + 1: both must be free and neutral
            free = [i for i in range(length - 1) if i not in taken and i + 1 not in taken]
            if free:
                words[rng.choice(free)] = not_id
        token_ids[n, :length] = words
    labels = (positive != negated).astype(np.int32)
    return ReviewData(token_ids, valid_lens, labels, decisive, negated, VOCABULARY)


def rule_label(words):
    """The labelling rule, applied to a list of words.

    Every sentiment word counts +1 (positive) or -1 (negative), flipped when
    the word right before it is ``not``; the label is 1 for a positive total,
    0 for a negative one and ``None`` for zero (no sentiment word, or a tie).

    Args:
        words: list of strings (words outside the vocabulary count as neutral).

    Returns:
        1, 0, or ``None`` (undecided).

    Example:
        >>> rule_label("the plot was not bad".split()), rule_label(["not", "good"])
        (1, 0)
    """
    total = 0
    for i, word in enumerate(words):
        sign = 1 if word in POSITIVE_WORDS else -1 if word in NEGATIVE_WORDS else 0
        if sign and i > 0 and words[i - 1] == NEGATION:
            sign = -sign
        total += sign
    return None if total == 0 else int(total > 0)


def encode_review(text, max_len=None):
    """Turn a review typed as text into token ids and its valid length.

    Args:
        text: str, words separated by spaces (case and surrounding punctuation
            ``.,!?`` are ignored).
        max_len: optional int, pad the ids with 0 to this length.

    Returns:
        ``(token_ids, valid_lens)``: int32 arrays ``(1, T)``, with ``T = max_len`` (or
        the number of words), and ``(1,)``, the number of words; ready for a model.

    Raises:
        TypeError: `text` is not a string.
        ValueError: `text` has no words, a word is not in the vocabulary, or
            there are more words than `max_len`.

    Example:
        >>> ids, valid_lens = encode_review("Not bad!", max_len=4)
        >>> ids.tolist(), valid_lens.tolist()
        ([[1, 8, 0, 0]], [2])
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string. Received: text={text!r}")
    words = [w.strip(".,!?").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        raise ValueError(f"`text` must contain at least one word. Received: text={text!r}")
    unknown = sorted({w for w in words if w not in WORD_TO_ID or w == PAD})
    if unknown:
        raise ValueError(
            f"Unknown word(s) {', '.join(repr(w) for w in unknown)}: the model only knows "
            f"the {len(VOCABULARY) - 1} words of the synthetic reviews. Positive: "
            f"{', '.join(POSITIVE_WORDS)}. Negative: {', '.join(NEGATIVE_WORDS)}. "
            f"Negation: {NEGATION}. Neutral: {', '.join(NEUTRAL_WORDS)}."
        )
    if max_len is not None:
        max_len = _validate.check_positive_int("max_len", max_len)
        if len(words) > max_len:
            raise ValueError(
                f"`text` has {len(words)} words, more than max_len={max_len}. "
                f"Received: text={text!r}"
            )
    width = len(words) if max_len is None else max_len
    token_ids = np.zeros((1, width), dtype=np.int32)
    token_ids[0, : len(words)] = [WORD_TO_ID[w] for w in words]
    return token_ids, np.array([len(words)], dtype=np.int32)


def decode_review(token_ids, valid_len=None):
    """The words of one review.

    Args:
        token_ids: ``(T,)`` ints (or ``(1, T)``).
        valid_len: optional int, the number of real words (``valid_lens[n]`` of
            review ``n``); by default every id is decoded, padding included.

    Returns:
        list of ``valid_len`` words.

    Raises:
        ValueError: `valid_len` outside ``[0, T]``, or an id outside the vocabulary.

    Example:
        >>> decode_review([1, 2, 0, 0], valid_len=2)
        ['not', 'good']
    """
    ids = np.asarray(token_ids).reshape(-1)
    length = len(ids) if valid_len is None else int(valid_len)
    if not 0 <= length <= len(ids):
        raise ValueError(
            f"`valid_len` must be between 0 and the number of ids ({len(ids)}). "
            f"Received: valid_len={valid_len}"
        )
    if ids.size and (ids.min() < 0 or ids.max() >= len(VOCABULARY)):
        raise ValueError(
            f"`token_ids` must be ids in [0, {len(VOCABULARY)}). "
            f"Received: ids from {ids.min()} to {ids.max()}"
        )
    return [VOCABULARY[i] for i in ids[:length]]


__all__ = [
    "CHAPTER8_DATA", "NEGATION", "NEGATIVE_WORDS", "NEUTRAL_WORDS", "PAD", "POSITIVE_WORDS",
    "VOCABULARY", "WORD_TO_ID", "ReviewData", "decode_review", "encode_review", "make_reviews",
    "rule_label",
]
