"""attn_lib.diagnostics: byte counts, timing, row kinds, the cost of self-attention, leaks."""

import time

import numpy as np
import pytest

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import (
    attention_weights_bytes,
    leak_test,
    row_kind,
    tensor_bytes,
    time_call,
    time_self_attention,
)


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


def test_time_call_best_returns_the_fastest_run():
    delays = iter([0.0, 0.03, 0.0, 0.03])  # warm-up, then runs of 30 ms, 0 ms, 30 ms

    def uneven():
        time.sleep(next(delays))

    assert time_call(uneven, repeats=3, warmup=1, best=True) < 0.02


# --- the cost of self-attention -----------------------------------------------------------------


def test_attention_weights_bytes_is_batch_heads_length_squared_itemsize():
    assert attention_weights_bytes(100, batch_size=3, num_heads=2) == 3 * 2 * 100**2 * 4
    assert attention_weights_bytes(10, dtype="float16") == 200


def test_attention_weights_bytes_rejects_a_zero_length_and_a_bad_count():
    with pytest.raises(ValueError, match=r"`length` must be > 0. Received: length=0"):
        attention_weights_bytes(0)
    with pytest.raises(TypeError, match=r"`num_heads` must be an integer. Received: "
                                        r"num_heads=2.0"):
        attention_weights_bytes(8, num_heads=2.0)


def test_time_self_attention_returns_one_positive_time_per_length():
    seconds = time_self_attention([4, 8, 16], repeats=1)
    assert seconds.shape == (3,) and seconds.dtype == np.float64 and (seconds > 0).all()


def test_time_self_attention_rejects_bad_lengths_and_repeats():
    with pytest.raises(ValueError, match="`lengths` must hold at least one length"):
        time_self_attention([])
    with pytest.raises(TypeError, match="`lengths` must be an integer"):
        time_self_attention([2.5])
    with pytest.raises(ValueError, match="`repeats` must be > 0"):
        time_self_attention([4], repeats=0)


# --- leak_test ----------------------------------------------------------------------------------
# Hand-written attention in NumPy whose masks are right or wrong on purpose: leak_test must find
# exactly the pairs that a wrong mask lets through.


def self_attention_seeing(allowed):
    """Self-attention of x (B, T, d) in which query i sees key j where allowed[i, j]."""
    def call(x):
        scores = x @ np.swapaxes(x, 1, 2) / np.sqrt(x.shape[-1])  # (B, T, T)
        weights = reference.masked_softmax(scores, mask=np.broadcast_to(allowed, scores.shape))
        return weights @ x  # (B, T, d)
    return call


@pytest.fixture
def sequence(rng):
    return rng.normal(size=(2, 5, 4)).astype(np.float32)  # (B, T, d)


def test_leak_test_finds_every_future_key_an_inverted_causal_mask_lets_through(sequence):
    causal = np.tril(np.ones((5, 5), bool))  # j <= i: what a query may see
    inverted = np.triu(np.ones((5, 5), bool))  # j >= i: the mask written the wrong way round
    visible = np.broadcast_to(causal, (2, 5, 5))
    leaks = leak_test(self_attention_seeing(inverted), visible, sequence)
    assert leaks.shape == (2, 5, 5) and leaks.dtype == bool
    np.testing.assert_array_equal(leaks, np.broadcast_to(~causal, (2, 5, 5)))  # all j > i


def test_leak_test_finds_no_leak_in_a_correct_causal_mask(sequence):
    causal = np.tril(np.ones((5, 5), bool))
    visible = np.broadcast_to(causal, (2, 5, 5))
    assert not leak_test(self_attention_seeing(causal), visible, sequence).any()


def test_leak_test_does_not_count_a_query_changing_with_its_own_position(sequence):
    # output i = x_i sees nothing else; changing x_i moves output i, which is no leak
    leaks = leak_test(lambda x: x, np.zeros((2, 5, 5), bool), sequence)
    assert not leaks.any()


def test_leak_test_finds_the_padded_keys_an_ignored_padding_mask_reads(rng):
    queries = rng.normal(size=(2, 3, 4)).astype(np.float32)
    keys = rng.normal(size=(2, 6, 4)).astype(np.float32)
    values = rng.normal(size=(2, 6, 2)).astype(np.float32)
    valid_lens = np.array([4, 2])
    visible = np.broadcast_to(reference.sequence_mask(valid_lens, 6)[:, None, :], (2, 3, 6))

    def ignores_padding(q, k, v):  # valid_lens never reaches the softmax
        return reference.dot_product_attention(q, k, v)[0]

    def masks_padding(q, k, v):
        return reference.dot_product_attention(q, k, v, valid_lens=valid_lens)[0]

    leaks = leak_test(ignores_padding, visible, queries, keys, values)
    np.testing.assert_array_equal(leaks, ~visible)  # every query reads every padded key
    assert not leak_test(masks_padding, visible, queries, keys, values).any()


