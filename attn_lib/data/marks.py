"""The latest mark: a task whose answer lies a short, varying distance back (chapter 12).

Each sequence is a row of plain tokens with a few *marked* ones among them; at every
position the target is the mark most recently seen:

=====================  ===========================================================
rule                   detail
=====================  ===========================================================
tokens                 ``num_plain`` plain tokens ``0 ... num_plain - 1`` and
                       ``num_marks`` marked ones ``num_plain ... num_plain +
                       num_marks - 1``; each position is marked with probability
                       ``p_mark``, its token drawn uniformly from its kind
target                 at position ``t``: ``k`` when the last marked token at or
                       before ``t`` is mark ``k`` (token ``num_plain + k``), and
                       ``NONE = num_marks`` when no mark came yet
what it needs          the *nearest* earlier mark: a model must tell which of the
                       marks it sees is the latest, so it must know where they are
=====================  ===========================================================

Worked example, ``num_plain = 12``, ``num_marks = 4`` (marks shown as ``A B C D``,
tokens 12 to 15; ``-`` is ``NONE``)::

    position t   0  1  2  3  4  5  6  7
    token        3  B  7  0  D  D  1  9
    target       -  1  1  1  3  3  3  3

The distance back to the latest mark is short (about ``1 / p_mark`` positions) whatever
the length of the sequence, so a model that has learned "the nearest mark" at length
``L`` is right at any length; a model that has learned "the mark at these absolute
positions" is not. The chapter trains at length ``L`` and tests at ``L``, ``2L``, ``4L``.
"""

import dataclasses

import numpy as np

from attn_lib import _validate

MARKS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclasses.dataclass(frozen=True)
class MarkData:
    """Sequences with marks and, at every position, the latest mark.

    Attributes:
        token_ids: int32 ``(N, length)``.
        targets: int32 ``(N, length)``, the latest mark ``0 ... num_marks - 1`` at or
            before each position, or ``num_marks`` ("none yet").
    """

    token_ids: np.ndarray
    targets: np.ndarray


def make_marks(num_sequences, length, num_plain=12, num_marks=4, p_mark=0.15, seed=0):
    """Generate `num_sequences` sequences of the latest-mark task (see the module's rules).

    Args:
        num_sequences: int, ``N``.
        length: int, ``T``, tokens per sequence.
        num_plain: int, the number of plain tokens.
        num_marks: int <= 26, the number of marked tokens.
        p_mark: float in (0, 1), the probability that a position is marked.
        seed: int, for NumPy's ``default_rng``.

    Returns:
        :class:`MarkData`; the vocabulary has ``num_plain + num_marks`` tokens and the
        targets ``num_marks + 1`` classes.

    Raises:
        ValueError, TypeError: sizes that are not positive integers, `num_marks` above
            26, or `p_mark` outside (0, 1).

    Example:
        >>> data = make_marks(1, 8, p_mark=0.3, seed=3)
        >>> data.token_ids[0].tolist()
        [13, 13, 0, 1, 12, 4, 10, 15]
        >>> decode(data.token_ids[0])
        'B B 0 1 A 4 10 D'
        >>> data.targets[0].tolist()  # B is mark 1, A mark 0, D mark 3
        [1, 1, 1, 1, 0, 0, 0, 3]
    """
    num_sequences = _validate.check_positive_int("num_sequences", num_sequences)
    length = _validate.check_positive_int("length", length)
    num_plain = _validate.check_positive_int("num_plain", num_plain)
    num_marks = _validate.check_positive_int("num_marks", num_marks)
    if num_marks > len(MARKS):
        raise ValueError(f"`num_marks` must be at most {len(MARKS)}. "
                         f"Received: num_marks={num_marks}")
    if isinstance(p_mark, bool) or not isinstance(p_mark, (int, float)) or not (
            0 < p_mark < 1):
        raise ValueError(f"`p_mark` must be a number in (0, 1). Received: p_mark={p_mark!r}")
    rng = np.random.default_rng(seed)
    marked = rng.random((num_sequences, length)) < p_mark  # (N, T)
    plain = rng.integers(0, num_plain, (num_sequences, length))
    mark = rng.integers(0, num_marks, (num_sequences, length))
    token_ids = np.where(marked, num_plain + mark, plain).astype(np.int32)
    # the latest mark: carry the index of the last marked position forward
    last = np.where(marked, np.arange(length)[None, :], -1)  # (N, T)
    last = np.maximum.accumulate(last, axis=1)
    latest = np.take_along_axis(mark, np.maximum(last, 0), axis=1)
    targets = np.where(last >= 0, latest, num_marks).astype(np.int32)
    return MarkData(token_ids, targets)


def latest_mark_distance(token_ids, num_plain=12):
    """How far back the latest mark is at each position, ``(N, T)``; -1 where none came.

    0 means the token itself is marked.
    """
    token_ids = np.asarray(token_ids)
    length = token_ids.shape[-1]
    positions = np.arange(length)
    last = np.where(token_ids >= num_plain, positions, -1)
    last = np.maximum.accumulate(last, axis=-1)
    return np.where(last >= 0, positions - last, -1)


def decode(token_ids, num_plain=12):
    """Token ids -> text: plain tokens as numbers, marks as ``A B C ...``."""
    return " ".join(str(int(i)) if i < num_plain else MARKS[int(i) - num_plain]
                    for i in np.asarray(token_ids).reshape(-1))


#: The length the chapter trains at.
TRAIN_LENGTH = 16

#: The data of chapter 12: ``make_marks(**CHAPTER12_DATA[split])``; the test splits are
#: 1, 2 and 4 times the training length.
CHAPTER12_DATA = {
    "train": dict(num_sequences=4800, length=TRAIN_LENGTH, seed=0),
    "test_1L": dict(num_sequences=500, length=TRAIN_LENGTH, seed=1),
    "test_2L": dict(num_sequences=500, length=2 * TRAIN_LENGTH, seed=2),
    "test_4L": dict(num_sequences=500, length=4 * TRAIN_LENGTH, seed=3),
}

__all__ = ["CHAPTER12_DATA", "MARKS", "MarkData", "TRAIN_LENGTH", "decode",
           "latest_mark_distance", "make_marks"]
