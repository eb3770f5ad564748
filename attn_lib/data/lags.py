"""Recall at a distance: name the tokens that were 2 and 5 positions back (chapter 11).

Each sequence is random digits; the target at every position is the *pair* of digits
seen ``lags[0]`` and ``lags[1]`` positions earlier:

=====================  ===========================================================
rule                   detail
=====================  ===========================================================
alphabet               ``vocab_size`` digits ``0 ... V - 1``, drawn uniformly and
                       independently
target at ``t``        ``V * x[t - a] + x[t - b]`` with ``(a, b) = lags``: one of
                       ``V**2`` classes, the pair of earlier digits
scored from            position ``t = max(lags)`` on (before it the pair does not
                       exist; those targets are 0 and ``scored`` is False)
window needed          a causal window of ``W`` positions sees ``t - W < j <= t``:
                       it must reach ``t - max(lags)``, so ``W >= max(lags) + 1``
=====================  ===========================================================

Worked example, ``lags = (2, 5)``, ``V = 8``::

    position t   0  1  2  3  4  5  6  7 ...
    x[t]         3  1  4  1  5  2  6  5 ...
    target       .  .  .  .  .  11 41 20 ...   (8 * x[t - 2] + x[t - 5]; . : not scored)

At ``t = 5`` the pair is ``(x[3], x[0]) = (1, 3)``: class ``8 * 1 + 3 = 11``, the two
digits read in base ``V``. No content tells where to look: the model must attend by
*position*, ``a`` and ``b`` steps back, and a window shorter than ``max(lags) + 1``
cannot see the older digit at all: then half of the pair is a guess (accuracy ``1/V``).
"""

import dataclasses

import numpy as np

from attn_lib import _validate


@dataclasses.dataclass(frozen=True)
class LagData:
    """Random digits and, at every position, the pair of digits `lags` back.

    Attributes:
        token_ids: int32 ``(N, length)``, the digits.
        targets: int32 ``(N, length)``, ``V * x[t - a] + x[t - b]`` (0 where not scored).
        scored: bool ``(N, length)``, True from ``t = max(lags)`` on.
    """

    token_ids: np.ndarray
    targets: np.ndarray
    scored: np.ndarray


def make_lags(num_sequences, length, lags=(2, 5), vocab_size=8, seed=0):
    """Generate `num_sequences` sequences of recall at a distance (see the module's rules).

    Args:
        num_sequences: int, ``N``.
        length: int, ``T``, digits per sequence, more than ``max(lags)``.
        lags: two distinct positive ints ``(a, b)``, how far back the pair's digits are.
        vocab_size: int >= 2, ``V``, the number of digits; there are ``V**2`` targets.
        seed: int, for NumPy's ``default_rng``.

    Returns:
        :class:`LagData`.

    Raises:
        ValueError, TypeError: sizes that are not positive integers, lags that are not
            two distinct positive ints, or a `length` not above ``max(lags)``.

    Example:
        >>> data = make_lags(2, 8, lags=(2, 5), vocab_size=8, seed=0)
        >>> data.token_ids.shape, data.targets.shape
        ((2, 8), (2, 8))
        >>> x, target = data.token_ids[0], data.targets[0, 6]
        >>> bool(target == 8 * x[4] + x[1])
        True
        >>> data.scored[0].astype(int).tolist()
        [0, 0, 0, 0, 0, 1, 1, 1]
    """
    num_sequences = _validate.check_positive_int("num_sequences", num_sequences)
    length = _validate.check_positive_int("length", length)
    vocab_size = _validate.check_positive_int("vocab_size", vocab_size)
    if vocab_size < 2:
        raise ValueError(f"`vocab_size` must be at least 2. Received: vocab_size={vocab_size}")
    lags = tuple(_validate.check_positive_int("lags", lag) for lag in lags)
    if len(lags) != 2 or lags[0] == lags[1]:
        raise ValueError(f"`lags` must be two distinct positive ints. Received: lags={lags}")
    if length <= max(lags):
        raise ValueError(f"`length` must be more than max(lags)={max(lags)}. "
                         f"Received: length={length}")
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(0, vocab_size, size=(num_sequences, length)).astype(np.int32)
    first, second = (np.roll(token_ids, lag, axis=1) for lag in lags)  # x[t - lag]
    scored = np.broadcast_to(np.arange(length) >= max(lags), token_ids.shape).copy()
    targets = np.where(scored, vocab_size * first + second, 0).astype(np.int32)
    return LagData(token_ids, targets, scored)


def needed_window(lags):
    """The smallest causal window that sees both digits of the pair: ``max(lags) + 1``."""
    return max(lags) + 1


#: The data of chapter 11: ``make_lags(**CHAPTER11_DATA[split])``.
CHAPTER11_DATA = {
    "train": dict(num_sequences=2048, length=16, lags=(2, 5), vocab_size=8, seed=0),
    "test": dict(num_sequences=512, length=16, lags=(2, 5), vocab_size=8, seed=1),
}

__all__ = ["CHAPTER11_DATA", "LagData", "make_lags", "needed_window"]