def test_leak_test_finds_no_leaks_in_attn_lib_layers_with_their_masks(rng, sequence):
    causal = np.broadcast_to(np.tril(np.ones((5, 5), bool)), (2, 5, 5))
    self_attention = attn_lib.SelfAttention(units=4, num_heads=2)
    multi_head = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3)
    assert not leak_test(lambda x: self_attention(x, causal=True), causal, sequence).any()
    assert not leak_test(lambda x: multi_head(x, x, x, causal=True), causal, sequence).any()

    queries = rng.normal(size=(2, 3, 4)).astype(np.float32)
    valid_lens = np.array([5, 1])
    padding = np.broadcast_to(reference.sequence_mask(valid_lens, 5)[:, None, :], (2, 3, 5))
    layers = [attn_lib.DotProductAttention(), attn_lib.AdditiveAttention(units=3),
              attn_lib.GeneralAttention()]
    for layer in layers:
        by_lengths = leak_test(lambda q, k, v, layer=layer: layer(q, k, v, valid_lens=valid_lens),
                               padding, queries, sequence, sequence)
        by_mask = leak_test(lambda q, k, v, layer=layer: layer(q, k, v, mask=padding),
                            padding, queries, sequence, sequence)
        assert not by_lengths.any() and not by_mask.any(), layer.name


def test_leak_test_rejects_a_call_that_is_not_callable(sequence):
    with pytest.raises(TypeError, match=r"`call` must be callable. Received: call=3"):
        leak_test(3, np.ones((2, 5, 5), bool), sequence)


def test_leak_test_rejects_inputs_of_the_wrong_rank(sequence):
    with pytest.raises(ValueError, match=r"`queries` must have rank 3. Received: "
                                         r"queries.shape=\(5, 4\)"):
        leak_test(lambda x: x, np.ones((1, 5, 5), bool), sequence[0])
    with pytest.raises(ValueError, match=r"`keys` must have rank 3. Received: "
                                         r"keys.shape=\(5, 4\)"):
        leak_test(lambda q, k, v: q, np.ones((2, 5, 5), bool), sequence, sequence[0], sequence)
    with pytest.raises(ValueError, match=r"`values` must have rank 3. Received: "
                                         r"values.shape=\(\)"):
        leak_test(lambda q, k, v: q, np.ones((2, 5, 5), bool), sequence, sequence)


def test_leak_test_rejects_a_visible_mask_of_the_wrong_shape(sequence):
    with pytest.raises(ValueError, match=r"`visible` must have shape \(B, Tq, Tv\) = "
                                         r"\(2, 5, 5\). Received: visible.shape=\(5, 5\)"):
        leak_test(lambda x: x, np.ones((5, 5), bool), sequence)


def test_peak_memory_of_plain_attention_grows_like_the_square_and_tiled_stays_small():
    from attn_lib.diagnostics import peak_memory

    plain = peak_memory([1024, 4096], method="plain")
    tiled = peak_memory([4096], method="tiled")
    matrix = attention_weights_bytes(4096)  # one (T, T) float32 matrix: 64 MiB
    assert plain.shape == (2,) and plain.dtype == np.int64
    assert plain[1] >= 0.9 * matrix
    assert plain[1] >= 4 * plain[0]
    assert tiled[0] <= 0.5 * matrix


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lengths": []}, ValueError, "non-empty, increasing"),
    ({"lengths": [1024, 512]}, ValueError, "increasing"),
    ({"lengths": [512], "method": "flash"}, ValueError, "`method` must be"),
    ({"lengths": [512], "dtype": "float16"}, ValueError, "`dtype` must be"),
    ({"lengths": [512], "head_size": 0}, ValueError, "`head_size` must be > 0"),
    ({"lengths": [512.0]}, TypeError, "`lengths` must be an integer"),
])
def test_peak_memory_rejects_bad_arguments(kwargs, error, match):
    from attn_lib.diagnostics import peak_memory

    with pytest.raises(error, match=match):
        peak_memory(**kwargs)
