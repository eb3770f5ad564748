"""Chapter 7's exercise checks (`attn_lib/exercises/ch07.py`): right answers in several forms
pass; the classic mistakes fail with the hint that names them, without giving the answer away.

Answers are built with the public data functions, as the chapter's worked solutions build them,
or written out by hand as a learner would.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference
from attn_lib.data import CHAPTER7_DATA, alignment_accuracy, make_translation_data, translate_words

# ---------------------------------------------------------------------------------------------
# 7.1: the gold alignment of the exercise's sentence, one position per English word
#
#   kani(0) tini(1) na(2) pemo(3) rusa(4) ke(5) wo(6) zuna(7) en(8) suli(9) na(10) sapa(11)
#   the small child follows a red fish and the bird runs

words = "kani tini na pemo rusa ke wo zuna en suli na sapa".split()  # as in the task
gold = translate_words(words)[1]
by_hand = [2, 1, 0, 7, 5, 4, 3, 8, 10, 9, 11]

# ---------------------------------------------------------------------------------------------
# 7.2: one step of Bahdanau attention in NumPy


def bahdanau_step(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v, fill=-np.inf, offset=0,
                  features=np.tanh, mask_after=False, axis=1, inverted=False):
    """The worked solution; the keyword arguments reproduce the usual mistakes."""
    scores = features((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v  # (B, Ts)
    keep = np.arange(enc_outputs.shape[1]) < np.asarray(src_valid_lens)[:, None] + offset
    keep = ~keep if inverted else keep
    if not mask_after:
        scores = np.where(keep, scores, fill)
    with np.errstate(invalid="ignore"):  # nothing kept (inverted mask, full sentence): NaN
        weights = np.exp(scores - scores.max(axis=axis, keepdims=True))  # exp(-inf) = 0
        weights /= weights.sum(axis=axis, keepdims=True)
    if mask_after:
        weights = weights * keep
    return np.einsum("bj,bjh->bh", weights, enc_outputs), weights  # (B, h), (B, Ts)


def bahdanau_step_tf(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    features = tf.tanh((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k)  # (B, Ts, a)
    scores = tf.linalg.matvec(features, w_v)  # (B, Ts)
    keep = tf.sequence_mask(src_valid_lens, enc_outputs.shape[1])
    weights = tf.nn.softmax(tf.where(keep, scores, -np.inf))
    return tf.linalg.matvec(enc_outputs, weights, transpose_a=True), weights


def bahdanau_step_loop(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    """One sentence at a time, over its real positions only."""
    contexts, weights = [], np.zeros(enc_outputs.shape[:2])
    for b, n in enumerate(src_valid_lens):
        h = enc_outputs[b, :n]  # (n, h): the real positions
        scores = np.tanh(s_prev[b] @ W_q + h @ W_k) @ w_v  # (n,)
        weights[b, :n] = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        contexts.append(weights[b, :n] @ h)
    return np.stack(contexts), weights


def mask_by_multiplying(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    scores = np.tanh((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v
    keep = np.arange(enc_outputs.shape[1]) < np.asarray(src_valid_lens)[:, None]
    weights = reference.softmax(scores * keep, axis=1)  # a masked score becomes 0, not absent
    return (weights[..., None] * enc_outputs).sum(axis=1), weights


def context_of_projected_keys(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    _, weights = bahdanau_step(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v)
    return np.einsum("bj,bja->ba", weights, enc_outputs @ W_k), weights  # averages h_j W_k


def calls_reference(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    context, weights = reference.additive_attention(s_prev[:, None], enc_outputs, enc_outputs,
                                                    W_q, W_k, w_v, valid_lens=src_valid_lens)
    return context[:, 0], weights[:, 0]


def calls_masked_softmax(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v):
    scores = np.tanh((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v  # (B, Ts)
    weights = attn_lib.masked_softmax(scores[:, None, :], valid_lens=src_valid_lens)[:, 0]
    return np.einsum("bj,bjh->bh", weights.numpy(), enc_outputs), weights


# ---------------------------------------------------------------------------------------------
# 7.3: the diagonal baseline's alignment accuracy on the test set

data = make_translation_data(**CHAPTER7_DATA)
test = data.test


def diagonal(split, shift=0):
    """The worked solution: one weight 1 per target step t, in column
    min(t + shift, src_valid_lens - 1)."""
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


def counted_by_hand(split):
    """No alignment_accuracy: compare the diagonal with the gold column, word by word."""
    hits = total = 0
    for n in range(len(split.src)):
        for t in range(split.tgt_valid_lens[n] - 1):  # the words, not <eos>
            hits += min(t, split.src_valid_lens[n] - 1) == split.alignment[n, t].argmax()
            total += 1
    return hits / total


baseline = alignment_accuracy(diagonal(test), test.alignment, test.tgt_valid_lens)
hits = diagonal(test).argmax(-1) == test.alignment.argmax(-1)  # (N, Tt)
per_sentence = [alignment_accuracy(diagonal(test)[i:i + 1], test.alignment[i:i + 1],
                                   test.tgt_valid_lens[i:i + 1]) for i in range(len(test.src))]

EXPECTED = {"7.1": gold, "7.2": None, "7.3": baseline}

RIGHT = [
    pytest.param("7.1", by_hand, id="7.1-list-by-hand"),
    pytest.param("7.1", np.array(gold), id="7.1-numpy"),
    pytest.param("7.1", tuple(np.int64(j) for j in gold), id="7.1-tuple-of-int64"),
    pytest.param("7.1", tf.constant(by_hand), id="7.1-tf-tensor"),
    pytest.param("7.2", bahdanau_step, id="7.2-numpy-minus-inf"),
    pytest.param("7.2", bahdanau_step_tf, id="7.2-tf"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, fill=-1e9), id="7.2-numpy-minus-1e9"),
    pytest.param("7.2", bahdanau_step_loop, id="7.2-loop-over-sentences"),
    pytest.param("7.3", baseline, id="7.3-float"),
    pytest.param("7.3", alignment_accuracy(diagonal_vectorised(test), test.alignment,
                                           test.tgt_valid_lens), id="7.3-vectorised"),
    pytest.param("7.3", np.float32(counted_by_hand(test)), id="7.3-counted-by-hand-float32"),
    pytest.param("7.3", round(baseline, 3), id="7.3-printed-with-3-decimals"),
]

MISTAKES = [
    # 7.1
    pytest.param("7.1", [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11], "source_order",
                 id="7.1-source-order"),
    pytest.param("7.1", [0, 1, 2, 7, 3, 4, 5, 8, 9, 10, 11], "noun_phrase",
                 id="7.1-noun-phrases-kept"),
    pytest.param("7.1", [2, 0, 1, 7, 5, 3, 4, 8, 10, 9, 11], "noun_phrase",
                 id="7.1-determiner-noun-adjective"),
    pytest.param("7.1", [2, 1, 0, 5, 4, 3, 7, 8, 10, 9, 11], "verb",
                 id="7.1-verb-left-at-the-end"),
    pytest.param("7.1", [2, 1, 0, 7, 5, 4, 3, 10, 9, 11, 8], "conjunction", id="7.1-en-moved"),
    pytest.param("7.1", [2, 1, 0, 7, 5, 4, 3, 6, 8, 10, 9, 11], "wo", id="7.1-wo-translated"),
    pytest.param("7.1", gold + [len(words)], "eos", id="7.1-eos-position-appended"),
    pytest.param("7.1", gold + ["<eos>"], "eos", id="7.1-eos-token-appended"),
    pytest.param("7.1", [j + 1 for j in gold], "from_one", id="7.1-counted-from-1"),
    pytest.param("7.1", [2, 1, 0, 6, 5, 4, 3, 7, 9, 8, 10], "inverse",
                 id="7.1-target-position-of-each-source-word"),
    pytest.param("7.1", translate_words(words)[0], "words", id="7.1-english-words"),
    pytest.param("7.1", by_hand[:-1], "missing", id="7.1-last-verb-forgotten"),
    # 7.2
    pytest.param("7.2", lambda *args: bahdanau_step(*args, offset=100), "no_mask",
                 id="7.2-no-mask"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, offset=1), "off_by_one",
                 id="7.2-off-by-one"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, inverted=True, fill=-1e9),
                 "inverted_mask", id="7.2-inverted-mask"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, mask_after=True), "not_renormalised",
                 id="7.2-masked-after-softmax"),
    pytest.param("7.2", mask_by_multiplying, "multiplied", id="7.2-scores-multiplied-by-mask"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, features=lambda z: z), "no_tanh",
                 id="7.2-forgot-tanh"),
    pytest.param("7.2", lambda s, h, n, W_q, W_k, w_v: bahdanau_step(s, h, n, W_k, W_q, w_v),
                 "swapped_weights", id="7.2-W_q-and-W_k-swapped"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args, axis=0), "wrong_axis",
                 id="7.2-softmax-over-the-batch"),
    pytest.param("7.2", context_of_projected_keys, "context", id="7.2-context-of-h-W_k"),
    pytest.param("7.2", lambda *args: bahdanau_step(*args)[::-1], "order",
                 id="7.2-returns-weights-then-context"),
    pytest.param("7.2", calls_reference, "library", id="7.2-calls-reference"),
    pytest.param("7.2", calls_masked_softmax, "library", id="7.2-calls-masked_softmax"),
    # 7.3
    pytest.param("7.3", alignment_accuracy(diagonal(test, shift=1), test.alignment,
                                           test.tgt_valid_lens), "shifted",
                 id="7.3-shifted-for-bos"),
    pytest.param("7.3", alignment_accuracy(diagonal(data.train), data.train.alignment,
                                           data.train.tgt_valid_lens), "train_split",
                 id="7.3-training-split"),
    pytest.param("7.3", alignment_accuracy(diagonal(test), test.alignment, test.tgt_valid_lens,
                                           include_eos=True), "eos_counted",
                 id="7.3-eos-step-counted"),
    pytest.param("7.3", np.mean(per_sentence), "sentence_mean",
                 id="7.3-mean-of-sentence-accuracies"),
    pytest.param("7.3", float(hits.mean()), "padding_counted", id="7.3-padded-rows-counted"),
    pytest.param("7.3", 100 * baseline, "percent", id="7.3-percent"),
    pytest.param("7.3", 0.83, "trained_model", id="7.3-the-trained-models-accuracy"),
    # what the function returns, passed instead of the function
    pytest.param("7.2", (np.zeros((3, 6)), np.zeros((3, 5))), "not_function",
                 id="7.2-context-and-weights-not-the-function"),
]


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch07", RIGHT, MISTAKES, EXPECTED)
