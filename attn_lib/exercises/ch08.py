"""Self-checks for Chapter 8, a self-attention classifier.

Each check recognises the classic mistakes of its exercise (every `not` flipping the review,
padding multiplied by a mask, the valid length kept, groups that ignore the count of `not`s,
...) and names the one it finds.
"""

import numpy as np

from attn_lib.data.reviews import (
    CHAPTER8_DATA,
    NEGATION,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    WORD_TO_ID,
    make_reviews,
    rule_label,
)
from attn_lib.exercises import exercise

# ---------------------------------------------------------------------------------------------
# 8.1: the labels the rule gives six reviews

#: The reviews of Exercise 8.1, in the order the answer lists their labels.
REVIEWS_8_1 = (
    "the plot was not bad",
    "not the plot was good",
    "good not long",
    "not not good",
    "the cast was not boring and the music not long",
    "not superb",
)


def _sentiment(word):
    return 1 if word in POSITIVE_WORDS else -1 if word in NEGATIVE_WORDS else 0


def _label(total):
    return int(total > 0)


def _every_not_flips(words):
    """A bag of words: each `not`, wherever it is, flips the review."""
    flips = words.count(NEGATION) % 2
    return _label(sum(map(_sentiment, words)) * (-1) ** flips)


def _not_flips_what_follows(words):
    """A `not` flips every sentiment word after it; two `not`s cancel."""
    total, flipped = 0, False
    for word in words:
        flipped ^= word == NEGATION
        total += -_sentiment(word) if flipped else _sentiment(word)
    return _label(total)


def _double_not_cancels(words):
    """The rule, except that `not not` before a sentiment word cancels."""
    total = 0
    for i, word in enumerate(words):
        negations = 0
        while i - 1 - negations >= 0 and words[i - 1 - negations] == NEGATION:
            negations += 1
        total += _sentiment(word) * (-1) ** negations
    return _label(total)


def _not_flips_the_word_before(words):
    total = 0
    for i, word in enumerate(words):
        negated = i + 1 < len(words) and words[i + 1] == NEGATION
        total += -_sentiment(word) if negated else _sentiment(word)
    return _label(total)


def _no_negation(words):
    return _label(sum(map(_sentiment, words)))


@exercise(
    "8.1",
    hint="Apply the rule review by review: a sentiment word counts for its sign, flipped when "
         "the word directly before it is `not`; 1 is positive, 0 negative.",
    mistakes={
        "every_not": "In the rule a `not` flips only the sentiment word directly after it; a "
                     "`not` before a neutral word (a distractor) changes nothing.",
        "scope": "A `not` does not flip everything after it: only the word directly after "
                 "it, and only if that is a sentiment word.",
        "double_not": "Two `not`s do not cancel in this rule: only the word directly before "
                      "the sentiment word counts, and a `not` before a `not` changes nothing.",
        "word_before": "A `not` flips the word *after* it (\"not good\"), not the one before "
                       "it.",
        "no_negation": "You labelled the sentiment words alone: a `not` directly before one "
                       "flips it.",
        "inverted": "Check the convention: 1 means positive and 0 negative.",
        "count": "Give one label per review: six labels, in the order of the list.",
        "words": "Give the labels as numbers, 1 for positive and 0 for negative.",
    },
)
def _(answer):
    if isinstance(answer, str):
        raise TypeError("expected a list of six labels; got a string")
    items = list(answer)
    if any(isinstance(item, str) for item in items):
        return "words"
    if len(items) != len(REVIEWS_8_1):
        return "count"
    labels = [int(item) for item in items]
    reviews = [text.split() for text in REVIEWS_8_1]
    if labels == [rule_label(words) for words in reviews]:
        return True
    slips = [("every_not", _every_not_flips), ("scope", _not_flips_what_follows),
             ("double_not", _double_not_cancels), ("word_before", _not_flips_the_word_before),
             ("no_negation", _no_negation),
             ("inverted", lambda words: 1 - rule_label(words))]
    return next((name for name, rule in slips
                 if labels == [rule(words) for words in reviews]), False)


# ---------------------------------------------------------------------------------------------
# 8.2: the masked mean of h (B, T, d) over each review's valid_lens


