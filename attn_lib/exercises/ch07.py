"""Self-checks for Chapter 7, encoder–decoder attention.

Each check recognises the classic mistakes of its exercise (the source order kept, the
`<eos>` step counted, the mask applied after the softmax, the training split, ...) and
names the one it finds.
"""

import functools

import numpy as np

from attn_lib import masking, reference, scoring
from attn_lib.data.translation import (
    CHAPTER7_DATA,
    CONJUNCTION,
    DETERMINERS,
    OBJECT_MARKER,
    SPECIALS,
    TRANSITIVE_VERBS,
    alignment_accuracy,
    make_translation_data,
    translate_words,
)
from attn_lib.exercises import exercise

EXERCISE_SENTENCE = "kani tini na pemo rusa ke wo zuna en suli na sapa"

# ---------------------------------------------------------------------------------------------
# 7.1: the gold alignment of EXERCISE_SENTENCE: one source position per English word, in
# English order, as translate_words returns it (no entry for <eos>)


def _clauses(words):
    """The source positions of each clause: [(subject, verb, object)], object () if none."""
    clauses, start = [], 0
    for end in [j for j, word in enumerate(words) if word == CONJUNCTION[0]] + [len(words)]:
        positions = list(range(start, end))
        verb = positions[-1]
        subject_end = next(j for j in positions if words[j] in DETERMINERS) + 1
        obj = tuple(positions[subject_end - start:-2]) if words[verb] in TRANSITIVE_VERBS \
            else ()
        clauses.append((tuple(positions[:subject_end - start]), verb, obj))
        start = end + 1
    return clauses


def _order(words, verb_last=False, phrases_kept=False):
    """English order with the usual slips: verb after the object, noun phrases not reversed."""
    order = []
    conjunctions = [j for j, word in enumerate(words) if word == CONJUNCTION[0]]
    for n, (subject, verb, obj) in enumerate(_clauses(words)):
        if n:
            order.append(conjunctions[n - 1])
        phrase = list if phrases_kept else (lambda p: list(reversed(p)))
        order += phrase(subject) + (phrase(obj) + [verb] if verb_last else [verb] + phrase(obj))
    return order


@exercise(
    "7.1",
    hint="English order is subject, verb, object, clause by clause; inside a noun phrase the "
         "source has noun, adjectives, determiner and English reverses it; 'wo' has no "
         "English word, and 'en' stays where it is. Give one source position (counting from "
         "0) per English word, in English order, and none for <eos>.",
    mistakes={
        "source_order": "That is the source order. English puts the verb between subject and "
                        "object and reverses every noun phrase: reorder.",
        "noun_phrase": "The clauses are in the right order, but not the words inside a noun "
                       "phrase: the source says noun, adjectives, determiner, and English "
                       "reverses that.",
        "verb": "The verb still comes after its object, as in the source (subject, object, "
                "'wo', verb). English puts the verb between subject and object.",
        "conjunction": "'en' (and) joins two clauses: it stays between them, where it is in "
                       "the source.",
        "wo": "'wo' only marks the object: it has no English word, so its position is not in "
              "the list.",
        "eos": "Leave out `<eos>`: the list has one source position per English *word*, as "
               "translate_words returns it, and `<eos>` is not a word of the sentence.",
        "from_one": "Positions count from 0: the first source word is position 0.",
        "inverse": "You gave, for each source word, where it goes in English. The question "
                   "asks the other way round: for each English word, in English order, the "
                   "position of the source word it comes from.",
        "words": "Give source *positions* (integers counted from 0), not words.",
        "missing": "Every English word comes from exactly one source word, and every source "
                   "word except 'wo' gives one English word: your list misses some or has "
                   "some twice.",
    },
)
def _(answer):
    words = EXERCISE_SENTENCE.split()
    gold = translate_words(words)[1]
    if isinstance(answer, str):
        raise TypeError("expected a list of source positions; got a string")
    items = list(answer)
    if any(isinstance(item, str) for item in items):
        return "eos" if any(item in SPECIALS for item in items) else "words"
    positions = [int(item) for item in items]
    if positions == gold:
        return True
    if positions == [j + 1 for j in gold]:
        return "from_one"
    if len(words) in positions:  # the position of <eos>, right after the source words
        return "eos"
    if positions == [gold.index(j) for j in sorted(gold)]:
        return "inverse"
    if words.index(OBJECT_MARKER) in positions:
        return "wo"
    if sorted(positions) != sorted(gold):
        return "missing"
    if positions == sorted(gold):
        return "source_order"
    en = [j for j, word in enumerate(words) if word == CONJUNCTION[0]]
    without_en = [j for j in positions if j not in en]
    if without_en == [j for j in gold if j not in en]:
        return "conjunction"
    if without_en in ([j for j in _order(words, verb_last=True) if j not in en],
                      [j for j in _order(words, verb_last=True, phrases_kept=True)
                       if j not in en]):
        return "verb"
    phrases = [set(p) for subject, _, obj in _clauses(words) for p in (subject, obj) if p]
    slot_of = {j: next((n for n, p in enumerate(phrases) if j in p), None) for j in gold}
    if [slot_of[j] for j in positions] == [slot_of[j] for j in gold] and all(
            a == b for a, b in zip(positions, gold) if slot_of[b] is None):
        return "noun_phrase"  # verbs and 'en' in place, each phrase in its slots
    return False


