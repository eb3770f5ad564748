"""Chapter 8's exercise checks (`attn_lib/exercises/ch08.py`): right answers in several forms
pass; the classic mistakes fail with the hint that names them, without giving the answer away.

Answers are built with the public data functions, as the chapter's worked solutions build them,
or written out by hand as a learner would.
"""

import re
import warnings

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib.data import CHAPTER8_DATA, make_reviews, rule_label
from attn_lib.data.reviews import NEGATION, NEGATIVE_WORDS, POSITIVE_WORDS, WORD_TO_ID

# ---------------------------------------------------------------------------------------------
# 8.1: the rule's labels of six reviews

reviews_8_1 = ["the plot was not bad", "not the plot was good", "good not long", "not not good",
               "the cast was not boring and the music not long", "not superb"]  # as in the task
labels = [rule_label(text.split()) for text in reviews_8_1]
by_hand = [1, 1, 1, 0, 1, 0]


def sentiment(word):
    return 1 if word in POSITIVE_WORDS else -1 if word in NEGATIVE_WORDS else 0


def bag_of_words_label(words):
    """Every `not` in the review flips it, wherever it is."""
    total = sum(sentiment(word) for word in words)
    return int((total > 0) != (words.count(NEGATION) % 2 == 1))


def scope_label(words):
    """A `not` flips every sentiment word after it; two `not`s cancel."""
    total, flipped = 0, False
    for word in words:
        flipped ^= word == NEGATION
        total += -sentiment(word) if flipped else sentiment(word)
    return int(total > 0)


def label_by_pairs(text):
    """Each word with the one before it: a sentiment word after `not` is flipped."""
    words = text.split()
    total = sum(-sentiment(word) if before == NEGATION else sentiment(word)
                for before, word in zip([None] + words, words))
    return int(total > 0)


def label_by_regex(text):
    """A learner's shortcut: a word preceded by "not " is flipped; but in "not not good" the
    regular expression takes "not not" as a pair, so "good" is not flipped."""
    total = 0
    for match in re.finditer(r"(\bnot )?\b(\w+)\b", text):
        total += -sentiment(match[2]) if match[1] else sentiment(match[2])
    return int(total > 0)


# ---------------------------------------------------------------------------------------------
# 8.2: the masked mean of h (B, T, d) over each review's valid_lens


