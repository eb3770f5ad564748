"""masked_softmax, sequence_mask and causal_mask: properties and error messages."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attn_lib import causal_mask, masked_softmax, reference, sequence_mask, sliding_window_mask


@st.composite
def scores_and_lens(draw, per_query=None):
    batch = draw(st.integers(1, 3))
    num_queries = draw(st.integers(1, 4))
    num_kv = draw(st.integers(1, 6))
    scores = draw(hnp.arrays(np.float32, (batch, num_queries, num_kv),
                             elements=st.floats(-50, 50, width=32)))
    two_d = draw(st.booleans()) if per_query is None else per_query
    lens_shape = (batch, num_queries) if two_d else (batch,)
    lens = draw(hnp.arrays(np.int32, lens_shape, elements=st.integers(0, num_kv)))
    return scores, lens


@given(scores_and_lens())
def test_kept_weights_sum_to_one_and_masked_weights_are_exactly_zero(case):
    scores, lens = case
    weights = masked_softmax(scores, valid_lens=lens).numpy()
    keep = reference.sequence_mask(lens, scores.shape[-1])
    keep = keep[:, None, :] if lens.ndim == 1 else keep
    keep = np.broadcast_to(keep, scores.shape)
    assert np.all(weights[~keep] == 0.0)
    sums = weights.sum(axis=-1)
    has_keys = keep.any(axis=-1)
    np.testing.assert_allclose(sums[has_keys], 1.0, rtol=1e-5)
    assert np.all(sums[~has_keys] == 0.0)


@given(scores_and_lens())
def test_matches_the_numpy_reference(case):
    scores, lens = case
    np.testing.assert_allclose(masked_softmax(scores, valid_lens=lens).numpy(),
                               reference.masked_softmax(scores, valid_lens=lens), atol=1e-6)


@given(scores_and_lens(), st.floats(-1e4, 1e4))
def test_adding_a_constant_to_every_score_changes_nothing(case, constant):
    scores, lens = case
    shifted = (scores.astype(np.float64) + constant).astype(np.float32)
    np.testing.assert_allclose(masked_softmax(shifted, valid_lens=lens).numpy(),
                               masked_softmax(scores, valid_lens=lens).numpy(), atol=2e-3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_fully_masked_row_is_all_zeros_in_every_float_dtype(dtype):
    scores = tf.cast(tf.constant([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]), dtype)
    weights = masked_softmax(scores, valid_lens=np.array([[0, 2]])).numpy().astype(float)
    np.testing.assert_array_equal(weights[0, 0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(weights[0, 1], reference.softmax([4.0, 5.0]).tolist() + [0.0],
                               atol=1e-2)
    assert masked_softmax(scores, valid_lens=np.array([[0, 2]])).dtype == scores.dtype


@given(hnp.arrays(np.float16, (2, 3, 5), elements=st.floats(-60000, 60000, width=16)),
       hnp.arrays(np.int32, (2,), elements=st.integers(0, 5)))
def test_float16_never_overflows_to_nan_or_inf(scores, lens):
    weights = masked_softmax(scores, valid_lens=lens).numpy()
    assert np.all(np.isfinite(weights))
    sums = weights.astype(np.float32).sum(-1)
    assert np.all((np.abs(sums - 1) < 1e-2) | (sums == 0))


def test_huge_logits_give_a_one_hot_row_not_nan():
    weights = masked_softmax(np.array([[[1e30, 0.0, -1e30]]], dtype=np.float32)).numpy()
    np.testing.assert_array_equal(weights, [[[1.0, 0.0, 0.0]]])
    masked = masked_softmax(np.array([[[1e30, 1e30, 0.0]]], dtype=np.float32),
                            valid_lens=np.array([1])).numpy()
    np.testing.assert_array_equal(masked, [[[1.0, 0.0, 0.0]]])


def test_gradient_is_finite_and_zero_at_masked_positions():
    scores = tf.Variable([[[1.0, 80.0, 1e4], [2.0, 3.0, 4.0]]])
    with tf.GradientTape() as tape:
        weights = masked_softmax(scores, valid_lens=np.array([[1, 0]]))
        loss = tf.reduce_sum(weights * tf.constant([1.0, 2.0, 3.0]))
    grad = tape.gradient(loss, scores).numpy()
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[0, 0, 1:], 0.0)
    np.testing.assert_array_equal(grad[0, 1], 0.0)


def test_boolean_mask_and_valid_lens_combine_with_and():
    scores = np.zeros((1, 2, 4), np.float32)
    mask = np.array([[[True, False, True, True]]])
    weights = masked_softmax(scores, valid_lens=np.array([3]), mask=mask).numpy()
    np.testing.assert_allclose(weights[0], [[0.5, 0, 0.5, 0], [0.5, 0, 0.5, 0]])


def test_valid_lens_broadcast_over_head_axis():
    scores = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    lens = np.array([2, 5])
    np.testing.assert_allclose(masked_softmax(scores, valid_lens=lens).numpy(),
                               reference.masked_softmax(scores, valid_lens=lens), atol=1e-6)


def test_sequence_mask_keeps_the_first_valid_len_positions():
    np.testing.assert_array_equal(sequence_mask(np.array([0, 2]), 3).numpy(),
                                  [[False, False, False], [True, True, False]])


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(causal_mask(3, 4).numpy(), reference.causal_mask(3, 4))
    np.testing.assert_array_equal(causal_mask(3).numpy(), np.tril(np.ones((3, 3), bool)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"valid_lens": np.array([1.0, 2.0])}, TypeError, r"valid_lens.*integers.*float64"),
        ({"valid_lens": np.array([1, 2, 3])}, ValueError,
         r"\(2,\) or \(2, 3\).*Received: valid_lens.shape=\(3,\)"),
        ({"valid_lens": np.array([1, -1])}, ValueError, r"non-negative.*minimum -1"),
        ({"valid_lens": np.ones((2, 5), np.int32)}, ValueError,
         r"\(2,\) or \(2, 3\).*valid_lens.shape=\(2, 5\)"),
        ({"mask": np.ones((2, 3, 4))}, TypeError, r"mask.*boolean.*float64"),
        ({"mask": np.ones((3, 1, 4), bool)}, ValueError,
         r"B or 1, Tq or 1, Tv or 1.*\(2, 3, 4\).*mask.shape=\(3, 1, 4\)"),
        ({"mask": np.ones((3, 4), bool)}, ValueError, r"rank 3.*mask.shape=\(3, 4\)"),
        ({"mask": np.array(True)}, ValueError, r"rank 3.*mask.shape=\(\)"),
        ({"mask": [None, np.ones((2, 4), bool)]}, TypeError, r"`mask` must be one boolean"),
    ],
)
def test_bad_arguments_are_named_in_the_error(kwargs, error, message):
    with pytest.raises(error, match=message):
        masked_softmax(np.zeros((2, 3, 4), np.float32), **kwargs)


def test_integer_scores_are_rejected():
    with pytest.raises(TypeError, match=r"`scores` must be a floating-point.*int64"):
        masked_softmax(np.zeros((1, 2, 3), np.int64))


def test_one_dimensional_scores_are_rejected():
    with pytest.raises(ValueError, match=r"at least 2 axes.*scores.shape=\(3,\)"):
        masked_softmax(np.zeros(3, np.float32))


def test_mask_helpers_reject_bad_sizes():
    with pytest.raises(ValueError, match=r"num_queries.*> 0"):
        causal_mask(0)
    with pytest.raises(TypeError, match=r"valid_lens.*integers"):
        sequence_mask(np.array([1.5]), 3)


# --- defects of 0.2, each with the test that would have caught it ---------------------------

def test_defect2_a_batch_mask_on_head_scores_is_refused_even_when_batch_equals_heads():
    scores = np.zeros((2, 2, 3, 4), np.float32)  # (B, h, Tq, Tv) with B == h
    with pytest.raises(ValueError, match=r"rank 4 \(B or 1, h or 1, Tq or 1, Tv or 1\).*"
                                         r"mask.shape=\(2, 3, 4\)"):
        masked_softmax(scores, mask=np.ones((2, 3, 4), bool))


def test_defect3_a_row_of_minus_infinity_scores_is_zeros_with_zero_gradients():
    scores = tf.constant([[[-np.inf, -np.inf, 1.0], [0.5, -np.inf, 2.0]]], tf.float32)
    mask = np.array([[[True, True, False], [True, True, True]]])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        weights = masked_softmax(scores, mask=mask)
        loss = tf.reduce_sum(weights * tf.constant([[[1.0, 2.0, 3.0]]]))
    gradient = tape.gradient(loss, scores).numpy()
    np.testing.assert_array_equal(weights.numpy()[0, 0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(weights.numpy()[0, 1], reference.softmax([0.5, 2.0]).tolist()[:1]
                               + [0.0] + reference.softmax([0.5, 2.0]).tolist()[1:], atol=1e-6)
    assert np.isfinite(gradient).all()
    np.testing.assert_array_equal(gradient[0, 0], 0.0)
    np.testing.assert_allclose(reference.masked_softmax(scores.numpy(), mask=mask),
                               weights.numpy(), atol=1e-7)


def test_defect3_minus_infinity_without_a_mask_is_zeros_too():
    weights = masked_softmax(np.full((1, 1, 3), -np.inf, np.float32)).numpy()
    np.testing.assert_array_equal(weights, 0.0)


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "uint16", "uint32", "uint64"])
def test_defect4_valid_lens_of_any_integer_width(dtype):
    scores = np.zeros((2, 3, 4), np.float32)
    expected = masked_softmax(scores, valid_lens=np.array([1, 3], np.int32)).numpy()
    np.testing.assert_array_equal(
        masked_softmax(scores, valid_lens=np.array([1, 3], dtype)).numpy(), expected)
    np.testing.assert_array_equal(sequence_mask(np.array([1, 3], dtype), 4).numpy(),
                                  reference.sequence_mask([1, 3], 4))


def test_masked_keys_get_no_weight_in_float16_even_when_kept_scores_are_very_negative():
    """A finite fill such as -1e4 would put all the weight on the masked key here."""
    scores = tf.constant([[[-30000.0, -30000.0, 0.0]]], tf.float16)
    weights = masked_softmax(scores, mask=np.array([[[True, True, False]]])).numpy()
    np.testing.assert_array_equal(weights, [[[0.5, 0.5, 0.0]]])


# --- causal masks with an offset (a chunk of queries after cached keys) -----------------------

def test_causal_mask_with_offset_is_the_last_rows_of_the_full_mask():
    for offset in range(4):
        for t in range(1, 4):
            np.testing.assert_array_equal(
                causal_mask(t, offset=offset).numpy(),
                causal_mask(offset + t).numpy()[-t:])
    np.testing.assert_array_equal(causal_mask(1, 5, offset=4).numpy(), np.ones((1, 5), bool))


def test_causal_mask_without_offset_is_unchanged():
    np.testing.assert_array_equal(causal_mask(2, 4).numpy(),
                                  np.array([[1, 0, 0, 0], [1, 1, 0, 0]], bool))


def test_causal_mask_rejects_a_negative_offset():
    with pytest.raises(ValueError, match="`offset` must be >= 0. Received: offset=-1"):
        causal_mask(2, offset=-1)


# --- sliding-window masks: the last W positions up to the query's own ------------------------

@given(st.integers(1, 6), st.integers(1, 8), st.integers(1, 9), st.integers(0, 5),
       st.booleans())
def test_sliding_window_mask_matches_the_reference(num_queries, num_kv, window, offset, causal):
    np.testing.assert_array_equal(
        sliding_window_mask(num_queries, window, num_kv, offset, causal).numpy(),
        reference.sliding_window_mask(num_queries, num_kv, window, offset, causal))


@pytest.mark.parametrize("window", [1, 2, 3, 7])
def test_each_query_sees_itself_and_at_most_window_minus_one_positions_before(window):
    mask = sliding_window_mask(7, window).numpy()
    for i in range(7):
        np.testing.assert_array_equal(np.flatnonzero(mask[i]),
                                      np.arange(max(0, i - window + 1), i + 1))


def test_a_window_as_long_as_the_sequence_is_the_causal_mask():
    for offset in range(3):
        np.testing.assert_array_equal(sliding_window_mask(4, 4 + offset, offset=offset).numpy(),
                                      causal_mask(4, offset=offset).numpy())


def test_sliding_window_mask_with_offset_is_the_last_rows_of_the_full_mask():
    for offset in range(5):
        for t in range(1, 4):
            np.testing.assert_array_equal(sliding_window_mask(t, 3, offset=offset).numpy(),
                                          sliding_window_mask(offset + t, 3).numpy()[-t:])


def test_non_causal_window_is_the_symmetric_band_of_2w_minus_1_keys():
    mask = sliding_window_mask(9, 3, causal=False).numpy()
    np.testing.assert_array_equal(mask, mask.T)
    assert mask.sum(axis=1).max() == 2 * 3 - 1


@pytest.mark.parametrize("kwargs, error, message", [
    ({"window": 0}, ValueError, r"`window` must be > 0. Received: window=0"),
    ({"window": 2.0}, TypeError, r"`window` must be an integer. Received: window=2.0"),
    ({"window": 2, "offset": -1}, ValueError, r"`offset` must be >= 0"),
    ({"window": 2, "causal": 1}, TypeError, r"`causal` must be True or False"),
])
def test_sliding_window_mask_names_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        sliding_window_mask(3, **kwargs)