def _masked_mean(h, valid_lens, keep=None, select=True, divisor=None):
    """The mean over the kept positions; the keywords reproduce the usual mistakes."""
    h = np.asarray(h, dtype=np.float64)
    if keep is None:
        keep = np.arange(h.shape[1])[None, :] < np.asarray(valid_lens)[:, None]  # (B, T)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        total = (np.where(keep[..., None], h, 0.0) if select else h * keep[..., None]).sum(1)
        if divisor is None:
            divisor = np.maximum(keep.sum(axis=1, keepdims=True), 1)
        return total / divisor


@exercise(
    "8.2",
    hint="Padding may hold anything, even NaN: select the real positions with a mask (np.where) "
         "rather than multiplying by it, and divide by each review's own length.",
    mistakes={
        "multiplied": "Multiplying by a 0/1 mask does not remove the padding: NaN * 0 is NaN "
                      "(and inf * 0 too). Select the real positions instead, e.g. with "
                      "np.where.",
        "divided_by_T": "You divided by the padded length T: divide by each review's own "
                        "number of real words.",
        "plain_mean": "A plain mean over the positions includes the padding: average over "
                      "the first valid_lens[b] positions of each review only.",
        "nanmean": "np.nanmean skips NaN, but padding can hold any number (here huge ones "
                   "too): select the real positions by their index, not by their value.",
        "empty_review": "Your means are right except for a review with valid length 0, where "
                        "you divide 0 by 0: the task asks for zeros there.",
        "off_by_one": "You average one position too many or too few: the real words of "
                      "review b are positions 0 to valid_lens[b] - 1.",
        "sum": "That is the sum over the real words: divide it by their number.",
        "wrong_axis": "The mean runs over the positions (axis 1) of each review: the result "
                      "has one d-vector per review, shape (B, d).",
    },
    takes_function=True,
)
def _(answer):
    rng = np.random.default_rng(8)
    h = rng.normal(size=(4, 6, 3)).astype("float32")
    valid_lens = np.array([2, 6, 0, 4])
    h[0, 2:] = np.nan
    h[3, 4:] = 1e30
    got = np.asarray(answer(h.copy(), valid_lens.copy()), dtype=np.float64)
    if got.shape in ((4, 6), (6, 3)):
        return "wrong_axis"
    if got.shape != (4, 3):
        raise ValueError(f"expected one mean per review, (B, d) = (4, 3); got {got.shape}")
    expected = _masked_mean(h, valid_lens)
    if np.allclose(got, expected, atol=1e-5):
        return True
    real = valid_lens > 0  # the reviews with words: the slips below differ there

    def same(want):
        return np.allclose(got[real], want[real], atol=1e-5, rtol=1e-5, equal_nan=True)

    positions = np.arange(h.shape[1])[None, :]
    with np.errstate(invalid="ignore", over="ignore"):
        slips = [("multiplied", _masked_mean(h, valid_lens, select=False)),
                 ("divided_by_T", _masked_mean(h, valid_lens, divisor=h.shape[1])),
                 ("plain_mean", h.astype(np.float64).mean(axis=1)),
                 ("nanmean", np.nanmean(h.astype(np.float64), axis=1)),
                 ("off_by_one", _masked_mean(h, valid_lens,
                                             keep=positions < valid_lens[:, None] + 1)),
                 ("off_by_one", _masked_mean(h, valid_lens,
                                             keep=positions < valid_lens[:, None] - 1)),
                 ("sum", _masked_mean(h, valid_lens, divisor=1.0))]
    name = next((name for name, want in slips if same(want)), None)
    if name:
        return name
    return "empty_review" if same(expected) else False


# ---------------------------------------------------------------------------------------------
# 8.3: delete word positions[n] of review n


def _deleted(token_ids, valid_lens, positions):
    """Word positions[n] of row n removed, the words after it moved left, a 0 at the end."""
    rows = [row[:p] + row[p + 1:] + [0] for row, p in zip(token_ids.tolist(), positions)]
    return np.array(rows), np.asarray(valid_lens) - 1


