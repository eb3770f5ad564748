"""The NumPy oracle itself, checked by hand computations and published facts."""

import numpy as np
import pytest

from attn_lib import reference


def test_softmax_of_seed_000_scores_gives_the_published_weights():
    # q·k for q=[1,1,1,3] and the three keys: 16, 15, 7 (by hand)
    np.testing.assert_allclose(reference.softmax([16.0, 15.0, 7.0]), [0.731, 0.269, 9.02e-5],
                               rtol=1e-3)


def test_masked_softmax_fully_masked_row_is_zero_and_kept_rows_normalise():
    weights = reference.masked_softmax(np.zeros((1, 2, 3)), valid_lens=np.array([[0, 2]]))
    np.testing.assert_array_equal(weights[0], [[0, 0, 0], [0.5, 0.5, 0]])


def test_positional_encoding_first_rows_by_hand():
    P = reference.positional_encoding(3, 4)
    np.testing.assert_allclose(P[0], [0, 1, 0, 1])
    np.testing.assert_allclose(P[1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)])


def test_positional_encoding_handles_odd_sizes():
    assert reference.positional_encoding(5, 7).shape == (5, 7)


def test_nadaraya_watson_weights_sum_to_one_and_a_narrow_kernel_interpolates():
    x = np.array([0.0, 1.0, 2.0])
    y = np.array([5.0, 6.0, 7.0])
    predictions, weights = reference.nadaraya_watson(x, x, y, width=0.05)
    np.testing.assert_allclose(weights.sum(1), 1.0)
    np.testing.assert_allclose(predictions, y, atol=1e-6)
    wide, _ = reference.nadaraya_watson(x, x, y, width=1e3)
    np.testing.assert_allclose(wide, y.mean(), atol=1e-4)


def test_multi_head_with_one_head_and_identity_projections_is_dot_product():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    eye = np.eye(3)
    out, w = reference.multi_head_attention(x, x, x, 1, eye, eye, eye, eye)
    expected, expected_w = reference.dot_product_attention(x, x, x)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(w[:, 0], expected_w)


def test_merging_softmax_states_of_any_split_gives_the_state_of_all_keys(rng):
    scores, values = rng.normal(size=(3, 10)) * 4, rng.normal(size=(10, 2))
    whole = reference.softmax_state(scores, values)
    a, b = reference.softmax_state(scores[:, :4], values[:4]), reference.softmax_state(
        scores[:, 4:], values[4:])
    for merged in (reference.merge_softmax_states(a, b), reference.merge_softmax_states(b, a)):
        for got, want in zip(merged, whole):
            np.testing.assert_allclose(got, want, atol=1e-12)
    m, norm, o = whole
    np.testing.assert_allclose(o / norm[:, None], reference.softmax(scores) @ values,
                               atol=1e-12)


def test_merging_with_an_empty_state_changes_nothing_and_gives_no_nan(rng):
    state = reference.softmax_state(rng.normal(size=(2, 5)), rng.normal(size=(5, 3)))
    empty = reference.softmax_state(np.full((2, 4), -np.inf), np.zeros((4, 3)))
    np.testing.assert_array_equal(empty[0], [-np.inf, -np.inf])
    for got, want in zip(reference.merge_softmax_states(empty, state), state):
        np.testing.assert_allclose(got, want, atol=1e-12)
    both_empty = reference.merge_softmax_states(empty, empty)
    assert not np.isnan(np.concatenate([x.reshape(-1) for x in both_empty[1:]])).any()


@pytest.mark.parametrize("causal", [False, True])
def test_tiled_attention_oracle_equals_plain_attention_and_its_logsumexp(rng, causal):
    q, k, v = rng.normal(size=(11, 4)), rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    mask = reference.causal_mask(11, 9)[None] if causal else None
    out, lse = reference.tiled_attention(q, k, v, block_q=3, block_k=4, causal=causal)
    plain, _ = reference.dot_product_attention(q[None], k[None], v[None], mask=mask)
    np.testing.assert_allclose(out, plain[0], atol=1e-12)
    scores = np.where(mask[0] if causal else True, q @ k.T / 2.0, -np.inf)
    np.testing.assert_allclose(lse, np.log(np.exp(scores).sum(axis=1)), atol=1e-12)


def test_rope_oracle_turns_each_pair_by_position_times_its_frequency_by_hand():
    x = np.array([[1.0, 2.0, 3.0, 4.0]] * 2)  # positions 0 and 1; base 100: θ = 1, 0.1
    half = reference.rope(x, base=100)  # pairs (x0, x2) by 1 rad, (x1, x3) by 0.1 rad
    np.testing.assert_allclose(half[0], x[0])
    np.testing.assert_allclose(half[1], [np.cos(1) - 3 * np.sin(1),
                                         2 * np.cos(0.1) - 4 * np.sin(0.1),
                                         np.sin(1) + 3 * np.cos(1),
                                         2 * np.sin(0.1) + 4 * np.cos(0.1)])
    inter = reference.rope(x, base=100, pairing="interleaved")  # pairs (x0, x1), (x2, x3)
    np.testing.assert_allclose(inter[1], [np.cos(1) - 2 * np.sin(1), np.sin(1) + 2 * np.cos(1),
                                          3 * np.cos(0.1) - 4 * np.sin(0.1),
                                          3 * np.sin(0.1) + 4 * np.cos(0.1)])


def test_alibi_oracle_slopes_are_the_papers_and_its_bias_is_minus_slope_times_distance():
    np.testing.assert_allclose(reference.alibi_slopes(8), 0.5 ** np.arange(1, 9))
    np.testing.assert_allclose(reference.alibi_slopes(3), [2**-4, 2**-8, 2**-2])
    bias = reference.alibi_bias(2, 2, 4, offset=1)  # queries at positions 1 and 2
    np.testing.assert_allclose(bias[0], -(2**-4) * np.array([[1, 0, 1, 2], [2, 1, 0, 1]]))


def test_sliding_window_mask_oracle_by_hand():
    np.testing.assert_array_equal(reference.sliding_window_mask(3, 4, window=2, offset=1),
                                  [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(reference.sliding_window_mask(2, 4, 2, 1, causal=False),
                                  [[1, 1, 1, 0], [0, 1, 1, 1]])


def repeat_heads(W, num_heads, group):
    """(d_in, h·d) -> (d_in, h·g·d): each head's block of columns repeated g times."""
    d_in = W.shape[0]
    blocks = W.reshape(d_in, num_heads, -1)
    return np.repeat(blocks, group, axis=1).reshape(d_in, -1)


@pytest.mark.parametrize("num_key_value_heads", [1, 2, 4])
def test_grouped_query_oracle_is_multi_head_with_key_value_weights_repeated(
        rng, num_key_value_heads):
    """A group of g query heads sharing a head = g heads with copies of its weights."""
    x = rng.normal(size=(2, 5, 6))
    group = 4 // num_key_value_heads
    W_q, W_o = rng.normal(size=(6, 4 * 3)), rng.normal(size=(4 * 2, 5))
    W_k, W_v = rng.normal(size=(6, num_key_value_heads * 3)), rng.normal(
        size=(6, num_key_value_heads * 2))
    mask = reference.causal_mask(5, 5)[None]
    out, weights = reference.grouped_query_attention(x, x, x, 4, num_key_value_heads, W_q, W_k,
                                                     W_v, W_o, mask=mask)
    expected, expected_w = reference.multi_head_attention(
        x, x, x, 4, W_q, repeat_heads(W_k, num_key_value_heads, group),
        repeat_heads(W_v, num_key_value_heads, group), W_o, mask=mask)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(weights, expected_w, atol=1e-12)
