"""attn_lib.exercises.ch12: right forms accepted, classic mistakes named, no giveaways."""

import numpy as np
import pytest
from exercise_tables import table_tests

from attn_lib import positions, reference
from attn_lib.exercises import ch12

BASE = 10000.0


# --- 12.1: RoPE, interleaved, (x (T, d), positions (T,)) -> (T, d) --------------------------

def rope_complex(x, pos):
    d = x.shape[-1]
    theta = BASE ** (-np.arange(0, d, 2) / d)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * pos[:, None] * theta)
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def rope_view_as_complex(x, pos):
    d = x.shape[-1]
    z = x.reshape(*x.shape[:-1], d // 2, 2).copy().view(np.complex128)[..., 0]
    theta = 1.0 / BASE ** (np.arange(0, d, 2) / d)
    rotated = z * np.exp(1j * np.outer(pos, theta))
    return np.stack([rotated.real, rotated.imag], axis=-1).reshape(x.shape)


def rope_matrices(x, pos):
    out = np.zeros_like(x)
    d = x.shape[-1]
    for t, m in enumerate(pos):
        for i in range(d // 2):
            a = m * BASE ** (-2 * i / d)
            rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            out[t, 2 * i:2 * i + 2] = rotation @ x[t, 2 * i:2 * i + 2]
    return out


def rope_float32(x, pos):
    return rope_complex(x.astype(np.float32), pos).astype(np.float32)


def slip(**kwargs):
    return lambda x, pos: ch12._rope_slip(x, pos, **kwargs)


def conjugate(x, pos):
    d = x.shape[-1]
    theta = BASE ** (-np.arange(0, d, 2) / d)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.conj(np.exp(1j * pos[:, None] * theta))
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def cos_plus_sin(x, pos):  # cos(φ) + sin(φ) instead of e^(iφ): lengths change
    d = x.shape[-1]
    theta = BASE ** (-np.arange(0, d, 2) / d)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * (np.cos(pos[:, None] * theta)
                                              + np.sin(pos[:, None] * theta))
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


# --- 12.3: ALiBi's slopes -----------------------------------------------------------------

def slopes_loop(h):
    def geometric(n):
        return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
    power = 1
    while power * 2 <= h:
        power *= 2
    return geometric(power) + geometric(2 * power)[0::2][:h - power]


def slopes_ratio(h):
    import math

    def geometric(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(h).is_integer():
        return geometric(h)
    power = 2 ** math.floor(math.log2(h))
    return geometric(power) + geometric(2 * power)[0::2][:h - power]


def slopes_numpy(h):
    power = 2 ** int(np.log2(h))
    first = 2.0 ** (-8.0 * np.arange(1, power + 1) / power)
    extra = 2.0 ** (-8.0 * np.arange(1, 2 * power + 1, 2) / (2 * power))
    return np.concatenate([first, extra[:h - power]])


EXPECTED = {"12.1": None, "12.2": ch12._permutation(), "12.3": None}

RIGHT = [
    pytest.param("12.1", rope_complex, id="12.1-complex-multiply"),
    pytest.param("12.1", rope_view_as_complex, id="12.1-view-as-complex"),
    pytest.param("12.1", rope_matrices, id="12.1-2x2-rotation-matrices"),
    pytest.param("12.1", rope_float32, id="12.1-float32"),
    pytest.param("12.2", [0, 2, 4, 6, 1, 3, 5, 7], id="12.2-list"),
    pytest.param("12.2", np.concatenate([np.arange(0, 8, 2), np.arange(1, 8, 2)]),
                 id="12.2-concatenated-ranges"),
    pytest.param("12.2", np.arange(8).reshape(4, 2).T.reshape(-1), id="12.2-transpose"),
    pytest.param("12.2", np.array([0., 2., 4., 6., 1., 3., 5., 7.]), id="12.2-floats"),
    pytest.param("12.3", slopes_loop, id="12.3-loop"),
    pytest.param("12.3", slopes_ratio, id="12.3-paper-ratio"),
    pytest.param("12.3", slopes_numpy, id="12.3-numpy"),
]

MISTAKES = [
    # 12.1
    pytest.param("12.1", slip(sign=-1.0), "sin_sign", id="12.1-negative-angle"),
    pytest.param("12.1", conjugate, "sin_sign", id="12.1-conjugate"),
    pytest.param("12.1", slip(exponent=1.0), "frequency_exponent", id="12.1-base^(-i/d)"),
    pytest.param("12.1", slip(pairing="half"), "half_pairing", id="12.1-half-split"),
    pytest.param("12.1", lambda x, pos: x, "no_rotation", id="12.1-identity"),
    pytest.param("12.1", lambda x, pos: rope_complex(x, np.zeros_like(pos)), "no_rotation",
                 id="12.1-positions-forgotten"),
    pytest.param("12.1", slip(shift=1), "positions_from_one", id="12.1-positions+1"),
    pytest.param("12.1", cos_plus_sin, "not_rotation", id="12.1-cos-plus-sin"),
    pytest.param("12.1", lambda x, pos: reference.rope(x, pos, pairing="interleaved"),
                 "library", id="12.1-calls-reference"),
    pytest.param("12.1", lambda x, pos: positions.rope(x, pos, pairing="interleaved").numpy(),
                 "library", id="12.1-calls-attn_lib.rope"),
    pytest.param("12.1", np.zeros((5, 8)), "not_function", id="12.1-array-not-function"),
    # 12.2
    pytest.param("12.2", [0, 4, 1, 5, 2, 6, 3, 7], "inverse", id="12.2-inverse"),
    pytest.param("12.2", list(range(8)), "identity", id="12.2-identity"),
    pytest.param("12.2", [1, 3, 5, 7, 0, 2, 4, 6], "swapped_pairs", id="12.2-odd-first"),
    pytest.param("12.2", [1, 3, 5, 7, 2, 4, 6, 8], "one_based", id="12.2-one-based"),
    pytest.param("12.2", [0, 2, 1, 3], "wrong_size", id="12.2-for-d=4"),
    pytest.param("12.2", [0, 2, 4, 6, 0, 2, 4, 6], "not_permutation", id="12.2-evens-twice"),
    pytest.param("12.2", [[0, 2, 4, 6], [1, 3, 5, 7]], "wrong_size", id="12.2-two-rows"),
    # 12.3
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "base_two"), "base_two",
                 id="12.3-2^-k"),
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "no_eight"), "no_eight",
                 id="12.3-2^(-k/h)"),
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "start_at_zero"), "start_at_zero",
                 id="12.3-k-from-0"),
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "no_power_rule"), "no_power_rule",
                 id="12.3-2^(-8k/h)-for-every-h"),
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "fill_first"), "fill_first",
                 id="12.3-extra-heads-from-the-first-slopes"),
    pytest.param("12.3", lambda h: ch12._slopes_slip(h, "reversed"), "reversed",
                 id="12.3-reversed"),
    pytest.param("12.3", lambda h: reference.alibi_slopes(h), "library",
                 id="12.3-calls-reference"),
    pytest.param("12.3", lambda h: positions.alibi_slopes(h).numpy(), "library",
                 id="12.3-calls-attn_lib"),
    pytest.param("12.3", reference.alibi_slopes(8), "not_function", id="12.3-array"),
]

(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch12", RIGHT, MISTAKES, EXPECTED)