# ---------------------------------------------------------------------------------------------
# 7.2: one step of Bahdanau attention in NumPy


def _step(s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v, features=np.tanh, keep=None,
          axis=1, zero_after=False, multiply=False):
    """(context, weights) of one step; the keywords reproduce the usual mistakes."""
    scores = features((s_prev @ W_q)[:, None, :] + enc_outputs @ W_k) @ w_v  # (B, Ts)
    if keep is None:
        keep = np.arange(enc_outputs.shape[1]) < src_valid_lens[:, None]  # (B, Ts)
    if zero_after:
        weights = reference.softmax(scores, axis=axis) * keep
    elif multiply:
        weights = reference.softmax(scores * keep, axis=axis)
    else:
        with np.errstate(invalid="ignore"):  # a column or row with nothing kept: NaN
            shifted = np.where(keep, scores, -np.inf)
            e = np.exp(shifted - shifted.max(axis=axis, keepdims=True))
            weights = e / e.sum(axis=axis, keepdims=True)
    return np.einsum("bj,bjh->bh", np.nan_to_num(weights), enc_outputs), weights


def _same(got, want, atol=1e-6):
    """Same shape and values where `want` is defined (not NaN)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    defined = ~np.isnan(want)
    return (got.shape == want.shape and defined.any()
            and np.allclose(got[defined], want[defined], atol=atol))


@exercise(
    "7.2",
    hint="Scores are w_v · tanh(s W_q + h_j W_k) for every source position j; give the "
         "positions j >= src_valid_lens weight exactly 0 (a score of -inf before the "
         "softmax), then average the encoder outputs with the weights.",
    mistakes={
        "no_mask": "Your weights ignore `src_valid_lens`: the padded source positions get "
                   "weight too. Hide them before the softmax.",
        "off_by_one": "You hide one position too few or too many: a sentence of valid length "
                      "n has the positions 0 to n - 1.",
        "inverted_mask": "Your mask is inverted: it hides the real source positions and "
                         "keeps the padding.",
        "not_renormalised": "You zeroed the padded weights after the softmax, so the weights "
                            "no longer sum to 1. Hide the padded positions before the "
                            "softmax.",
        "multiplied": "Multiplying the scores by the mask makes the padded scores 0, not "
                      "-inf: exp(0) = 1, so the padding still gets weight.",
        "no_tanh": "Your scores have no tanh: additive attention scores are "
                   "w_v · tanh(s W_q + h_j W_k).",
        "swapped_weights": "W_q projects the decoder state (the query) and W_k the encoder "
                           "outputs (the keys): you swapped them.",
        "wrong_axis": "Your softmax runs over the batch, not over the source positions: each "
                      "sentence's weights should sum to 1 over its positions (axis 1).",
        "context": "Your weights are right, but the context is not: it is the weighted sum "
                   "over the source positions of the encoder outputs themselves (the "
                   "values), not of their projections.",
        "order": "Return (context, weights), in that order.",
        "library": "Your function calls attn_lib (its additive scores, additive attention or "
                   "masked softmax), which computes what this exercise asks you to write. "
                   "Write the step with NumPy operations instead.",
    },
    implements=(reference.additive_attention, scoring.additive_scores,
                scoring._additive_scores, reference.masked_softmax, masking.masked_softmax,
                masking._masked_softmax),
)
def _(answer):
    rng = np.random.default_rng(7)
    for batch, length, size, hidden in [(3, 5, 6, 4), (2, 1, 3, 2), (4, 7, 5, 8)]:
        s_prev = rng.normal(size=(batch, size))
        enc_outputs = rng.normal(size=(batch, length, size))
        src_valid_lens = rng.integers(1, length + 1, size=batch)
        src_valid_lens[0] = max(1, length - 2)  # padding in the first sentence
        W_q, W_k = rng.normal(size=(size, hidden)), rng.normal(size=(size, hidden))
        w_v = rng.normal(size=hidden)
        args = (s_prev, enc_outputs, src_valid_lens, W_q, W_k, w_v)
        result = answer(*(a.copy() for a in args))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError("expected the pair (context, weights)")
        context, weights = (np.asarray(r, dtype=np.float64) for r in result)
        expected_context, expected_weights = _step(*args)
        if _same(context, expected_weights) and _same(weights, expected_context):
            return "order"
        if weights.shape != (batch, length):
            raise ValueError(f"expected weights of shape (B, Ts) = {(batch, length)}; got "
                             f"{weights.shape}")
        weights_right = _same(weights, expected_weights) and not np.isnan(weights).any()
        if weights_right and _same(context, expected_context):
            continue
        if weights_right:
            return "context"
        positions = np.arange(length)
        candidates = [
            ("no_mask", dict(keep=np.ones((batch, length), bool))),
            ("off_by_one", dict(keep=positions <= src_valid_lens[:, None])),
            ("off_by_one", dict(keep=positions < src_valid_lens[:, None] - 1)),
            ("inverted_mask", dict(keep=positions >= src_valid_lens[:, None])),
            ("not_renormalised", dict(zero_after=True)),
            ("multiplied", dict(multiply=True)),
            ("no_tanh", dict(features=lambda z: z)),
            ("wrong_axis", dict(axis=0)),
        ]
        for name, slip in candidates:
            if _same(weights, _step(*args, **slip)[1]):
                return name
        if _same(weights, _step(s_prev, enc_outputs, src_valid_lens, W_k, W_q, w_v)[1]):
            return "swapped_weights"
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 7.3: the diagonal baseline's alignment accuracy on the test set


def _diagonal(split, shift=0):
    """One weight 1 per target step t, in column min(t + shift, src_valid_lens - 1)."""
    n, tt, ts = split.alignment.shape
    columns = np.minimum(np.arange(tt)[None, :] + shift, split.src_valid_lens[:, None] - 1)
    return np.eye(ts)[columns]  # (N, Tt, Ts)


@functools.cache
def _baseline_and_slips():
    """The diagonal baseline's accuracy on the test set, and what the usual slips give."""
    data = make_translation_data(**CHAPTER7_DATA)
    test = data.test
    expected = alignment_accuracy(_diagonal(test), test.alignment, test.tgt_valid_lens)
    hits = _diagonal(test).argmax(-1) == test.alignment.argmax(-1)  # (N, Tt)
    slips = [
        ("shifted", alignment_accuracy(_diagonal(test, 1), test.alignment,
                                       test.tgt_valid_lens)),
        ("train_split", alignment_accuracy(_diagonal(data.train), data.train.alignment,
                                           data.train.tgt_valid_lens)),
        ("eos_counted", alignment_accuracy(_diagonal(test), test.alignment,
                                           test.tgt_valid_lens, include_eos=True)),
        ("sentence_mean", np.mean([hits[n, :length - 1].mean()
                                   for n, length in enumerate(test.tgt_valid_lens)])),
        ("padding_counted", hits.mean()),
        ("percent", 100 * expected),
    ]
    return expected, slips