@exercise(
    "8.3",
    hint="Shift the words after the deleted one a place to the left, put a 0 at the end, and "
         "shorten the valid length by one; work on copies.",
    mistakes={
        "length_kept": "The words are right, but the valid length must drop by one: the "
                       "review has one word less.",
        "hole": "Setting the word to 0 leaves a hole of padding inside the review: move the "
                "words after it a place to the left instead.",
        "off_by_one": "You deleted a neighbour of the word at `positions[n]`: positions count "
                      "from 0, like the columns of token_ids.",
        "modified_input": "Your function changed the arrays it was given (token_ids or "
                          "valid_lens): work on copies (np.copy or the .copy() method), so "
                          "the original reviews stay as they were.",
        "no_zero_fill": "In a review that fills the whole row, the last column still holds the "
                        "old last word after the shift: write a 0 there.",
        "narrower": "Keep the width T of token_ids: after deleting a word, pad each row with "
                    "a 0 at the end.",
    },
    takes_function=True,
)
def _(answer):
    rng = np.random.default_rng(3)
    valid_lens = rng.integers(1, 8, size=20)
    valid_lens[0] = 8  # a full row: the 0 at the end must be written, not found
    token_ids = np.zeros((20, 8), dtype=np.int32)
    for n, length in enumerate(valid_lens):
        token_ids[n, :length] = rng.integers(1, 30, size=length)
    positions = rng.integers(0, valid_lens)
    original_ids, original_lens = token_ids.copy(), valid_lens.copy()
    result = answer(token_ids, valid_lens, positions.copy())
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("expected the pair (token_ids, valid_lens)")
    new_ids, new_lens = (np.asarray(r) for r in result)
    if not (np.array_equal(token_ids, original_ids) and np.array_equal(valid_lens,
                                                                       original_lens)):
        return "modified_input"
    if new_ids.shape == (20, 7):
        return "narrower"
    if new_ids.shape != token_ids.shape or new_lens.shape != valid_lens.shape:
        raise ValueError(f"expected token_ids of shape {token_ids.shape} and valid_lens of "
                         f"shape {valid_lens.shape}; got {new_ids.shape} and "
                         f"{new_lens.shape}")
    expected_ids, expected_lens = _deleted(original_ids, original_lens, positions)
    ids_right = np.array_equal(new_ids, expected_ids)
    if ids_right:
        if np.array_equal(new_lens, expected_lens):
            return True
        return "length_kept" if np.array_equal(new_lens, original_lens) else False
    hole = original_ids.copy()
    hole[np.arange(20), positions] = 0
    width = original_ids.shape[1]
    last_kept = expected_ids.copy()
    last_kept[:, -1] = original_ids[:, -1]  # the last column never written
    slips = [("hole", hole),
             ("no_zero_fill", last_kept),
             ("off_by_one", _deleted(original_ids, original_lens,
                                     np.minimum(positions + 1, width - 1))[0]),
             ("off_by_one", _deleted(original_ids, original_lens,
                                     np.maximum(positions - 1, 0))[0])]
    return next((name for name, want in slips if np.array_equal(new_ids, want)), False)


# ---------------------------------------------------------------------------------------------
# 8.4: the best accuracy of an order-blind model when every review has a distractor


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


def _majority(labels):
    return max(labels.mean(), 1 - labels.mean())


@exercise(
    "8.4",
    hint="Group the reviews by what an order-blind model can see (is there a positive word, "
         "how many `not`s) and let each group vote for its most common label.",
    mistakes={
        "coarse_groups": "Your groups are too coarse (or you used none): an order-blind model "
                         "sees which words occur *and how often*. Group the reviews by both "
                         "(a positive word or not, the number of `not`s) and let each group "
                         "vote.",
        "chapter_test_set": "That is the bound on the chapter's test set, where only half the "
                            "reviews have a distractor: generate the reviews again with "
                            "distractor_rate=1.0.",
        "chance": "An order-blind model is not reduced to guessing: it still sees which words "
                  "occur and how often. Compute the best accuracy such a model can reach.",
        "error_rate": "That is the share of reviews the best order-blind model gets wrong; "
                      "the exercise asks for its accuracy.",
        "percent": "Give the accuracy as a fraction between 0 and 1, not as a percentage.",
    },
)
def _(answer):
    answer = float(np.asarray(answer, dtype=np.float64).reshape(()))
    data = make_reviews(**REVIEWS_8_4)
    expected = order_blind_bound(data)
    if abs(answer - expected) < 1e-3:
        return True
    slips = [("coarse_groups", _majority(data.labels)),
             ("chapter_test_set", order_blind_bound(make_reviews(**CHAPTER8_DATA["test"]))),
             ("chance", 0.5), ("error_rate", 1 - expected), ("percent", 100 * expected)]
    return next((name for name, value in slips
                 if abs(answer - value) < 1e-3 * max(1.0, value)), False)
