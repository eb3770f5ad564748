"""Chapter 7's exercise checks (`attn_lib/exercises/ch07.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.

Answers are built with the public data functions, as the chapter's worked solutions build them.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import reference
from attn_lib.data import CHAPTER7_DATA, alignment_accuracy, make_translation_data, translate_words

# ---------------------------------------------------------------------------------------------
# 7.1: the gold alignment of the exercise's sentence

words = "kani tini na pemo rusa ke wo zuna en suli na sapa".split()  # as in the task
gold = translate_words(words)[1]


def chunks(alignment):
    """Runs of consecutive source positions read backwards: the reversed noun phrases."""
    runs = [[alignment[0]]]
    for j in alignment[1:]:
        if j == runs[-1][-1] - 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    return runs


noun_phrases_kept = [j for run in chunks(gold) for j in reversed(run)]
verbs_left_at_the_end = [j for run in sorted(chunks(gold), key=min) for j in run]
en_at = gold.index(words.index("en"))
with_wo = gold[:en_at] + [words.index("wo")] + gold[en_at:]  # after the object it marks
en_last = [j for j in gold if j != words.index("en")] + [words.index("en")]

# ---------------------------------------------------------------------------------------------
# 7.2: one step of Bahdanau attention in NumPy


def bahdanau_step(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v, fill=-np.inf, offset=0,
                  features=np.tanh, mask_after=False):
    """The worked solution; the keyword arguments reproduce the usual mistakes."""
    scores = features((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v  # (B, Ts)
    keep = np.arange(enc_outputs.shape[1]) < np.asarray(src_valid_lens)[:, None] + offset
    if not mask_after:
        scores = np.where(keep, scores, fill)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))  # exp(-inf) = 0
    weights /= weights.sum(axis=1, keepdims=True)
    if mask_after:
        weights = weights * keep
    return np.einsum("bj,bjh->bh", weights, enc_outputs), weights  # (B, h), (B, Ts)


def bahdanau_step_tf(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    features = tf.tanh((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k)  # (B, Ts, a)
    scores = tf.linalg.matvec(features, w_v)  # (B, Ts)
    keep = tf.sequence_mask(src_valid_lens, enc_outputs.shape[1])
    weights = tf.nn.softmax(tf.where(keep, scores, -np.inf))
    return tf.linalg.matvec(enc_outputs, weights, transpose_a=True), weights


def mask_by_multiplying(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    scores = np.tanh((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v
    keep = np.arange(enc_outputs.shape[1]) < np.asarray(src_valid_lens)[:, None]
    weights = reference.softmax(scores * keep, axis=1)  # a masked score becomes 0, not absent
    return (weights[..., None] * enc_outputs).sum(axis=1), weights


# ---------------------------------------------------------------------------------------------
# 7.3: the diagonal baseline's alignment accuracy on the test set

data = make_translation_data(**CHAPTER7_DATA)
test = data.test


def diagonal(split, shift=0):
    """One weight 1 per target step t, in column min(t + shift, src_valid_lens - 1)."""
    n, tt, ts = split.alignment.shape
    weights = np.zeros((n, tt, ts))
    for i in range(n):
        weights[i, np.arange(tt), np.minimum(np.arange(tt) + shift,
                                             split.src_valid_lens[i] - 1)] = 1.0
    return weights


def diagonal_vectorised(split):
    n, tt, ts = split.alignment.shape
    columns = np.minimum(np.arange(tt)[None, :], split.src_valid_lens[:, None] - 1)  # (N, Tt)
    return np.eye(ts)[columns]  # (N, Tt, Ts)


baseline = alignment_accuracy(diagonal(test), test.alignment, test.tgt_valid_lens)
per_sentence = [alignment_accuracy(diagonal(test)[i:i + 1], test.alignment[i:i + 1],
                                   test.tgt_valid_lens[i:i + 1]) for i in range(len(test.src))]

EXPECTED = {"7.1": gold, "7.2": None, "7.3": baseline}

RIGHT = [
    pytest.param("7.1", gold, id="7.1-list"),
    pytest.param("7.1", np.array(gold), id="7.1-numpy"),
    pytest.param("7.1", tuple(np.int64(j) for j in gold), id="7.1-tuple-of-int64"),
    pytest.param("7.2", bahdanau_step, id="7.2-numpy-minus-inf"),
    pytest.param("7.2", bahdanau_step_tf, id="7.2-tf"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, fill=-1e9), id="7.2-numpy-minus-1e9"),
    pytest.param("7.3", baseline, id="7.3-float"),
    pytest.param("7.3", alignment_accuracy(diagonal_vectorised(test), test.alignment,
                                           test.tgt_valid_lens), id="7.3-vectorised"),
    pytest.param("7.3", np.float32(baseline), id="7.3-float32"),
]

WRONG = [
    # 7.1
    pytest.param("7.1", [j for j, word in enumerate(words) if word != "wo"],
                 "English order is subject, verb, object", id="7.1-source-order"),
    pytest.param("7.1", noun_phrases_kept, "English reverses it", id="7.1-noun-phrases-kept"),
    pytest.param("7.1", verbs_left_at_the_end, "subject, verb, object, clause by clause",
                 id="7.1-verb-left-at-the-end"),
    pytest.param("7.1", with_wo, "'wo' has no English word", id="7.1-wo-translated"),
    pytest.param("7.1", en_last, "'en' stays where it is", id="7.1-en-moved"),
    pytest.param("7.1", translate_words(words)[0], "invalid literal for int()",
                 id="7.1-english-words-not-positions"),
    # generic: the hint does not say that positions count from 0
    pytest.param("7.1", [j + 1 for j in gold], "English order", id="7.1-counted-from-1"),
    # 7.2
    pytest.param("7.2", lambda *args: bahdanau_step(*args, offset=np.inf),
                 "set the scores of positions j >= src_valid_lens to -inf", id="7.2-no-mask"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, offset=1), "j >= src_valid_lens",
                 id="7.2-off-by-one"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, mask_after=True),
                 "-inf before the softmax", id="7.2-masked-after-softmax"),
    pytest.param("7.2", mask_by_multiplying, "-inf before the softmax (exp gives exactly 0)",
                 id="7.2-scores-multiplied-by-mask"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, features=lambda z: z),
                 "w_v · tanh(s W_q + h_j W_k)", id="7.2-forgot-tanh"),
    pytest.param("7.2", lambda s, h, n, W_q, W_k, w_v: bahdanau_step(s, h, n, W_k, W_q, w_v),
                 "tanh(s W_q + h_j W_k)", id="7.2-W_q-and-W_k-swapped"),
    # generic: outputs in the wrong order fail the shape test without a word about shapes
    pytest.param("7.2", lambda *args: bahdanau_step(*args)[::-1], "w_v · tanh",
                 id="7.2-returns-weights-then-context"),
    # 7.3
    pytest.param("7.3", alignment_accuracy(diagonal(test, shift=1), test.alignment,
                                           test.tgt_valid_lens),
                 "in column min(t, src_valid_lens - 1)", id="7.3-shifted-for-bos"),
    pytest.param("7.3", alignment_accuracy(diagonal(data.train), data.train.alignment,
                                           data.train.tgt_valid_lens),
                 "test.alignment", id="7.3-training-split"),
    # generic: the hint gives the recipe, not what differs
    pytest.param("7.3", alignment_accuracy(diagonal(test), test.alignment, test.tgt_valid_lens,
                                           include_eos=True),
                 "pass them to alignment_accuracy", id="7.3-eos-step-counted"),
    pytest.param("7.3", np.mean(per_sentence), "pass them to alignment_accuracy",
                 id="7.3-mean-of-sentence-accuracies"),
    pytest.param("7.3", 100 * baseline, "pass them to alignment_accuracy", id="7.3-percent"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch07", RIGHT, WRONG, EXPECTED)
