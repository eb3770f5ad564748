"""Self-checks for Chapter 7, encoder–decoder attention."""

import numpy as np

from attn_lib import reference
from attn_lib.data.translation import (
    CHAPTER7_DATA,
    alignment_accuracy,
    make_translation_data,
    translate_words,
)
from attn_lib.exercises import exercise

EXERCISE_SENTENCE = "kani tini na pemo rusa ke wo zuna en suli na sapa"


@exercise("7.1", hint="English order is subject, verb, object, clause by clause; inside a noun "
                      "phrase the source has noun, adjectives, determiner and English reverses "
                      "it; 'wo' has no English word, and 'en' stays where it is.")
def _(answer):
    expected = translate_words(EXERCISE_SENTENCE.split())[1]
    return [int(j) for j in answer] == expected


@exercise("7.2", hint="Scores are w_v · tanh(s W_q + h_j W_k) for every source position j; set "
                      "the scores of positions j >= src_valid_lens to -inf before the softmax "
                      "(exp gives exactly 0), then average the encoder outputs with the "
                      "weights.")
def _(answer):
    rng = np.random.default_rng(7)
    for batch, length, size, hidden in [(3, 5, 6, 4), (2, 1, 3, 2), (4, 7, 5, 8)]:
        s_prev = rng.normal(size=(batch, size))
        enc_outputs = rng.normal(size=(batch, length, size))
        src_valid_lens = rng.integers(1, length + 1, size=batch)
        W_q, W_k = rng.normal(size=(size, hidden)), rng.normal(size=(size, hidden))
        w_v = rng.normal(size=hidden)
        context, weights = answer(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v)
        expected, expected_weights = reference.additive_attention(
            s_prev[:, None, :], enc_outputs, enc_outputs, W_q, W_k, w_v,
            valid_lens=src_valid_lens)
        context, weights = np.asarray(context), np.asarray(weights)
        if context.shape != (batch, size) or weights.shape != (batch, length):
            return False
        if not (np.allclose(context, expected[:, 0], atol=1e-6)
                and np.allclose(weights, expected_weights[:, 0], atol=1e-6)):
            return False
        padded = np.arange(length) >= src_valid_lens[:, None]
        if np.any(weights[padded] != 0):
            return False
    return True


@exercise("7.3", hint="Make weights of shape (N, Tt, Ts) with a single 1 per row t, in column "
                      "min(t, src_valid_lens - 1), and pass them to alignment_accuracy with "
                      "test.alignment and test.tgt_valid_lens.")
def _(answer):
    test = make_translation_data(**CHAPTER7_DATA).test
    n, tt, ts = test.alignment.shape
    diagonal = np.zeros((n, tt, ts))
    rows = np.arange(tt)
    for i in range(n):
        diagonal[i, rows, np.minimum(rows, test.src_valid_lens[i] - 1)] = 1.0
    expected = alignment_accuracy(diagonal, test.alignment, test.tgt_valid_lens)
    return abs(float(answer) - expected) < 1e-3
