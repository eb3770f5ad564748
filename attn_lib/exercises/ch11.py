"""Self-checks for Chapter 11, sharing keys and values.

11.1 reads a number (the bytes of a grouped-query cache) and names the factor a wrong one
is off by; 11.2 and 11.3 run the reader's function on cases of their own and compare it
with the classic slips, rebuilt here: copies of the key-value heads in the wrong order or
along the wrong axis, a window one key too wide or too narrow, not causal, or placed at
the wrong position.
"""

import numpy as np

from attn_lib import masking, multihead, reference
from attn_lib.exercises import exercise

# ---------------------------------------------------------------------------------------------
# 11.1: the bytes of a grouped-query cache

#: The configuration of exercise 11.1 (the chapter's text states it).
CONFIG_11_1 = dict(layers=24, query_heads=16, kv_heads=4, head_dim=64, batch=8,
                   positions=2048, bytes_per_number=2)


def _cache_bytes(layers, query_heads, kv_heads, head_dim, batch, positions, bytes_per_number):
    return 2 * layers * batch * positions * kv_heads * head_dim * bytes_per_number


_RIGHT_11_1 = _cache_bytes(**CONFIG_11_1)
_FACTORS_11_1 = {  # mistake -> wrong answer / right answer
    "query_heads": CONFIG_11_1["query_heads"] / CONFIG_11_1["kv_heads"],
    "keys_only": 1 / 2,
    "one_layer": 1 / CONFIG_11_1["layers"],
    "bits": 8,
    "one_sequence": 1 / CONFIG_11_1["batch"],
    "float32": 2,
}


@exercise(
    "11.1",
    hint="Multiply every factor of the cache's size: keys and values, layers, sequences, "
         "positions, key-value heads, head size and bytes per number.",
    mistakes={
        "query_heads": "Your number counts a key and a value for every query head. In "
                       "grouped-query attention the cache stores only the key-value heads.",
        "keys_only": "Your number is half the size: the cache stores the values as well as "
                     "the keys.",
        "one_layer": "Your number is the cache of one layer: every layer keeps its own keys "
                     "and values.",
        "bits": "Your number is in bits: the answer asks for bytes (8 bits each).",
        "one_sequence": "Your number is the cache of one sequence: every sequence of the "
                        "batch has its own.",
        "float32": "Your number uses 4 bytes per number: float16 takes 2.",
        "not_a_number": "Give the answer as one number of bytes (an int or a float).",
    },
)
def _(answer):
    if isinstance(answer, bool) or np.ndim(answer) != 0:
        return "not_a_number"
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return "not_a_number"
    if value == _RIGHT_11_1:
        return True
    for name, factor in _FACTORS_11_1.items():
        if np.isclose(value, _RIGHT_11_1 * factor, rtol=1e-9):
            return name
    return False


# ---------------------------------------------------------------------------------------------
# 11.2: share the key-value heads, (B, h_kv, T, d) -> (B, h_kv * groups, T, d)

def _cases_11_2():
    rng = np.random.default_rng(112)
    return [(rng.normal(size=shape).astype(np.float32), groups)
            for shape, groups in (((2, 3, 5, 4), 2), ((1, 2, 3, 2), 4), ((2, 1, 4, 3), 3))]


_SHARE_SLIPS = {
    "tiled": lambda k, g: np.tile(k, (1, g, 1, 1)),
    "time_axis": lambda k, g: np.repeat(k, g, axis=2),
    "batch_axis": lambda k, g: np.repeat(k, g, axis=0),
    "feature_axis": lambda k, g: np.repeat(k, g, axis=3),
    "not_shared": lambda k, g: k,
}


