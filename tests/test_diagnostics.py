"""Diagnostics: byte counts, timing, row kinds, and the faulty seed-004 layer's defects."""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import SeedBilinearLayer, row_kind, tensor_bytes, time_call


def test_tensor_bytes_is_the_product_of_the_shape_times_the_item_size():
    assert tensor_bytes((2, 3, 4, 5)) == 2 * 3 * 4 * 5 * 4
    assert tensor_bytes((2, 3), "float16") == 12
    assert tensor_bytes((2, 3), np.float64) == 48
    assert tensor_bytes(()) == 4


def test_tensor_bytes_of_the_additive_features_is_h_times_the_scores():
    B, Tq, Tv, h = 4, 7, 9, 16
    assert tensor_bytes((B, Tq, Tv, h)) == h * tensor_bytes((B, Tq, Tv))


def test_tensor_bytes_rejects_bad_shapes():
    with pytest.raises(TypeError, match=r"`shape` must be a tuple of integers"):
        tensor_bytes(12)
    with pytest.raises(ValueError, match=r"`shape` must be >= 0. Received: shape=-1"):
        tensor_bytes((2, -1))
    with pytest.raises(TypeError, match=r"`shape` must be an integer"):
        tensor_bytes((2, 1.5))


def test_time_call_returns_the_median_and_materialises_tensors():
    calls = []

    class Lazy:
        def numpy(self):
            calls.append("numpy")

    seconds = time_call(lambda: {"a": [Lazy(), (Lazy(),)]}, repeats=3, warmup=1)
    assert seconds >= 0.0
    assert len(calls) == 2 * (3 + 1)


def test_time_call_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"`function` must be callable"):
        time_call(3)
    with pytest.raises(ValueError, match=r"`repeats` must be > 0. Received: repeats=0"):
        time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError, match=r"`warmup` must be >= 0. Received: warmup=-1"):
        time_call(lambda: None, warmup=-1)


@pytest.mark.parametrize("row, kind", [
    ([0.0, 0.0, 0.0], "zeros"),
    ([1 / 3, 1 / 3, 1 / 3], "uniform"),
    ([0.0, 1.0, 0.0], "one-hot"),
    ([0.2, 0.8, 0.0], "distribution"),
    ([np.nan, 0.5, 0.5], "nan"),
    ([0.5, 0.9, 0.0], "other"),
])
def test_row_kind_names_each_kind_of_row(row, kind):
    assert row_kind(row) == kind


def test_row_kind_rejects_matrices():
    with pytest.raises(ValueError, match=r"non-empty 1-D.*Received: row.shape=\(2, 2\)"):
        row_kind(np.eye(2))


def test_row_kind_calls_masked_softmax_of_a_fully_masked_row_zeros():
    weights = attn_lib.masked_softmax(np.zeros((1, 1, 3), "float32"),
                                      valid_lens=np.array([0])).numpy()
    assert row_kind(weights[0, 0]) == "zeros"


@pytest.fixture
def seed_inputs(rng):
    query = rng.normal(size=(4, 2, 3)).astype(np.float32)
    value = rng.normal(size=(4, 5, 3)).astype(np.float32)
    key = rng.normal(size=(4, 5, 3)).astype(np.float32)
    return query, value, key


def test_seed_layer_scores_are_bilinear_with_a_ones_matrix(seed_inputs):
    query, value, key = seed_inputs
    layer = SeedBilinearLayer(use_bias=False)
    out = layer([query, value, key]).numpy()
    scores = query @ np.ones((3, 3)) @ key.transpose(0, 2, 1)  # (B, Tq, Tv)
    grid = reference.softmax(scores.reshape(4, -1)).reshape(4, 2, 5)
    np.testing.assert_allclose(layer.attention_weights.numpy(), grid, atol=1e-5)
    np.testing.assert_allclose(out, grid @ value, atol=1e-5)


def test_seed_layer_weights_depend_on_the_batch_size(seed_inputs):
    query, value, key = seed_inputs
    layer = SeedBilinearLayer()
    layer([query, value, key])
    assert tuple(layer.W.shape) == (4, 3, 3)
    assert tuple(layer.b.shape) == (4, 2, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="compatible batch"):
        layer([query[:3], value[:3], key[:3]])
    assert layer([query[:1], value[:1], key[:1]]).shape[0] == 4  # silent broadcast


def test_seed_layer_softmax_normalises_the_grid_not_each_query(seed_inputs):
    query, value, key = seed_inputs
    layer = SeedBilinearLayer()
    layer([query, value, key])
    weights = layer.attention_weights.numpy()
    np.testing.assert_allclose(weights.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert not np.allclose(weights.sum(axis=-1), 1.0, atol=1e-3)


def test_seed_layer_adds_one_and_never_uses_its_bias(seed_inputs):
    query, value, key = seed_inputs
    with_flag = SeedBilinearLayer(use_bias=True)
    without = SeedBilinearLayer(use_bias=False)
    with tf.GradientTape() as tape:
        out = with_flag([query, value, key])
        loss = tf.reduce_sum(out)
    np.testing.assert_allclose(out.numpy() - without([query, value, key]).numpy(), 1.0,
                               atol=1e-5)
    grad_W, grad_b = tape.gradient(loss, [with_flag.W, with_flag.b])
    assert grad_W is not None and grad_b is None


def test_seed_layer_takes_query_value_key_and_needs_all_three(seed_inputs):
    query, value, key = seed_inputs
    layer = SeedBilinearLayer(use_bias=False)
    out = layer([query, value, key]).numpy()
    np.testing.assert_allclose(out, layer.attention_weights.numpy() @ value, atol=1e-5)
    with pytest.raises(IndexError):
        layer([query, value])


def test_seed_layer_rejects_a_non_boolean_flag():
    with pytest.raises(TypeError, match=r"`use_bias` must be True or False. Received: "
                                        r"use_bias='yes'"):
        SeedBilinearLayer(use_bias="yes")


def test_seed_layer_config_round_trips():
    layer = SeedBilinearLayer(use_bias=False)
    assert SeedBilinearLayer.from_config(layer.get_config()).use_bias is False
    assert isinstance(layer, keras.layers.Layer)


def test_time_call_best_returns_the_fastest_run():
    delays = iter([0.0, 0.03, 0.0, 0.03])  # warm-up, then runs of 30 ms, 0 ms, 30 ms

    def uneven():
        time.sleep(next(delays))

    assert time_call(uneven, repeats=3, warmup=1, best=True) < 0.02
