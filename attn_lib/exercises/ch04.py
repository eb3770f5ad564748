"""Self-checks for Chapter 4, Keras' attention layers, masks and conventions.

Exercises 4.2–4.4 take a *function* as the answer; the check runs it on fresh cases, so a
function that only fits the example in the notebook does not pass. When an answer is wrong,
the check compares it with the exercise's classic mistakes to name the one it recognises.
"""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise

#: Chapter 0's worked example: one query and three keys (the values are the keys).
EXAMPLE_QUERY = np.array([1.0, 1.0, 1.0, 3.0])
EXAMPLE_KEYS = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])
#: Exercise 4.1's value mask: the second key is padding.
EXERCISE_4_1_KEPT = np.array([True, False, True])


# -------------------------------------------------------------------------------------------
# 4.1: the worked example with the second key masked


def _kept_softmax(scores, kept):
    return reference.masked_softmax(scores[None, None, :], mask=kept)[0, 0]


@exercise("4.1", hint="A masked key drops out of the softmax; renormalise over the keys "
                      "that remain.",
          mistakes={
              "mask_ignored": "These are the weights without the mask (Chapter 0's): the "
                              "masked key must drop out of the softmax.",
              "not_renormalised": "You zeroed the masked key's weight but kept the others as "
                                  "they were: renormalise over the keys that remain, so they "
                                  "sum to 1.",
              "masked_weight": "The masked key still gets a little weight: a masked key "
                               "leaves the softmax entirely, its weight is exactly 0 (a score "
                               "of 0 is still a score).",
              "inverted": "Your mask is inverted: in Keras, True = attend, so the second key "
                          "is the one that is masked.",
              "scaled": "You divided the scores by √d, but keras.layers.Attention does not "
                        "scale them (its use_scale is off by default): use the plain dot "
                        "products.",
              "scores": "These are (masked) scores, not weights: take their softmax over the "
                        "kept keys.",
              "rounded": "Nearly there, but the third key's weight is small, not zero: "
                         "keep four decimals or more.",
              "kept_only": "You passed the weights of the two kept keys only: give all three, "
                           "with the masked key's weight in its place.",
              "output": "You passed four numbers, one per component: that is the output, not "
                        "the three weights, one per key.",
          })
def _(answer):
    answer = np.asarray(answer, dtype=np.float64).reshape(-1)
    if answer.shape == (2,):
        return "kept_only"
    if answer.shape == (4,):
        return "output"
    if answer.shape != (3,):
        raise ValueError(f"expected 3 weights, one per key; got {answer.size}")
    scores = EXAMPLE_KEYS @ EXAMPLE_QUERY  # (Tv,)
    kept = EXERCISE_4_1_KEPT
    expected = _kept_softmax(scores, kept)
    if np.allclose(answer, expected, rtol=0, atol=1.5e-4):  # four decimals by hand
        if abs(answer[1]) > 1e-12:
            return "masked_weight"
        if answer[2] > 0:
            return True
    wrong = [("mask_ignored", reference.softmax(scores)),
             ("not_renormalised", reference.softmax(scores) * kept),
             ("inverted", _kept_softmax(scores, ~kept)),
             ("scaled", _kept_softmax(scores / 2, kept)),  # √d = 2
             ("scores", scores * kept), ("scores", scores)]
    for name, weights in wrong:
        if np.allclose(answer, weights, rtol=1e-3, atol=1e-4):
            return name
    if np.abs(answer - expected).max() < 0.01 and abs(answer[1]) < 1e-12:
        return "rounded"
    return False


# -------------------------------------------------------------------------------------------
# 4.2: PyTorch's key_padding_mask (B, Tv), True = padding -> valid_lens (B,)


def _padding_cases():
    """(valid_lens, key_padding_mask) pairs; the first batch has a row without padding."""
    rng = np.random.default_rng(402)
    cases = [np.array([5, 2, 0, 3])]
    cases += [rng.integers(0, num_kv + 1, size=batch) for batch, num_kv in [(1, 1), (4, 7)]]
    cases[-1][0] = 7
    widths = [5, 1, 7]
    return [(lens, np.arange(num_kv)[None, :] >= lens[:, None])
            for lens, num_kv in zip(cases, widths)]