@exercise(
    "11.2",
    hint="Query head u reads key-value head u // groups: each head of `k` appears `groups` "
         "times in a row, along the heads' axis; the other axes stay as they are.",
    mistakes={
        "tiled": "Your heads are in the wrong order: query head u reads key-value head "
                 "u % h_kv. Each key-value head serves a block of consecutive query heads, "
                 "so its copies must sit next to each other.",
        "time_axis": "You copied along the positions' axis: the result has more positions, "
                     "not more heads.",
        "batch_axis": "You copied along the batch axis: the heads are axis 1.",
        "feature_axis": "You copied along the features of each head: the heads are axis 1.",
        "not_shared": "Your function returns `k` as it is: the query heads need one copy "
                      "of each key-value head per query head of its group.",
    },
    implements=(multihead.share_heads,),
)
def _(answer):
    cases = _cases_11_2()
    outputs = [np.asarray(answer(k, groups)) for k, groups in cases]
    if all(out.shape == (k.shape[0], k.shape[1] * g, *k.shape[2:])
           and np.array_equal(out, np.repeat(k, g, axis=1))
           for out, (k, g) in zip(outputs, cases)):
        return True
    for name, slip in _SHARE_SLIPS.items():
        wants = [slip(k, g) for k, g in cases]
        if all(out.shape == want.shape and np.array_equal(out, want)
               for out, want in zip(outputs, wants)):
            return name
    return False


# ---------------------------------------------------------------------------------------------
# 11.3: the sliding-window mask of a chunk of queries, (Tq, offset + Tq)

_CASES_11_3 = [(5, 3, 0), (4, 2, 3), (6, 4, 5), (3, 1, 2), (2, 6, 7)]


def _window(num_queries, window, offset, low=1, causal=True, shift=True):
    """The mask with switches for the classic slips; the defaults give the right one."""
    p = np.arange(num_queries)[:, None] + (offset if shift else 0)  # the queries' positions
    j = np.arange(offset + num_queries)[None, :]
    if not causal:
        return np.abs(p - j) < window
    return (p - window + low <= j) & (j <= p)


_WINDOW_SLIPS = {
    "one_too_many": lambda tq, w, o: _window(tq, w, o, low=0),
    "one_too_few": lambda tq, w, o: _window(tq, w, o, low=2),
    "not_causal": lambda tq, w, o: _window(tq, w, o, causal=False),
    "offset_ignored": lambda tq, w, o: _window(tq, w, o, shift=False),
    "causal_only": lambda tq, w, o: _window(tq, w + 100, o),
    "inverted": lambda tq, w, o: ~_window(tq, w, o),
}


@exercise(
    "11.3",
    hint="Query i sits at position p = offset + i and sees the keys j with p - window < j "
         "<= p: itself and the positions just before it, `window` keys in all. The mask "
         "has offset + num_queries columns.",
    mistakes={
        "one_too_many": "Each query sees one key too many: count the query's own position "
                        "as one of the `window` keys.",
        "one_too_few": "Each query sees one key too few: a window of W keeps W keys, the "
                       "query's own position included.",
        "not_causal": "Your band reaches into the future: a decoder's window ends at the "
                      "query's own position.",
        "offset_ignored": "Your queries sit at positions 0, 1, ...: after `offset` cached "
                          "positions the first query sits at position `offset`.",
        "causal_only": "Your mask is causal but has no window: older keys must be hidden "
                       "too.",
        "inverted": "Your mask is True where it should be False: True means 'may attend'.",
    },
    implements=(masking.sliding_window_mask, reference.sliding_window_mask),
)
def _(answer):
    outputs = [np.asarray(answer(*case)) for case in _CASES_11_3]
    if any(out.dtype != bool for out in outputs):
        outputs = [out.astype(bool) if out.dtype.kind in "biu" else out for out in outputs]
    if all(np.array_equal(out, _window(*case)) for out, case in zip(outputs, _CASES_11_3)):
        return True
    for name, slip in _WINDOW_SLIPS.items():
        if all(out.shape == slip(*case).shape and np.array_equal(out, slip(*case))
               for out, case in zip(outputs, _CASES_11_3)):
            return name
    return False
