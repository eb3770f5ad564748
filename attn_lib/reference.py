"""Plain NumPy versions of every computation in the book.

These are the first, readable implementations the chapters show, and the oracle
the tests compare TensorFlow against. They favour clarity over speed and do no
argument checking beyond what NumPy does itself.

Shapes follow the package glossary: queries ``(B, Tq, dq)``, keys ``(B, Tv, dk)``,
values ``(B, Tv, dv)``, weights ``(B, Tq, Tv)``.
"""

import numpy as np


def softmax(scores, axis=-1):
    """Softmax along `axis`, shifted by the maximum so large scores do not overflow."""
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def sequence_mask(valid_lens, maxlen):
    """``mask[b, j] = j < valid_lens[b]``; works for ``(B,)`` and ``(B, Tq)`` lengths."""
    valid_lens = np.asarray(valid_lens)
    return np.arange(maxlen) < valid_lens[..., None]


def causal_mask(num_queries, num_kv):
    """``mask[i, j] = j <= i``: query i may look at keys up to its own position."""
    return np.arange(num_kv)[None, :] <= np.arange(num_queries)[:, None]


def masked_softmax(scores, valid_lens=None, mask=None):
    """Softmax over the last axis that gives masked positions weight exactly 0.

    A score of ``-inf`` counts as masked; a row with no kept position is all zeros.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keep = scores > -np.inf
    if valid_lens is not None:
        lens_mask = sequence_mask(valid_lens, scores.shape[-1])  # (B, Tv) or (B, Tq, Tv)
        if lens_mask.ndim == 2:
            lens_mask = lens_mask[:, None, :]
        # insert head axes between the batch axis and (Tq, Tv)
        while lens_mask.ndim < scores.ndim:
            lens_mask = lens_mask[:, None]
        keep = keep & lens_mask
    if mask is not None:
        keep = keep & np.asarray(mask, dtype=bool)
    weights = np.zeros(scores.shape)
    rows = keep.any(axis=-1)  # rows with something to attend to
    for index in zip(*np.nonzero(rows)):
        row_keep = keep[index]
        weights[index][row_keep] = softmax(scores[index][row_keep])
    return weights


def dot_product_attention(queries, keys, values, valid_lens=None, mask=None, scaled=True):
    """softmax(Q Kᵀ / √d) V, with the weights; returns ``(output, weights)``."""
    scores = np.matmul(queries, np.swapaxes(keys, -1, -2))  # (B, Tq, Tv)
    if scaled:
        scores = scores / np.sqrt(np.shape(queries)[-1])
    weights = masked_softmax(scores, valid_lens, mask)
    return weights @ values, weights


def additive_attention(queries, keys, values, W_q, W_k, w_v, valid_lens=None, mask=None):
    """Bahdanau scores w_v · tanh(q W_q + k W_k).

    ``W_q`` is ``(dq, h)``, ``W_k`` is ``(dk, h)``, ``w_v`` is ``(h,)`` or ``(h, 1)``.
    """
    features = np.tanh(
        (queries @ W_q)[:, :, None, :] + (keys @ W_k)[:, None, :, :]
    )  # (B, Tq, Tv, h)
    scores = features @ np.reshape(w_v, (-1,))  # (B, Tq, Tv)
    weights = masked_softmax(scores, valid_lens, mask)
    return weights @ values, weights


def general_attention(queries, keys, values, W, valid_lens=None, mask=None):
    """Luong's "general" (bilinear) scores q W kᵀ with ``W`` of shape ``(dq, dk)``."""
    scores = queries @ W @ np.swapaxes(keys, -1, -2)  # (B, Tq, Tv)
    weights = masked_softmax(scores, valid_lens, mask)
    return weights @ values, weights


