"""Exercise checks of Chapters 3 and 4: each accepts the right answer and rejects a wrong one."""

import numpy as np
import pytest

from attn_lib import reference
from attn_lib.exercises import check, is_correct


def _right_3_4(grid):
    return grid / grid.sum(axis=-1, keepdims=True)


def _right_4_2(key_padding_mask):
    return np.sum(~np.asarray(key_padding_mask, dtype=bool), axis=-1)


def _right_4_3(queries, keys, values, valid_lens):
    value_mask = np.arange(keys.shape[1])[None, :] < np.asarray(valid_lens)[:, None]
    return [queries, values, keys], [None, value_mask]


def _right_4_4(weights, atol=1e-6):
    return bool((np.triu(np.asarray(weights), k=1) > atol).any())


def _seed_weights_with_second_key_masked():
    query = np.array([1.0, 1.0, 1.0, 3.0])
    keys = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])
    scores = keys @ query
    kept = np.exp(scores[[0, 2]] - scores[[0, 2]].max())
    kept /= kept.sum()
    return np.array([kept[0], 0.0, kept[1]])


RIGHT = {
    "3.1": 32 * 512 * 512 * 128 * 4,
    "3.2": 1024.0,
    "3.3": np.eye(8) / np.sqrt(8),
    "3.4": _right_3_4,
    "4.1": _seed_weights_with_second_key_masked(),
    "4.2": _right_4_2,
    "4.3": _right_4_3,
    "4.4": _right_4_4,
}

WRONG = {
    "3.1": 32 * 512 * 512 * 128,  # forgot the 4 bytes per float32
    "3.2": 64.0,  # the unit-variance answer
    "3.3": np.eye(8) / 8,  # divided by d, not √d
    "3.4": lambda grid: grid,  # left as it was
    "4.1": reference.softmax(np.array([16.0, 15.0, 7.0])),  # ignored the mask
    "4.2": lambda kpm: np.sum(np.asarray(kpm), axis=-1),  # counted the padding
    "4.3": lambda q, k, v, lens: ([q, k, v], [None, np.arange(k.shape[1])[None, :]
                                             < np.asarray(lens)[:, None]]),  # textbook order
    "4.4": lambda weights: bool((np.tril(np.asarray(weights), k=-1) > 1e-6).any()),  # wrong side
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_the_worked_answer_passes(exercise_id):
    assert is_correct(exercise_id, RIGHT[exercise_id])


@pytest.mark.parametrize("exercise_id", sorted(WRONG))
def test_a_typical_mistake_is_rejected(exercise_id):
    assert not is_correct(exercise_id, WRONG[exercise_id])


def test_exact_within_tolerance_and_empirical_answers_pass_3_2():
    rng = np.random.default_rng(0)
    q = rng.normal(scale=2.0, size=(20_000, 64))
    k = rng.normal(scale=2.0, size=(20_000, 64))
    assert is_correct("3.2", np.var(np.sum(q * k, axis=1)))


def test_a_function_answer_that_crashes_is_wrong_not_an_error(capsys):
    check("4.2", lambda kpm: kpm.nonexistent)
    assert "not yet" in capsys.readouterr().out


def test_a_non_function_answer_to_a_function_exercise_is_wrong():
    for exercise_id in ("3.4", "4.2", "4.3", "4.4"):
        assert not is_correct(exercise_id, 3)


def test_4_2_rejects_float_valid_lens():
    assert not is_correct("4.2", lambda kpm: _right_4_2(kpm).astype(float))


def test_4_4_rejects_a_detector_without_tolerance():
    assert not is_correct("4.4", lambda weights: bool((np.triu(weights, k=1) != 0).any()))