@exercise("4.2", hint="In PyTorch's key_padding_mask, True marks padding; count the entries "
                      "that are not padding in each row.",
          mistakes={
              "counted_padding": "You counted the True entries, the padding: in PyTorch's "
                                 "key_padding_mask True means ignore. A valid length counts "
                                 "the False entries.",
              "off_by_one": "Off by one: a valid length is the number of kept positions "
                            "(not the index of the last one, nor one more).",
              "float": "Your counts are right, but they are floats: valid_lens must be "
                       "integers (counts of the False entries), so count with an integer "
                       "dtype or cast the result to one.",
              "bool": "Your function returns booleans, one per row: valid_lens are integers, "
                      "the number of False entries in each row.",
              "wrong_axis": "You counted over the batch (axis 0): valid_lens has one count per "
                            "row, shape (B,), over the last axis.",
              "mask_not_lengths": "You returned a mask of shape (B, Tv): valid_lens has one "
                                  "integer per row, shape (B,).",
              "no_padding_row": "A row without any padding gets the wrong length: argmax "
                                "finds no True there and returns 0. Count the False entries "
                                "instead.",
              "torch_api": "Your function uses a PyTorch keyword (dim=...): the check passes a "
                           "NumPy array, and NumPy and TensorFlow call it axis.",
          }, takes_function=True)
def _(answer):
    for lens, key_padding_mask in _padding_cases():
        try:
            got = np.asarray(answer(key_padding_mask))
        except TypeError as error:
            if "dim" in str(error):
                return "torch_api"
            raise
        if got.shape == key_padding_mask.shape:
            return "mask_not_lengths"
        if got.shape == key_padding_mask.shape[1:] and got.shape != lens.shape:
            return "wrong_axis"
        if got.shape != lens.shape:
            raise ValueError(f"expected valid_lens of shape (B,) = {lens.shape} for a "
                             f"key_padding_mask of shape {key_padding_mask.shape}; "
                             f"got {got.shape}")
        if got.dtype == bool:
            return "bool"
        if np.array_equal(got, lens):
            if not np.issubdtype(got.dtype, np.integer):
                return "float"
            continue
        padded = key_padding_mask.sum(-1)
        has_padding = padded > 0
        wrong = [("counted_padding", padded), ("off_by_one", lens - 1),
                 ("off_by_one", lens + 1)]
        for name, lengths in wrong:
            if np.array_equal(got, lengths):
                return name
        if np.array_equal(got[has_padding], lens[has_padding]):
            return "no_padding_row"
        return False
    return True


# -------------------------------------------------------------------------------------------
# 4.3: attn_lib's call as a Keras Attention call


def _keras_cases():
    rng = np.random.default_rng(403)
    for batch, num_queries, num_kv in [(2, 3, 5), (1, 2, 4)]:
        queries = rng.normal(size=(batch, num_queries, 4)).astype(np.float32)
        keys = rng.normal(size=(batch, num_kv, 4)).astype(np.float32)
        values = rng.normal(size=(batch, num_kv, 4)).astype(np.float32)  # dv = dk
        valid_lens = rng.integers(1, num_kv, size=batch)  # at least one masked key
        yield queries, keys, values, valid_lens


@exercise("4.3", hint="Keras wants the list [query, value, key] and a boolean value mask, "
                      "True = attend.",
          mistakes={
              "order": "Your list follows the textbook order (queries, keys, values); Keras "
                       "takes [query, value, key], the value before the key.",
              "keys_missing": "Your list has two entries, so Keras uses the value as the key: "
                              "pass all three, [query, value, key].",
              "no_mask": "Your call has no value mask, so every key is attended, padding "
                         "included: turn valid_lens into a boolean (B, Tv) mask.",
              "mask_slot": "Your mask sits in the query's slot: Keras' mask list is "
                           "[query_mask, value_mask], and the padding mask is the second.",
              "lens_as_mask": "You passed valid_lens, shape (B,), as the mask: Keras wants a "
                              "boolean mask of shape (B, Tv), True for the first valid_lens "
                              "keys of each row.",
              "mask_inverted": "Your mask is inverted: in Keras, True = attend, so the valid "
                               "keys are True and the padding is False.",
          }, takes_function=True)