def multi_head_attention(queries, keys, values, num_heads, W_q, W_k, W_v, W_o,
                         b_q=0.0, b_k=0.0, b_v=0.0, b_o=0.0, valid_lens=None, mask=None):
    """Multi-head attention with the projections given as plain matrices.

    ``W_q`` is ``(dq, h*dk)``, ``W_k`` ``(dk_in, h*dk)``, ``W_v`` ``(dv_in, h*dv)``,
    ``W_o`` ``(h*dv, d_out)``. `mask` broadcasts to ``(B, Tq, Tv)``.
    Returns ``(output, weights)`` with weights ``(B, h, Tq, Tv)``.
    """

    def split(x):  # (B, T, h*d) -> (B, h, T, d)
        b, t, hd = x.shape
        return x.reshape(b, t, num_heads, hd // num_heads).transpose(0, 2, 1, 3)

    q = split(queries @ W_q + b_q)
    k = split(keys @ W_k + b_k)
    v = split(values @ W_v + b_v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (B, h, Tq, Tv)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim == 3:
            mask = mask[:, None]
    weights = masked_softmax(scores, valid_lens, mask)
    heads = weights @ v  # (B, h, Tq, dv)
    b, h, tq, dv = heads.shape
    merged = heads.transpose(0, 2, 1, 3).reshape(b, tq, h * dv)
    return merged @ W_o + b_o, weights


def self_attention(x, W_q, W_k, W_v, num_heads=1, valid_lens=None, mask=None):
    """Self-attention as in :class:`attn_lib.SelfAttention` (no output projection)."""
    units = W_q.shape[1]
    identity = np.eye(units)
    return multi_head_attention(x, x, x, num_heads, W_q, W_k, W_v, identity,
                                valid_lens=valid_lens, mask=mask)


def positional_encoding(max_len, d_model):
    """Sinusoidal encodings ``P[t, 2i] = sin(t / 10000^(2i/d))``, ``P[t, 2i+1] = cos(...)``."""
    positions = np.arange(max_len)[:, None]
    frequencies = 1.0 / np.power(10000.0, np.arange(0, d_model, 2) / d_model)
    P = np.zeros((max_len, d_model))
    P[:, 0::2] = np.sin(positions * frequencies)
    P[:, 1::2] = np.cos(positions * frequencies[: d_model // 2])
    return P


def nadaraya_watson(x_query, x_train, y_train, width=1.0):
    """Gaussian-kernel regression: weights softmax(-(x - xᵢ)² / (2 width²)).

    Returns ``(predictions, weights)`` with weights ``(len(x_query), len(x_train))``.
    """
    x_query = np.asarray(x_query, dtype=np.float64)
    diffs = x_query[:, None] - np.asarray(x_train, dtype=np.float64)[None, :]
    weights = softmax(-(diffs**2) / (2 * width**2), axis=1)
    return weights @ np.asarray(y_train, dtype=np.float64), weights


def softmax_state(scores, values):
    """The partial softmax state ``(m, l, o)`` of `scores` ``(Tq, n)`` over `n` keys.

    ``m`` ``(Tq,)`` is each row's maximum, ``l = sum_j exp(s_j - m)`` ``(Tq,)`` and
    ``o = sum_j exp(s_j - m) v_j`` ``(Tq, dv)``: ``o / l`` is the softmax-weighted
    average of those values. A row of ``-inf`` (nothing kept) is ``(-inf, 0, 0)``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    m = scores.max(axis=-1, initial=-np.inf)
    shift = np.where(np.isinf(m), 0.0, m)  # an empty row: exp(-inf - 0) = 0
    p = np.exp(scores - shift[..., None])
    return m, p.sum(axis=-1), p @ np.asarray(values, dtype=np.float64)


def merge_softmax_states(a, b):
    """Merge two partial states ``(m, l, o)`` of the same queries over different keys.

    Both are brought to the larger maximum, ``m = max(m_a, m_b)``: each ``l`` and ``o``
    is multiplied by ``exp(m_x - m)``, then they add. The result is the state of all
    the keys together, exactly; the merge is associative and commutative.
    """
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isinf(m), 0.0, m)
    alpha, beta = np.exp(m_a - shift), np.exp(m_b - shift)  # 0 for an empty state
    return m, alpha * l_a + beta * l_b, alpha[..., None] * o_a + beta[..., None] * o_b


def tiled_attention(queries, keys, values, block_q, block_k, causal=False):
    """softmax(Q Kᵀ / √d) V one tile at a time, for ``(Tq, d)``, ``(Tv, d)``, ``(Tv, dv)``.

    Loops over blocks of `block_q` queries, and inside over blocks of `block_k` keys,
    merging each tile's state into the running one. With `causal`, query ``i`` sees keys
    ``j <= i``. Returns ``(output (Tq, dv), logsumexp (Tq,))``; a query with no key
    gets output 0 and logsumexp ``-inf``.
    """
    queries, keys, values = (np.asarray(x, dtype=np.float64) for x in (queries, keys, values))
    num_q, num_kv = queries.shape[0], keys.shape[0]
    output, logsumexp = np.zeros((num_q, values.shape[1])), np.full(num_q, -np.inf)
    for q0 in range(0, num_q, block_q):
        rows = slice(q0, min(q0 + block_q, num_q))
        state = (np.full(rows.stop - q0, -np.inf), np.zeros(rows.stop - q0),
                 np.zeros((rows.stop - q0, values.shape[1])))
        for k0 in range(0, num_kv, block_k):
            cols = slice(k0, min(k0 + block_k, num_kv))
            scores = queries[rows] @ keys[cols].T / np.sqrt(queries.shape[1])  # tile
            if causal:
                future = np.arange(cols.start, cols.stop)[None] > np.arange(q0, rows.stop)[:, None]
                scores = np.where(future, -np.inf, scores)
            state = merge_softmax_states(state, softmax_state(scores, values[cols]))
        m, norm, o = state
        kept = norm > 0
        output[rows][kept] = o[kept] / norm[kept, None]
        logsumexp[rows] = np.where(kept, m + np.log(np.where(kept, norm, 1.0)), -np.inf)
    return output, logsumexp


def rope(x, positions=None, base=10000.0, pairing="half"):
    """Rotary position embedding of `x` ``(..., T, d)``, one 2×2 rotation per pair.

    The pair of frequency ``i`` is features ``(i, i + d/2)`` with ``pairing="half"`` and
    ``(2i, 2i + 1)`` with ``"interleaved"``; at position ``m`` it turns by ``m θ_i``,
    ``θ_i = base^(-2i/d)``. `positions` ``(T,)`` (default ``0 ... T - 1``) or
    broadcasting against ``x.shape[:-1]``.
    """
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    if positions is None:
        positions = np.arange(x.shape[-2])
    positions = np.broadcast_to(positions, x.shape[:-1])
    out = np.empty_like(x)
    for i in range(d // 2):
        a, b = (i, i + d // 2) if pairing == "half" else (2 * i, 2 * i + 1)
        angle = positions * base ** (-2 * i / d)
        cos, sin = np.cos(angle), np.sin(angle)
        out[..., a] = cos * x[..., a] - sin * x[..., b]  # [cos -sin] [x_a]
        out[..., b] = sin * x[..., a] + cos * x[..., b]  # [sin  cos] [x_b]
    return out


def alibi_slopes(num_heads):
    """ALiBi's slopes: ``2^(-8k/h)`` for ``k = 1 ... h`` when ``h`` is a power of two;
    otherwise those of the largest power of two ``p < h``, then every other slope of
    ``2p`` heads, as Press et al. (2022) do."""
    power = 2 ** int(np.floor(np.log2(num_heads)))
    slopes = [2.0 ** (-8.0 * k / power) for k in range(1, power + 1)]
    if power < num_heads:
        slopes += list(alibi_slopes(2 * power)[0::2][: num_heads - power])
    return np.array(slopes)


def alibi_bias(num_heads, num_queries, num_kv=None, offset=0):
    """``bias[k, i, j] = -slope_k · |i + offset - j|``, ``(h, Tq, Tv)``; Tv = Tq + offset."""
    num_kv = num_queries + offset if num_kv is None else num_kv
    bias = np.zeros((num_heads, num_queries, num_kv))
    for k, slope in enumerate(alibi_slopes(num_heads)):
        for i in range(num_queries):
            for j in range(num_kv):
                bias[k, i, j] = -slope * abs(i + offset - j)
    return bias


def sliding_window_mask(num_queries, num_kv, window, offset=0, causal=True):
    """``mask[i, j] = p - window < j <= p`` for query ``i`` at position ``p = i + offset``.

    With ``causal=False`` the symmetric band ``|p - j| < window``.
    """
    p = np.arange(num_queries)[:, None] + offset
    j = np.arange(num_kv)[None, :]
    if causal:
        return (p - window < j) & (j <= p)
    return np.abs(p - j) < window


def grouped_query_attention(queries, keys, values, num_query_heads, num_key_value_heads,
                            W_q, W_k, W_v, W_o, b_q=0.0, b_k=0.0, b_v=0.0, b_o=0.0,
                            valid_lens=None, mask=None):
    """Grouped-query attention, one query head at a time.

    ``W_q`` is ``(dq, h_q*dk)``, ``W_k`` ``(dk_in, h_kv*dk)``, ``W_v`` ``(dv_in, h_kv*dv)``,
    ``W_o`` ``(h_q*dv, d_out)``. Query head ``u`` uses key-value head ``u // g``,
    ``g = h_q / h_kv``; ``h_kv = 1`` is multi-query attention. `mask` broadcasts to
    ``(B, Tq, Tv)``. Returns ``(output, weights)`` with weights ``(B, h_q, Tq, Tv)``.
    """
    q, k, v = queries @ W_q + b_q, keys @ W_k + b_k, values @ W_v + b_v
    dk, dv = q.shape[-1] // num_query_heads, v.shape[-1] // num_key_value_heads
    group = num_query_heads // num_key_value_heads
    heads, weights = [], []
    for u in range(num_query_heads):
        kv = u // group  # the key-value head this query head shares
        q_u = q[..., u * dk:(u + 1) * dk]
        k_u, v_u = k[..., kv * dk:(kv + 1) * dk], v[..., kv * dv:(kv + 1) * dv]
        head, w = dot_product_attention(q_u, k_u, v_u, valid_lens, mask)  # (B, Tq, dv)
        heads.append(head)
        weights.append(w)
    return np.concatenate(heads, axis=-1) @ W_o + b_o, np.stack(weights, axis=1)
