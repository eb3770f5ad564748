"""attn_lib.kernel_regression: Gaussian scores, the NadarayaWatson layer, leave-one-out data."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attn_lib import reference
from attn_lib.data import make_kernel_regression
from attn_lib.kernel_regression import NadarayaWatson, gaussian_kernel_scores, leave_one_out


def as_batch(x):
    """``(n,)`` -> ``(1, n, 1)`` float32."""
    return np.asarray(x, dtype="float32").reshape(1, -1, 1)


@pytest.fixture(scope="module")
def data():
    return make_kernel_regression(n_train=20, n_test=15, seed=3)


@pytest.mark.parametrize("width", [0.1, 0.5, 2.0])
def test_softmax_of_gaussian_scores_gives_the_reference_weights(data, width):
    scores = gaussian_kernel_scores(as_batch(data.x_test), as_batch(data.x_train), width)
    _, expected = reference.nadaraya_watson(data.x_test, data.x_train, data.y_train, width)
    np.testing.assert_allclose(tf.nn.softmax(scores).numpy()[0], expected, atol=1e-6)


def test_gaussian_scores_use_the_squared_euclidean_distance_in_several_dimensions(rng):
    queries = rng.normal(size=(2, 3, 4)).astype("float32")
    keys = rng.normal(size=(2, 5, 4)).astype("float32")
    squared = ((queries[:, :, None, :] - keys[:, None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(gaussian_kernel_scores(queries, keys, 0.7).numpy(),
                               -squared / (2 * 0.7**2), rtol=1e-5)


@pytest.mark.parametrize("width", [0.2, 1.0])
def test_layer_predicts_like_the_reference_nadaraya_watson(data, width):
    layer = NadarayaWatson(initial_width=width)
    out = layer(as_batch(data.x_test), as_batch(data.x_train), as_batch(data.y_train))
    expected, weights = reference.nadaraya_watson(data.x_test, data.x_train, data.y_train,
                                                  width)
    assert out.shape == (1, len(data.x_test), 1)
    np.testing.assert_allclose(out.numpy().ravel(), expected, atol=1e-5)
    np.testing.assert_allclose(layer.attention_weights.numpy()[0], weights, atol=1e-6)


def test_layer_width_starts_at_initial_width_and_is_its_only_weight():
    layer = NadarayaWatson(initial_width=0.3)
    x = as_batch([0.0, 1.0])
    layer(x, x, x)
    assert [w.name for w in layer.weights] == ["log_width"]
    np.testing.assert_allclose(float(layer.width), 0.3, rtol=1e-6)


def test_layer_mask_drops_keys_like_leave_one_out(data):
    x = as_batch(data.x_train)
    y = as_batch(data.y_train)
    n = len(data.x_train)
    layer = NadarayaWatson(initial_width=0.4)
    masked = layer(x, x, y, mask=~np.eye(n, dtype=bool)[None]).numpy().ravel()
    queries, keys, values, _ = leave_one_out(data.x_train, data.y_train)
    separate = layer(queries, keys, values).numpy().ravel()
    np.testing.assert_allclose(masked, separate, atol=1e-5)


def test_training_on_leave_one_out_data_finds_the_best_width_on_a_grid():
    data = make_kernel_regression(n_train=50, seed=0)
    queries, keys, values, targets = leave_one_out(data.x_train, data.y_train)
    layer = NadarayaWatson(initial_width=1.0)
    q, k, v = (keras.Input((None, 1)) for _ in range(3))
    model = keras.Model([q, k, v], layer(q, k, v))
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.fit([queries, keys, values], targets, batch_size=len(queries), epochs=60,
              verbose=0)
    widths = np.geomspace(0.05, 2.0, 200)
    losses = []
    for width in widths:
        scores = -((queries - np.swapaxes(keys, 1, 2)) ** 2) / (2 * width**2)  # (n, 1, n-1)
        weights = reference.softmax(scores)
        losses.append(np.mean((weights @ values - targets) ** 2))
    best = widths[int(np.argmin(losses))]
    assert abs(float(layer.width) - best) / best < 0.05
    assert model.evaluate([queries, keys, values], targets, verbose=0) < min(losses) + 1e-3


def test_without_leave_one_out_the_in_sample_loss_prefers_the_smallest_width(data):
    losses = [np.mean((reference.nadaraya_watson(data.x_train, data.x_train, data.y_train,
                                                 w)[0] - data.y_train) ** 2)
              for w in (0.01, 0.1, 1.0)]
    assert losses[0] < losses[1] < losses[2]


def test_leave_one_out_pairs_each_query_with_every_other_point():
    x = np.arange(5.0)
    y = 10 * x
    queries, keys, values, targets = leave_one_out(x, y)
    assert (queries.shape, keys.shape, values.shape, targets.shape) == (
        (5, 1, 1), (5, 4, 1), (5, 4, 1), (5, 1, 1))
    for i in range(5):
        assert x[i] not in keys[i, :, 0]
        np.testing.assert_array_equal(keys[i, :, 0], np.delete(x, i))
        np.testing.assert_array_equal(values[i, :, 0], np.delete(y, i))
    assert queries.dtype == np.float32


def test_leave_one_out_keeps_feature_axes():
    queries, keys, values, targets = leave_one_out(np.zeros((4, 2)), np.zeros((4, 3)))
    assert (queries.shape, keys.shape, values.shape, targets.shape) == (
        (4, 1, 2), (4, 3, 2), (4, 3, 3), (4, 1, 3))


def test_config_round_trip_keeps_the_initial_width():
    layer = NadarayaWatson(initial_width=0.25, name="nw")
    clone = NadarayaWatson.from_config(layer.get_config())
    assert clone.initial_width == 0.25 and clone.name == "nw"


@pytest.mark.parametrize("width", [0.0, -1.0])
def test_non_positive_initial_width_is_rejected(width):
    with pytest.raises(ValueError, match=r"`initial_width` must be > 0. Received"):
        NadarayaWatson(initial_width=width)


def test_non_numeric_initial_width_is_rejected():
    with pytest.raises(TypeError, match=r"`initial_width` must be a positive float"):
        NadarayaWatson(initial_width="wide")


def test_scores_reject_a_non_positive_width():
    x = as_batch([0.0, 1.0])
    with pytest.raises(ValueError, match=r"`width` must be > 0. Received: width=0.0"):
        gaussian_kernel_scores(x, x, 0.0)
    with pytest.raises(TypeError, match=r"`width` must be a positive number"):
        gaussian_kernel_scores(x, x, "1")


def test_scores_reject_queries_and_keys_of_different_sizes():
    with pytest.raises(ValueError, match=r"same size \(the last axis\).*queries.shape=\(1, 2, 1\)"):
        gaussian_kernel_scores(np.zeros((1, 2, 1), "float32"), np.zeros((1, 3, 2), "float32"))


def test_scores_reject_wrong_ranks_and_integer_inputs():
    with pytest.raises(ValueError, match=r"`queries` must have rank 3"):
        gaussian_kernel_scores(np.zeros((2, 1), "float32"), np.zeros((1, 2, 1), "float32"))
    with pytest.raises(TypeError, match=r"`keys` must be a floating-point tensor"):
        gaussian_kernel_scores(np.zeros((1, 2, 1), "float32"), np.zeros((1, 2, 1), "int32"))


def test_layer_rejects_keys_and_values_of_different_lengths():
    with pytest.raises(ValueError, match=r"same number of positions"):
        NadarayaWatson()(as_batch([0.0]), as_batch([0.0, 1.0]), as_batch([0.0, 1.0, 2.0]))


def test_leave_one_out_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"same number of points. Received: x.shape=\(3, 1\)"):
        leave_one_out(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"at least 2 points"):
        leave_one_out(np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match=r"`x` must have shape \(n,\) or \(n, features\)"):
        leave_one_out(np.zeros((2, 2, 2)), np.zeros(2))
