"""Repeating patterns: sequences whose correct continuation is known (chapter 10).

Each sequence repeats a *pattern* of distinct letters again and again:

=====================  ===========================================================
rule                   detail
=====================  ===========================================================
alphabet               ``vocab_size`` letters, ``a b c ...``; token id ``i`` is
                       letter ``i``
pattern                ``period`` distinct letters drawn at random; ``period`` is
                       drawn from ``periods`` for each sequence
sequence               the pattern repeated and cut at ``length`` tokens
next token             ``x[t + 1] = x[t + 1 - period]`` once a pattern is complete
determined from        position ``t = period`` on: ``x[period]`` is the first letter
                       seen twice, which reveals the period
=====================  ===========================================================

Worked example, ``period = 3``, pattern ``c f a``::

    position t   0  1  2  3  4  5  6  7 ...
    x[t]         c  f  a  c  f  a  c  f ...
    determined   .  .  .  *  *  *  *  * ...   (* : x[t + 1] follows from x[0 ... t])

At ``t = 3`` the model reads ``c f a c``: ``c`` came back after three letters, so the
period is 3 and the next letter is the one that followed the earlier ``c``, ``f``.
No fixed offset solves the task: the model must find the earlier copy of the current
letter and read what came after it, attention to earlier tokens by content.
"""

import dataclasses

import numpy as np

from attn_lib import _validate

LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclasses.dataclass(frozen=True)
class RepeatData:
    """Sequences of repeated patterns.

    Attributes:
        token_ids: int32 ``(N, length)``.
        periods: int ``(N,)``, the length of each sequence's pattern.
        determined: bool ``(N, length)``: ``determined[n, t]`` when ``token_ids[n, t + 1]``
            follows from the tokens up to ``t`` (``t >= period``; False at the last position).
    """

    token_ids: np.ndarray
    periods: np.ndarray
    determined: np.ndarray


def make_repeats(num_sequences, length, periods=(2, 3, 4, 5, 6), vocab_size=12, seed=0):
    """Generate `num_sequences` repeated patterns (see the module's rules).

    Args:
        num_sequences: int, ``N``.
        length: int, ``T``, tokens per sequence.
        periods: the pattern lengths to draw from, each in ``[1, vocab_size]``.
        vocab_size: int <= 26, the number of letters.
        seed: int, for NumPy's ``default_rng``.

    Returns:
        :class:`RepeatData`.

    Raises:
        ValueError, TypeError: sizes that are not positive integers, `vocab_size` above
            26, or a period outside ``[1, vocab_size]``.

    Example:
        >>> data = make_repeats(2, 8, periods=(3,), seed=0)
        >>> data.token_ids.shape, data.periods.tolist()
        ((2, 8), [3, 3])
        >>> decode(data.token_ids[0])
        'h g i h g i h g'
        >>> data.determined[0].astype(int).tolist()
        [0, 0, 0, 1, 1, 1, 1, 0]
    """
    num_sequences = _validate.check_positive_int("num_sequences", num_sequences)
    length = _validate.check_positive_int("length", length)
    vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
    if vocab_size > len(LETTERS):
        raise ValueError(f"`vocab_size` must be at most {len(LETTERS)}. "
                         f"Received: vocab_size={vocab_size}")
    periods = [_validate.check_positive_int("periods", p) for p in periods]
    if not periods or max(periods) > vocab_size:
        raise ValueError("`periods` must be non-empty, each in [1, vocab_size="
                         f"{vocab_size}] (the letters of a pattern are distinct). "
                         f"Received: periods={periods}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(periods, size=num_sequences)  # (N,)
    token_ids = np.zeros((num_sequences, length), np.int32)
    for n, period in enumerate(chosen):
        pattern = rng.choice(vocab_size, size=period, replace=False)
        token_ids[n] = np.resize(pattern, length)  # the pattern, repeated
    positions = np.arange(length)[None, :]  # (1, T)
    determined = (positions >= chosen[:, None]) & (positions < length - 1)
    return RepeatData(token_ids, chosen.astype(np.int64), determined)


def continue_repeats(prompt_ids, steps):
    """The correct continuation of each prompt by `steps` tokens, ``(B, steps)``.

    The period is where the prompt's first letter comes back; a prompt in which it
    does not come back has no known continuation.

    Raises:
        ValueError: a prompt whose first letter does not come back.
    """
    prompt_ids = np.asarray(prompt_ids)
    rows = []
    for prompt in prompt_ids:
        repeats = np.flatnonzero(prompt[1:] == prompt[0])
        if repeats.size == 0:
            raise ValueError("Each prompt must show its pattern twice (its first letter "
                             f"again). Received: a prompt {decode(prompt)!r}")
        pattern = prompt[:repeats[0] + 1]  # (period,)
        full = np.resize(pattern, len(prompt) + steps)
        rows.append(full[len(prompt):])
    return np.stack(rows).astype(np.int32)


def decode(token_ids):
    """Token ids -> their letters, separated by spaces."""
    return " ".join(LETTERS[int(i)] for i in np.asarray(token_ids).reshape(-1))


#: The data of chapter 10: ``make_repeats(**CHAPTER10_DATA[split])``.
CHAPTER10_DATA = {
    "train": dict(num_sequences=4000, length=25, periods=(2, 3, 4, 5, 6), vocab_size=12,
                  seed=0),
    "test": dict(num_sequences=500, length=25, periods=(2, 3, 4, 5, 6), vocab_size=12,
                 seed=1),
}

__all__ = ["CHAPTER10_DATA", "LETTERS", "RepeatData", "continue_repeats", "decode",
           "make_repeats"]