@exercise(
    "7.3",
    hint="Make weights of shape (N, Tt, Ts) with a single 1 per row t, in column "
         "min(t, src_valid_lens - 1), and pass them to alignment_accuracy with "
         "test.alignment and test.tgt_valid_lens.",
    mistakes={
        "shifted": "Your diagonal is shifted by one: English word t (counting from 0, as the "
                   "rows of test.alignment do) attends to source position t; <bos> is not a "
                   "row here.",
        "train_split": "That is the accuracy on the training split; the exercise asks for the "
                       "test split (`test`).",
        "eos_counted": "You also scored the <eos> step. alignment_accuracy counts the English "
                       "words only by default: keep that default, as for the trained model.",
        "sentence_mean": "You averaged per-sentence accuracies, which weighs a short "
                         "sentence's words more. alignment_accuracy pools all the words of "
                         "the test set: call it once, on the whole split.",
        "padding_counted": "You also counted the padded target rows (past each sentence's "
                           "end). Count only the real steps: alignment_accuracy does that "
                           "with test.tgt_valid_lens.",
        "percent": "Give the accuracy as a fraction between 0 and 1, as alignment_accuracy "
                   "returns it, not as a percentage.",
        "trained_model": "That looks like the trained model's accuracy. The exercise asks "
                         "for a content-blind baseline: weights that put all attention on "
                         "the diagonal, whatever the words.",
    },
)
def _(answer):
    answer = float(np.asarray(answer, dtype=np.float64).reshape(()))
    expected, slips = _baseline_and_slips()
    if abs(answer - expected) < 5e-3:  # printed with 2 or 3 decimals
        return True
    for name, value in slips:
        if abs(answer - value) < 1e-3 * max(1.0, abs(value)):
            return name
    return "trained_model" if 0.6 <= answer <= 1.0 else False
