"""Self-checks for Chapter 9, attention in linear memory.

Each check runs the answer (or reads its numbers), compares with the right result and,
when they differ, looks for the signature of the exercise's classic mistakes: a sum not
rescaled when the maximum changes, a maximum added instead of taken, base-2 powers, a
dropped 1/√d, the T² matrix counted once, bytes of another dtype, ...
"""

import numpy as np

from attn_lib import reference, tiled
from attn_lib.exercises import exercise


def _close(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-9, atol=1e-12,
                                                       equal_nan=True)


# ---------------------------------------------------------------------------------------------
# 9.1: merge two partial softmax states (m, l, o)


def _merge(a, b, combine=np.maximum, power=np.exp, rescale_l=True, rescale_o=True):
    """A merge with the usual slips as switches; the defaults give the right merge."""
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    m = combine(m_a, m_b)
    alpha, beta = power(m_a - m), power(m_b - m)
    norm = alpha * l_a + beta * l_b if rescale_l else l_a + l_b
    o = alpha[:, None] * o_a + beta[:, None] * o_b if rescale_o else o_a + o_b
    return m, norm, o


def _states(rng):
    """Two partial states of 5 queries over different keys; row 4 of the first is empty."""
    states = []
    for offset in (0.0, 1.5):
        scores = rng.normal(size=(5, 4)) * 3 + offset
        states.append(reference.softmax_state(scores, rng.normal(size=(4, 3))))
    m, norm, o = states[0]
    m[4], norm[4], o[4] = -np.inf, 0.0, 0.0  # a query with no key in the first part
    return states


@exercise(
    "9.1",
    hint="Bring both states to the larger maximum: multiply each l and o by exp(its m minus "
         "the new m), then add. Return (m, l, o) with o still unnormalised.",
    mistakes={
        "sum_of_maxima": "Your m adds the two maxima. The merged state's m is the largest "
                         "score over all the keys: one of the two maxima, not their sum.",
        "min_not_max": "Your m is the smaller of the two maxima: shift by the larger one, so "
                       "that no exponential exceeds 1.",
        "l_not_rescaled": "Your l adds the two normalisers as they are, but each was "
                          "computed against its own maximum: rescale them to the new m first.",
        "o_not_rescaled": "Your l is right, but o adds the two partial outputs as they are: "
                          "o was computed against its own maximum too, and needs the same "
                          "factor as l.",
        "base_two": "Your factors are powers of 2: the states were made with the natural "
                    "exponential, so the factors must be too.",
        "inverted_factor": "Your factors are exp(new m minus old m), which is >= 1: the "
                           "exponent is the other way round.",
        "normalised": "Your o is divided by l: a state keeps o unnormalised, so that the "
                      "next merge can still rescale and add it.",
    },
    implements=(reference.merge_softmax_states,),
)
def _(answer):
    with np.errstate(all="ignore"):  # a wrong merge may make inf or NaN: just say so
        return _check_merge(answer)


def _check_merge(answer):
    rng = np.random.default_rng(91)
    for _ in range(3):
        a, b = _states(rng)
        right = _merge(a, b)
        got = answer(tuple(x.copy() for x in a), tuple(x.copy() for x in b))
        if len(got) != 3:
            raise TypeError(f"expected a tuple (m, l, o); got {len(got)} items")
        if all(_close(g, w) for g, w in zip(got, right)):
            continue
        m, norm, o = (np.asarray(x, dtype=np.float64) for x in got)
        if _close(m, a[0] + b[0]):
            return "sum_of_maxima"
        if _close(m, np.minimum(a[0], b[0])):
            return "min_not_max"
        if _close(m, right[0]) and _close(norm, right[1]) and _close(o, right[2] /
                                                                  right[1][:, None]):
            return "normalised"
        slips = [("l_not_rescaled", _merge(a, b, rescale_l=False)),
                 ("o_not_rescaled", _merge(a, b, rescale_o=False)),
                 ("base_two", _merge(a, b, power=np.exp2)),
                 ("inverted_factor", _merge(a, b, power=lambda x: np.exp(-x)))]
        return next((name for name, state in slips
                     if all(_close(g, w) for g, w in zip((norm, o), state[1:]))), False)
    return True


# ---------------------------------------------------------------------------------------------
# 9.2: find the bug in a tiled loop that forgets to rescale o when the maximum changes


def _loop(queries, keys, values, block_size, rescale_o=True, rescale_l=True,
          normalise=True, scaled=True, update_max=True, rescale_after=False):
    """The chapter's tiled loop, with the usual slips as switches."""
    num_q, d = queries.shape
    out = np.zeros((num_q, values.shape[1]))
    for q0 in range(0, num_q, block_size):
        q = queries[q0:q0 + block_size] / (np.sqrt(d) if scaled else 1.0)
        m, norm = np.full(len(q), -np.inf), np.zeros(len(q))
        o = np.zeros((len(q), values.shape[1]))
        for k0 in range(0, len(keys), block_size):
            s = q @ keys[k0:k0 + block_size].T
            m_new = np.maximum(m, s.max(axis=1))
            p, alpha = np.exp(s - m_new[:, None]), np.exp(m - m_new)
            pv = p @ values[k0:k0 + block_size]
            if rescale_after:
                norm, o = alpha * (norm + p.sum(axis=1)), alpha[:, None] * (o + pv)
            else:
                norm = (alpha if rescale_l else 1.0) * norm + p.sum(axis=1)
                o = (alpha[:, None] if rescale_o else 1.0) * o + pv
            m = m_new if update_max else m
        out[q0:q0 + block_size] = o / norm[:, None] if normalise else o
    return out


