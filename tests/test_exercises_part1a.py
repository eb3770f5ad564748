"""The self-checks of Chapters 1 and 2 accept the right answer and reject wrong ones."""

import numpy as np
import pytest
import tensorflow as tf

from attn_lib import masked_softmax, reference
from attn_lib.data import make_kernel_regression
from attn_lib.exercises import check, is_correct


@pytest.fixture(scope="module")
def data():
    return make_kernel_regression(n_train=50, n_test=50, noise=0.5, seed=0)


def nearest_neighbour(data):
    index = np.abs(data.x_test[:, None] - data.x_train[None, :]).argmin(axis=1)
    return data.y_train[index]


def test_1_1_accepts_the_nearest_key_lookup_and_rejects_a_soft_one(data):
    assert is_correct("1.1", nearest_neighbour(data))
    soft = reference.nadaraya_watson(data.x_test, data.x_train, data.y_train, 0.3)[0]
    assert not is_correct("1.1", soft)


def test_1_2_accepts_the_laplace_kernel_and_rejects_the_gaussian(data):
    scores = -np.abs(data.x_test[:, None] - data.x_train[None, :]) / 0.3
    assert is_correct("1.2", reference.softmax(scores, axis=1) @ data.y_train)
    gaussian = reference.nadaraya_watson(data.x_test, data.x_train, data.y_train, 0.3)[0]
    assert not is_correct("1.2", gaussian)


def test_1_3_accepts_the_fixed_axis_and_rejects_the_buggy_one(data):
    diffs = data.x_test[:, None] - data.x_train[None, :]
    scores = -(diffs**2) / (2 * 0.3**2)
    assert is_correct("1.3", reference.softmax(scores, axis=1) @ data.y_train)
    assert not is_correct("1.3", reference.softmax(scores, axis=0) @ data.y_train)


def test_2_1_accepts_uniform_weights_over_kept_keys_and_rejects_the_unmasked_softmax():
    lens = np.array([[1, 2, 4], [0, 3, 3]])
    assert is_correct("2.1", masked_softmax(np.zeros((2, 3, 4), "float32"), valid_lens=lens))
    assert not is_correct("2.1", np.full((2, 3, 4), 0.25))
    naive = tf.nn.softmax(tf.where(np.arange(4) < lens[..., None], 0.0, -1e6))  # (2, 3, 4)
    assert not is_correct("2.1", naive)  # the fully masked row is uniform, not zero


def test_2_2_accepts_a_correct_masked_softmax_and_rejects_the_usual_mistakes():
    assert is_correct("2.2", lambda s, m: masked_softmax(s, mask=m))
    assert not is_correct("2.2", lambda s, m: tf.nn.softmax(s * m))
    assert not is_correct("2.2", lambda s, m: tf.nn.softmax(
        tf.where(m, s, tf.constant(-1e6, s.dtype))))
    assert not is_correct("2.2", "not a function")


def test_2_3_accepts_the_temperature_with_largest_weight_point_nine():
    scores = np.array([3.0, 1.0, 0.5, 0.0, -1.0])
    low, high = 1e-3, 1e3
    for _ in range(100):
        middle = np.sqrt(low * high)
        low, high = (middle, high) if reference.softmax(scores / middle).max() > 0.9 else (
            low, middle)
    assert is_correct("2.3", low)
    assert not is_correct("2.3", 1.0)
    assert not is_correct("2.3", -low)


def test_check_prints_the_verdict_without_the_answer(capsys, data):
    check("1.1", None)
    check("1.1", nearest_neighbour(data))
    check("1.1", np.zeros(3))
    printed = capsys.readouterr().out
    assert "no answer yet" in printed and "correct" in printed and "not yet" in printed