def _(answer):
    import keras

    from attn_lib.masking import sequence_mask

    for queries, keys, values, valid_lens in _keras_cases():
        inputs, mask = answer(queries, keys, values, valid_lens)
        inputs = list(inputs)
        if len(inputs) == 2:
            return "keys_missing"
        if mask is None or all(m is None for m in mask):
            return "no_mask"
        mask = [None if m is None else np.asarray(m) for m in mask]
        if len(mask) != 2:
            raise ValueError(f"expected mask = [query_mask, value_mask]; got {len(mask)} masks")
        if mask[1] is None:
            return "mask_slot"
        if mask[1].shape == valid_lens.shape:
            return "lens_as_mask"
        expected_mask = np.asarray(sequence_mask(valid_lens, keys.shape[1]))
        if np.array_equal(mask[1].astype(bool), ~expected_mask):
            return "mask_inverted"
        if len(inputs) == 3 and np.array_equal(np.asarray(inputs[1]), keys):
            return "order"
        got = keras.layers.Attention()(inputs, mask=mask)
        expected, _ = reference.dot_product_attention(queries, keys, values, valid_lens,
                                                      scaled=False)
        if not np.allclose(np.asarray(got), expected, atol=1e-4):
            return False
        if not np.array_equal(mask[1].astype(bool), expected_mask):
            return False
    return True


# -------------------------------------------------------------------------------------------
# 4.4: does a causal model's (Tq, Tv) weight matrix look at the future?


def _weight_cases():
    """(weights, looks at the future) pairs that tell the classic mistakes apart."""
    rng = np.random.default_rng(404)
    cases = []
    for size in (3, 6):
        scores = rng.normal(size=(1, size, size))
        honest = reference.masked_softmax(scores, mask=reference.causal_mask(size, size))[0]
        leaky = reference.masked_softmax(scores, mask=~reference.causal_mask(size, size))[0]
        nearly = honest.copy()
        nearly[0, 1] = 1e-9  # rounding noise, not a leak
        cases += [(honest, False), (leaky, True), (np.full((size, size), 1.0 / size), True),
                  (nearly, False), (np.eye(size), False)]
    return cases


def _verdicts(function, cases):
    return [bool(function(weights)) for weights, _ in cases]


#: Exercise 4.4's classic mistakes, as functions: their verdicts name the mistake.
_WRONG_LOOKS = [
    ("wrong_triangle", lambda w: (np.tril(w, k=-1) > 1e-6).any()),
    ("diagonal", lambda w: (np.triu(w, k=0) > 1e-6).any()),
    ("no_tolerance", lambda w: (np.triu(w, k=1) != 0).any()),
    ("inverted", lambda w: not (np.triu(w, k=1) > 1e-6).any()),
]


@exercise("4.4", hint="Look only above the diagonal (key j > query i) and compare with a "
                      "tolerance.",
          mistakes={
              "not_bool": "Your function returns an array, one entry per weight or row: "
                          "return one True or False for the whole matrix (reduce with any).",
              "wrong_triangle": "You looked below the diagonal (key j < query i): that is the "
                                "past, which a causal model may use. The future is above it.",
              "diagonal": "You included the diagonal: a query may attend to its own position "
                          "(j = i). Only keys with j > i are the future.",
              "no_tolerance": "Rounding noise counts as a leak in your function: a weight of "
                              "1e-9 is not attention. Compare with the tolerance, not != 0.",
              "inverted": "Your verdict is inverted: return True when the model looks at the "
                          "future.",
          }, takes_function=True)
def _(answer):
    cases = _weight_cases()
    verdicts = []
    for weights, _ in cases:
        verdict = answer(weights.astype(np.float32))
        if np.size(verdict) != 1:
            return "not_bool"
        verdicts.append(bool(np.asarray(verdict).reshape(())))
    if verdicts == [peeks for _, peeks in cases]:
        return True
    for name, function in _WRONG_LOOKS:
        if verdicts == _verdicts(function, cases):
            return name
    return False
