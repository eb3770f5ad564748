"""Self-checks for Chapter 8, a self-attention classifier."""

import numpy as np

from attn_lib.data.reviews import (
    CHAPTER8_DATA,
    NEGATION,
    POSITIVE_WORDS,
    WORD_TO_ID,
    make_reviews,
    rule_label,
)
from attn_lib.exercises import exercise

#: The reviews of Exercise 8.1, in the order the answer lists their labels.
REVIEWS_8_1 = (
    "the plot was not bad",
    "not the plot was good",
    "good not long",
    "not not good",
    "the cast was not boring and the music not long",
    "not superb",
)


@exercise("8.1", hint="Only the word directly before a sentiment word can flip it.")
def _(answer):
    expected = [rule_label(text.split()) for text in REVIEWS_8_1]
    return [int(a) for a in answer] == expected


def _masked_mean_oracle(h, valid_lens):
    h = np.asarray(h, dtype=np.float64)
    keep = np.arange(h.shape[1])[None, :] < np.asarray(valid_lens)[:, None]  # (B, T)
    total = np.where(keep[..., None], h, 0.0).sum(axis=1)  # (B, d)
    counts = np.maximum(keep.sum(axis=1, keepdims=True), 1)
    return total / counts


@exercise("8.2", hint="Padding may hold anything, even NaN: select with a mask rather than "
                      "multiplying by it, and divide by each review's own length.")
def _(answer):
    rng = np.random.default_rng(8)
    h = rng.normal(size=(4, 6, 3)).astype("float32")
    valid_lens = np.array([2, 6, 0, 4])
    h[0, 2:] = np.nan
    h[3, 4:] = 1e30
    got = np.asarray(answer(h, valid_lens), dtype=np.float64)
    return got.shape == (4, 3) and np.allclose(got, _masked_mean_oracle(h, valid_lens),
                                               atol=1e-5)


@exercise("8.3", hint="Shift the words after the deleted one a place to the left, put a 0 at "
                      "the end, and shorten the valid length by one.")
def _(answer):
    rng = np.random.default_rng(3)
    valid_lens = rng.integers(1, 8, size=20)
    valid_lens[0] = 8  # a full row: the 0 at the end must be written, not found
    token_ids = np.zeros((20, 8), dtype=np.int32)
    for n, length in enumerate(valid_lens):
        token_ids[n, :length] = rng.integers(1, 30, size=length)
    positions = rng.integers(0, valid_lens)
    original = token_ids.copy()
    new_ids, new_valid_lens = answer(token_ids, valid_lens, positions)
    new_ids, new_valid_lens = np.asarray(new_ids), np.asarray(new_valid_lens)
    if new_ids.shape != token_ids.shape or not np.array_equal(token_ids, original):
        return False
    for n in range(20):
        row = list(original[n, :valid_lens[n]])
        del row[positions[n]]
        expected = row + [0] * (8 - len(row))
        if list(new_ids[n]) != expected or new_valid_lens[n] != len(row):
            return False
    return True


def order_blind_bound(data):
    """The best accuracy of any model that sees only (has a positive word, number of `not`s)."""
    positive = np.isin(data.token_ids, [WORD_TO_ID[w] for w in POSITIVE_WORDS]).any(axis=1)
    num_not = (data.token_ids == WORD_TO_ID[NEGATION]).sum(axis=1)
    correct = 0
    for key in set(zip(positive.tolist(), num_not.tolist())):
        group = data.labels[(positive == key[0]) & (num_not == key[1])]
        correct += max(group.sum(), len(group) - group.sum())
    return correct / len(data.labels)


#: The reviews of Exercise 8.4: the chapter's test settings, with a distractor in every review.
REVIEWS_8_4 = {**CHAPTER8_DATA["test"], "distractor_rate": 1.0}


@exercise("8.4", hint="Group the reviews by (positive word or not, number of `not`s) and let "
                      "each group vote for its most common label.")
def _(answer):
    data = make_reviews(**REVIEWS_8_4)
    return abs(float(answer) - order_blind_bound(data)) < 1e-3