@exercise(
    "9.2",
    hint="Compare your function with plain attention on a few random inputs, block by "
         "block: every running sum computed against the old maximum must be moved to the "
         "new one before the new tile is added.",
    mistakes={
        "o_not_rescaled": "This is still the bug of tiled_attention_buggy: when the maximum "
                          "grows, o must be rescaled like l before the new tile is added.",
        "l_not_rescaled": "Now o is rescaled but l is not: both sums were computed against "
                          "the old maximum.",
        "rescale_after": "You rescale after adding the new tile, so the new tile's terms, "
                         "already computed against the new maximum, are rescaled too.",
        "max_not_updated": "The running maximum never changes, so every block is treated as "
                           "the first: keep the new maximum for the next block.",
        "not_normalised": "Your output is the unnormalised sum o: divide by l at the end.",
        "no_scale": "Your scores are not divided by the square root of d, as scaled "
                    "dot-product attention's are.",
    },
    implements=(tiled.tiled_attention, reference.tiled_attention),
)
def _(answer):
    rng = np.random.default_rng(92)
    for num_q, num_kv, d, dv, block in [(6, 9, 4, 3, 4), (5, 5, 2, 2, 2), (7, 12, 3, 5, 5)]:
        q, k, v = (rng.normal(size=shape) * 2 for shape in
                   ((num_q, d), (num_kv, d), (num_kv, dv)))
        want, _ = reference.dot_product_attention(q[None], k[None], v[None])
        got = np.asarray(answer(q.copy(), k.copy(), v.copy(), block), dtype=np.float64)
        if _close(got, want[0]):
            continue
        slips = [("o_not_rescaled", {"rescale_o": False}),
                 ("l_not_rescaled", {"rescale_l": False}),
                 ("rescale_after", {"rescale_after": True}),
                 ("max_not_updated", {"update_max": False}),
                 ("not_normalised", {"normalise": False}),
                 ("no_scale", {"scaled": False})]
        return next((name for name, slip in slips
                     if _close(got, _loop(q, k, v, block, **slip))), False)
    return True


# ---------------------------------------------------------------------------------------------
# 9.3: predict the bytes of the largest live tensors, plain and tiled

EXERCISE_9_3 = {"batch": 2, "heads": 8, "length": 4096, "block": 64, "bytes_per_float": 4}


def _sizes(batch=2, heads=8, length=4096, block=64, itemsize=4, matrices=2, tiles=2,
           tile_keys=64):
    """(plain bytes, tiled bytes): `matrices` (B, h, T, T), `tiles` (B, h, bq, keys)."""
    plain = matrices * batch * heads * length * length * itemsize
    return plain, tiles * batch * heads * block * tile_keys * itemsize


@exercise(
    "9.3",
    hint="Multiply the sizes of each tensor: plain attention holds the scores and the "
         "weights, each (B, h, T, T); tiled attention a tile of scores and a tile of their "
         "exponentials, each (B, h, block_q, block_k). Give bytes, as a pair.",
    mistakes={
        "once": "Count both tensors of the same size that are alive together: the scores "
                "and the weights computed from them.",
        "float64": "The tensors are float32: how many bytes does one float32 take?",
        "bits": "That is a number of bits: divide by 8 to get bytes.",
        "no_heads": "Each head has its own scores and weights: count the h axis.",
        "no_batch": "Each sequence of the batch has its own scores and weights: count B.",
        "mebibytes": "Give the answer in bytes, not in MiB or MB.",
        "tile_once": "Your plain count is right; for the tiled one, the tile of scores and "
                     "the tile of exponentials are alive together.",
        "row_block": "Your tiled count holds a block of queries against every key: a tile "
                     "is block_q queries by block_k keys, whatever T is.",
    },
)
def _(answer):
    values = np.asarray(answer, dtype=np.float64).reshape(-1)
    if values.size != 2:
        raise TypeError(f"expected a pair (plain bytes, tiled bytes); got {values.size} "
                        "values")
    right = np.asarray(_sizes(), dtype=np.float64)
    if np.allclose(values, right, rtol=1e-9):
        return True
    plain, tiled_bytes = values
    slips = [("once", _sizes(matrices=1, tiles=1)), ("once", _sizes(matrices=1)),
             ("float64", _sizes(itemsize=8)), ("bits", _sizes(itemsize=32)),
             ("no_heads", _sizes(heads=1)), ("no_batch", _sizes(batch=1)),
             ("no_batch", _sizes(batch=1, heads=1))]
    for name, (p, t) in slips:
        if np.isclose(plain, p, rtol=1e-9) and (name not in ("float64", "bits")
                                                or np.isclose(tiled_bytes, t, rtol=1e-9)):
            return name
    for unit in (2**20, 1e6, 2**30, 1e9):
        if np.isclose(plain * unit, right[0], rtol=1e-3):
            return "mebibytes"
    if np.isclose(plain, right[0], rtol=1e-9):
        if np.isclose(tiled_bytes, right[1] / 2, rtol=1e-9):
            return "tile_once"
        if any(np.isclose(tiled_bytes, _sizes(tile_keys=4096, tiles=n)[1], rtol=1e-9)
               for n in (1, 2)):
            return "row_block"
    return False
