"""`attn_lib.tiled_attention`: the same numbers, masks and gradients as plain attention,
its log-sum-exp, and a graph with no (Tq, Tv) tensor in it."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_lib import causal_mask, masked_softmax, reference, tiled_attention

PRIMES = [1, 2, 3, 5, 7, 13, 31, 61, 127, 251, 257]
BLOCKS = [(64, 64), (7, 5), (16, 3), (1, 32)]  # few settings: one compiled loop each


@st.composite
def problems(draw):
    """Random attention problems: lengths 1-257 (primes often), blocks that need not
    divide them, causal or not, valid lengths (0 included) per row or per query, a mask."""
    length = st.one_of(st.sampled_from(PRIMES), st.integers(1, 257))
    num_q, num_kv = draw(length), draw(length)
    batch = draw(st.integers(1, 2))
    block_q, block_k = draw(st.sampled_from(BLOCKS))
    masking = draw(st.sampled_from(["none", "lens", "lens per query", "mask"]))
    seed = draw(st.integers(0, 2**16))
    return num_q, num_kv, batch, block_q, block_k, draw(st.booleans()), masking, seed


def _case(problem, dtype):
    num_q, num_kv, batch, block_q, block_k, causal, masking, seed = problem
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(batch, num_q, 4)), rng.normal(size=(batch, num_kv, 4))
    v = rng.normal(size=(batch, num_kv, 3))
    kwargs = {}
    if masking == "lens":
        kwargs["valid_lens"] = rng.integers(0, num_kv + 1, size=batch)
    elif masking == "lens per query":
        kwargs["valid_lens"] = rng.integers(0, num_kv + 1, size=(batch, num_q))
    elif masking == "mask":
        kwargs["mask"] = rng.random((1, num_q, num_kv)) < 0.6
    full = kwargs.get("mask", np.ones((1, num_q, num_kv), bool))
    if causal:
        full = full & reference.causal_mask(num_q, num_kv)[None]
    want, weights = reference.dot_product_attention(q, k, v, mask=full,
                                                    valid_lens=kwargs.get("valid_lens"))
    out, lse = tiled_attention(*(x.astype(dtype) for x in (q, k, v)), causal=causal,
                               block_q=block_q, block_k=block_k, return_logsumexp=True,
                               **kwargs)
    return q, k, want, weights, out.numpy(), lse.numpy()


@settings(max_examples=130)
@given(problems())
def test_equals_plain_attention_in_float32_to_1e_6(problem):
    q, k, want, weights, out, lse = _case(problem, "float32")
    assert out.dtype == np.float32 and lse.shape == want.shape[:2]
    np.testing.assert_allclose(out, want, atol=1e-6, rtol=0)
    # any block of weights, rebuilt from the log-sum-exp, is the plain softmax
    scores = q @ np.swapaxes(k, 1, 2) / 2.0  # (B, Tq, Tv), d = 4
    with np.errstate(invalid="ignore"):
        rebuilt = np.where(weights > 0, np.exp(scores - lse[..., None]), 0.0)
    np.testing.assert_allclose(rebuilt, weights, atol=1e-6, rtol=0)


@settings(max_examples=80)
@given(problems())
def test_equals_plain_attention_in_float64_to_1e_12_with_the_plain_logsumexp(problem):
    q, k, want, weights, out, lse = _case(problem, "float64")
    np.testing.assert_allclose(out, want, atol=1e-12, rtol=0)
    kept = weights.sum(axis=-1) > 0  # (B, Tq): queries with a key to attend to
    assert np.all(np.isneginf(lse[~kept]))
    scores = q @ np.swapaxes(k, 1, 2) / 2.0
    plain_lse = np.log(np.where(weights > 0, np.exp(scores), 0.0).sum(axis=-1)[kept])
    np.testing.assert_allclose(lse[kept], plain_lse, atol=1e-12, rtol=0)


def test_fully_masked_queries_get_zeros_and_zero_gradients_never_nan(rng):
    q, k, v = (tf.constant(rng.normal(size=(2, 6, 4))) for _ in range(3))
    with tf.GradientTape() as tape:
        tape.watch([q, k, v])
        out = tiled_attention(q, k, v, valid_lens=np.array([0, 3]), block_q=4, block_k=4)
        loss = tf.reduce_sum(out)
    np.testing.assert_array_equal(out[0], 0.0)
    grads = tape.gradient(loss, [q, k, v])
    assert not any(np.isnan(g).any() for g in grads)
    np.testing.assert_array_equal(grads[0][0], 0.0)


@pytest.mark.parametrize("causal", [False, True])
def test_gradients_equal_the_plain_path(rng, causal):
    q, k = tf.constant(rng.normal(size=(2, 19, 8))), tf.constant(rng.normal(size=(2, 23, 8)))
    v = tf.constant(rng.normal(size=(2, 23, 5)))
    valid_lens = np.array([23, 11])
    mask = causal_mask(19, 23)[None] if causal else None
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([q, k, v])
        tiled = tiled_attention(q, k, v, valid_lens=valid_lens, causal=causal, block_q=4,
                                block_k=6)
        scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(8.0)
        plain = tf.matmul(masked_softmax(scores, valid_lens=valid_lens, mask=mask), v)
        losses = [tf.reduce_sum(tf.sin(x)) for x in (tiled, plain)]
    for got, want in zip(tape.gradient(losses[0], [q, k, v]),
                         tape.gradient(losses[1], [q, k, v])):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_leading_axes_heads_and_a_broadcast_mask(rng):
    q, k, v = (rng.normal(size=(2, 3, 9, 4)) for _ in range(3))  # (B, h, T, d)
    mask = rng.random((2, 1, 9, 1)) < 0.7  # (B, 1, Tq, 1): some queries see nothing
    want, _ = reference.dot_product_attention(q, k, v, mask=mask & np.ones((1, 1, 1, 9), bool))
    np.testing.assert_allclose(tiled_attention(q, k, v, mask=mask, block_q=2, block_k=4),
                               want, atol=1e-12)
    lens = np.array([3, 9])
    want, _ = reference.dot_product_attention(q, k, v, valid_lens=lens)
    np.testing.assert_allclose(tiled_attention(q, k, v, valid_lens=lens, block_k=2), want,
                               atol=1e-12)


def _all_graphs(graph):
    """`graph` and every function graph inside it (while-loop bodies, map_fn's ...)."""
    graphs, seen = [graph], set()
    while graphs:
        g = graphs.pop()
        yield g
        for function in getattr(g, "_functions", {}).values():
            inner = getattr(function, "graph", None)
            if inner is not None and id(inner) not in seen:
                seen.add(id(inner))
                graphs.append(inner)


def test_the_graph_never_holds_a_tensor_of_a_quarter_of_tq_times_tv_elements():
    """Traced at Tq = Tv = 512 with blocks of 64, d = 16: every tensor of every op, loop
    bodies included, has a known shape and fewer than Tq * Tv / 4 elements (plain attention
    has two tensors of Tq * Tv; the tiled loop's largest is a (64, 64) tile or an input)."""
    spec = tf.TensorSpec((1, 512, 16), tf.float32)
    concrete = tf.function(
        lambda q, k, v: tiled_attention(q, k, v, causal=True, valid_lens=tf.constant([400]),
                                        return_logsumexp=True)).get_concrete_function(
        spec, spec, spec)
    sizes, ops = [], 0
    for graph in _all_graphs(concrete.graph):
        for op in graph.get_operations():
            if op.type == "Placeholder":  # a loop body's input: made by an op elsewhere
                continue
            ops += 1
            for tensor in op.outputs:
                if tensor.dtype == tf.resource or tensor.dtype == tf.variant:
                    continue
                assert tensor.shape.is_fully_defined(), f"{op.type} {op.name}: {tensor.shape}"
                sizes.append(tensor.shape.num_elements())
    assert ops > 100  # the loop bodies were found
    assert max(sizes) < 512 * 512 // 4, max(sizes)
    assert 64 * 64 in sizes  # the tiles are there


@pytest.mark.parametrize("call, error, match", [
    (lambda q: tiled_attention(q[0, 0], q, q), ValueError, "at least 2 axes"),
    (lambda q: tiled_attention(q, q[:1], q), ValueError, "same leading axes"),
    (lambda q: tiled_attention(q, q[..., :3], q), ValueError, "same size"),
    (lambda q: tiled_attention(q, q, q[:, :4]), ValueError, "same number of positions"),
    (lambda q: tiled_attention(q, q, q.astype("float64")), TypeError, "one dtype"),
    (lambda q: tiled_attention(q.astype(int), q, q), TypeError, "floating-point"),
    (lambda q: tiled_attention(q, q, q, block_q=0), ValueError, "`block_q` must be > 0"),
    (lambda q: tiled_attention(q, q, q, block_k=2.0), TypeError, "`block_k` must be an int"),
    (lambda q: tiled_attention(q, q, q, causal=1), TypeError, "`causal` must be True"),
    (lambda q: tiled_attention(q, q, q, return_logsumexp="yes"), TypeError,
     "`return_logsumexp`"),
    (lambda q: tiled_attention(q, q, q, valid_lens=np.array([1.0, 2.0])), TypeError,
     "integers"),
    (lambda q: tiled_attention(q, q, q, valid_lens=np.array([1, 2, 3])), ValueError,
     "valid_lens"),
    (lambda q: tiled_attention(q, q, q, mask=np.ones((6, 6), bool)), ValueError,
     "`mask` must have rank 3"),
    (lambda q: tiled_attention(q[0], q[0], q[0], valid_lens=np.array([1])), ValueError,
     "With `valid_lens`"),
])
def test_bad_arguments_are_named(call, error, match):
    q = np.zeros((2, 6, 4), "float32")
    with pytest.raises(error, match=match):
        call(q)
