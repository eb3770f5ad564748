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