def masked_mean(h, valid_lens, divisor=None, select=True, offset=0):
    """The worked solution; `divisor`, `select=False` and `offset` reproduce the usual
    mistakes."""
    keep = np.arange(np.shape(h)[1])[None, :] < np.asarray(valid_lens)[:, None] + offset
    total = (np.where(keep[..., None], h, 0.0) if select else h * keep[..., None]).sum(axis=1)
    if divisor is None:
        divisor = np.maximum(keep.sum(axis=1, keepdims=True), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / divisor


def masked_mean_tf(h, valid_lens):
    keep = tf.sequence_mask(valid_lens, h.shape[1])[..., None]  # (B, T, 1)
    total = tf.reduce_sum(tf.where(keep, h, 0.0), axis=1)
    return total / tf.maximum(tf.reduce_sum(tf.cast(keep, h.dtype), axis=1), 1.0)


def masked_mean_loop(h, valid_lens):
    return np.stack([h[n, :length].mean(axis=0) if length else np.zeros(h.shape[-1])
                     for n, length in enumerate(valid_lens)])


def masked_mean_nan_to_num(h, valid_lens):
    """Zero the padding first (NaN and all), then a plain sum over the real count."""
    keep = np.arange(h.shape[1]) < valid_lens[:, None]
    cleaned = np.nan_to_num(h) * keep[..., None]  # nan_to_num: no NaN * 0
    return cleaned.sum(axis=1) / np.maximum(valid_lens, 1)[:, None]


def mean_per_review(h, valid_lens):
    """A loop without a special case: the mean of no words is NaN."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice"
        return np.stack([h[n, :length].mean(axis=0) for n, length in enumerate(valid_lens)])


# ---------------------------------------------------------------------------------------------
# 8.3: delete word positions[n] of review n


def delete_word(token_ids, valid_lens, positions):
    """The worked solution."""
    token_ids = np.array(token_ids)
    columns = np.arange(token_ids.shape[1])[None, :]  # (1, T)
    source = np.minimum(columns + (columns >= np.asarray(positions)[:, None]),
                        token_ids.shape[1] - 1)  # (N, T)
    new_ids = np.take_along_axis(token_ids, source, axis=1)
    new_valid_lens = np.asarray(valid_lens) - 1
    new_ids[columns >= new_valid_lens[:, None]] = 0
    return new_ids, new_valid_lens


def delete_word_rows(token_ids, valid_lens, positions):
    rows = [list(np.delete(row, p)) + [0] for row, p in zip(token_ids, positions)]
    return rows, [int(length) - 1 for length in valid_lens]


def shift_left(token_ids, valid_lens, positions, zero_fill=True, copy=True, shorten=True):
    """Move the words after the deleted one left; the keywords reproduce the usual mistakes."""
    new_ids = np.array(token_ids) if copy else token_ids
    for n, p in enumerate(positions):
        new_ids[n, p:-1] = new_ids[n, p + 1:].copy()
        if zero_fill:
            new_ids[n, -1] = 0
    return new_ids, np.asarray(valid_lens) - 1 if shorten else valid_lens


def delete_word_boolean_index(token_ids, valid_lens, positions):
    """Keep every column but the deleted one, then append a 0."""
    columns = np.arange(np.shape(token_ids)[1])
    new_ids = np.stack([np.append(row[columns != p], 0) for row, p in zip(token_ids,
                                                                           positions)])
    return new_ids, valid_lens - 1


def replaced_by_0(token_ids, valid_lens, positions):
    new_ids = np.array(token_ids)
    new_ids[np.arange(len(new_ids)), positions] = 0  # a hole, nothing moves
    return new_ids, np.asarray(valid_lens) - 1


def lengths_shortened_in_place(token_ids, valid_lens, positions):
    new_ids, _ = delete_word(token_ids, valid_lens, positions)
    valid_lens -= 1  # changes the caller's array
    return new_ids, valid_lens


# ---------------------------------------------------------------------------------------------
# 8.4: the best order-blind accuracy when every review has a distractor

always = make_reviews(**{**CHAPTER8_DATA["test"], "distractor_rate": 1.0})  # as in the task


def order_blind_bound(data, grouping=lambda positive, nots: zip(positive, nots)):
    """Each group of reviews with the same key votes for its most common label."""
    positive = np.isin(data.token_ids, [WORD_TO_ID[w] for w in POSITIVE_WORDS]).any(axis=1)
    nots = (data.token_ids == WORD_TO_ID[NEGATION]).sum(axis=1)
    keys = list(grouping(positive.tolist(), nots.tolist()))
    correct = 0
    for key in set(keys):
        group = data.labels[[k == key for k in keys]]
        correct += max(group.sum(), len(group) - group.sum())
    return correct / len(data.labels)


def order_blind_bound_vectorised(data):
    positive = np.isin(data.token_ids, [WORD_TO_ID[w] for w in POSITIVE_WORDS]).any(axis=1)
    nots = (data.token_ids == WORD_TO_ID[NEGATION]).sum(axis=1)
    _, group = np.unique(np.stack([positive, nots], axis=1), axis=0, return_inverse=True)
    ones = np.bincount(group.ravel(), weights=data.labels)
    sizes = np.bincount(group.ravel())
    return np.maximum(ones, sizes - ones).sum() / len(data.labels)


bound = order_blind_bound(always)

EXPECTED = {"8.1": labels, "8.2": None, "8.3": None, "8.4": bound}

RIGHT = [
    pytest.param("8.1", by_hand, id="8.1-list-by-hand"),
    pytest.param("8.1", np.array(labels, dtype=np.int32), id="8.1-numpy-int32"),
    pytest.param("8.1", tuple(bool(label) for label in labels), id="8.1-tuple-of-bools"),
    pytest.param("8.1", [label_by_pairs(text) for text in reviews_8_1], id="8.1-word-pairs"),
    pytest.param("8.2", masked_mean, id="8.2-numpy-where"),
    pytest.param("8.2", masked_mean_tf, id="8.2-tf"),
    pytest.param("8.2", masked_mean_loop, id="8.2-loop-over-reviews"),
    pytest.param("8.2", masked_mean_nan_to_num, id="8.2-nan_to_num-then-multiply"),
    pytest.param("8.3", delete_word, id="8.3-take_along_axis"),
    pytest.param("8.3", delete_word_rows, id="8.3-lists-from-np-delete"),
    pytest.param("8.3", shift_left, id="8.3-shift-left-loop"),
    pytest.param("8.3", delete_word_boolean_index, id="8.3-boolean-index-then-append-0"),
    pytest.param("8.4", bound, id="8.4-float"),
    pytest.param("8.4", order_blind_bound_vectorised(always), id="8.4-vectorised"),
    pytest.param("8.4", np.float32(bound), id="8.4-float32"),
    pytest.param("8.4", 1, id="8.4-predicted-by-hand"),
]

MISTAKES = [
    # 8.1
    pytest.param("8.1", [bag_of_words_label(text.split()) for text in reviews_8_1],
                 "every_not", id="8.1-any-not-flips"),
    pytest.param("8.1", [scope_label(text.split()) for text in reviews_8_1], "scope",
                 id="8.1-not-flips-all-that-follows"),
    pytest.param("8.1", [1, 1, 1, 1, 1, 0], "double_not", id="8.1-not-not-cancels"),
    pytest.param("8.1", [label_by_regex(text) for text in reviews_8_1], "double_not",
                 id="8.1-regex-pairs-not-not"),
    pytest.param("8.1", [0, 1, 0, 1, 0, 1], "word_before", id="8.1-not-flips-the-word-before"),
    pytest.param("8.1", [0, 1, 1, 1, 0, 1], "no_negation", id="8.1-not-ignored"),
    pytest.param("8.1", [1 - label for label in labels], "inverted", id="8.1-labels-inverted"),
    pytest.param("8.1", labels[:-1], "count", id="8.1-five-labels"),
    pytest.param("8.1", ["positive", "positive", "positive", "negative", "positive",
                         "negative"], "words", id="8.1-labels-as-words"),
    # 8.2
    pytest.param("8.2", lambda h, lens: masked_mean(h, lens, select=False), "multiplied",
                 id="8.2-multiplied-by-mask"),
    pytest.param("8.2", lambda h, lens: masked_mean(h, lens, divisor=h.shape[1]),
                 "divided_by_T", id="8.2-divided-by-T"),
    pytest.param("8.2", lambda h, lens: h.mean(axis=1), "plain_mean", id="8.2-plain-mean"),
    pytest.param("8.2", lambda h, lens: np.nanmean(h, axis=1), "nanmean",
                 id="8.2-nanmean-skips-only-nan"),
    pytest.param("8.2", lambda h, lens: masked_mean(h, lens, divisor=lens[:, None]),
                 "empty_review", id="8.2-empty-review-divides-by-0"),
    pytest.param("8.2", mean_per_review, "empty_review", id="8.2-loop-mean-of-nothing"),
    pytest.param("8.2", lambda h, lens: masked_mean(h, lens, offset=1), "off_by_one",
                 id="8.2-one-padded-position-kept"),
    pytest.param("8.2", lambda h, lens: masked_mean(h, lens, divisor=1.0), "sum",
                 id="8.2-sum-not-mean"),
    pytest.param("8.2", lambda h, lens: masked_mean(h.transpose(0, 2, 1),
                                                    lens[:, None].repeat(3, 1)[:, 0]),
                 "wrong_axis", id="8.2-mean-over-features"),
    # 8.3
    pytest.param("8.3", lambda *args: shift_left(*args, shorten=False), "length_kept",
                 id="8.3-length-kept"),
    pytest.param("8.3", replaced_by_0, "hole", id="8.3-replaced-by-0"),
    pytest.param("8.3", lambda ids, lens, positions: shift_left(ids, lens, positions + 1),
                 "off_by_one", id="8.3-deleted-the-next-word"),
    pytest.param("8.3", lambda *args: shift_left(*args, copy=False), "modified_input",
                 id="8.3-token_ids-modified"),
    pytest.param("8.3", lengths_shortened_in_place, "modified_input",
                 id="8.3-valid_lens-modified"),
    pytest.param("8.3", lambda *args: shift_left(*args, zero_fill=False), "no_zero_fill",
                 id="8.3-no-0-at-the-end"),
    pytest.param("8.3", lambda ids, lens, positions: (
        np.stack([np.delete(row, p) for row, p in zip(ids, positions)]), lens - 1),
        "narrower", id="8.3-np.delete-without-padding"),
    # 8.4
    pytest.param("8.4", order_blind_bound(always, lambda positive, nots: positive),
                 "coarse_groups", id="8.4-grouped-by-sentiment-only"),
    pytest.param("8.4", order_blind_bound(always, lambda positive, nots: zip(
        positive, [n > 0 for n in nots])), "coarse_groups", id="8.4-any-not-not-count"),
    pytest.param("8.4", max(always.labels.mean(), 1 - always.labels.mean()), "coarse_groups",
                 id="8.4-majority-label"),
    pytest.param("8.4", order_blind_bound(make_reviews(**CHAPTER8_DATA["test"])),
                 "chapter_test_set", id="8.4-chapter-test-set"),
    pytest.param("8.4", 0.5, "chance", id="8.4-predicted-chance"),
    pytest.param("8.4", 1 - bound, "error_rate", id="8.4-error-rate"),
    pytest.param("8.4", 100 * bound, "percent", id="8.4-percent"),
    # what the function returns, passed instead of the function
    pytest.param("8.2", np.zeros((4, 3)), "not_function", id="8.2-pooled-not-the-function"),
    pytest.param("8.3", (np.zeros((20, 8)), np.zeros(20)), "not_function",
                 id="8.3-ids-and-lengths-not-the-function"),
]


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch08", RIGHT, MISTAKES, EXPECTED)
