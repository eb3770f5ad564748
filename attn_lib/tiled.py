"""Attention in linear memory: the online softmax and tiled attention (chapter 9).

Plain attention builds the scores ``(Tq, Tv)`` and the weights ``(Tq, Tv)``: memory
that grows with the square of the length. :func:`tiled_attention` computes the same
output one tile of ``block_q`` queries by ``block_k`` keys at a time, keeping for
every query three running numbers instead of a row of weights:

- ``m`` ``(..., Tq)``: the largest score seen so far (the softmax's shift);
- ``l`` ``(..., Tq)``: the normaliser, ``sum_j exp(s_j - m)`` over the keys seen;
- ``O`` ``(..., Tq, dv)``: the unnormalised output, ``sum_j exp(s_j - m) v_j``.

When a new tile raises the maximum from ``m`` to ``m'``, what was summed so far is
rescaled by ``exp(m - m')``; at the end ``O / l`` is exactly the softmax-weighted
average (Milakov & Gimelshein 2018; Rabe & Staats 2021; Dao et al. 2022). The output
is the same as plain attention up to rounding, not an approximation.

The loops are TensorFlow ``while`` loops inside one compiled ``tf.function`` per
setting (causal or not, which masks, block sizes, dtype): an outer loop over query
blocks (``tf.map_fn``) and an inner one over key blocks. The largest tensors alive
are the inputs, the output and a few ``(N, block_q, block_k)`` tiles (``N`` = the
product of the leading axes): memory linear in ``T``.
"""

import functools

import tensorflow as tf

from attn_lib import _validate
from attn_lib.masking import size


def tiled_attention(queries, keys, values, valid_lens=None, mask=None, causal=False,
                    block_q=64, block_k=64, return_logsumexp=False):
    """Scaled dot-product attention, tile by tile, never building the ``(Tq, Tv)`` matrix.

    Computes ``softmax(Q Kᵀ / √d) V`` like :class:`attn_lib.DotProductAttention` and
    ``reference.dot_product_attention`` (scores divided by the square root of the
    queries' size ``d``), with the masking semantics of :func:`attn_lib.masked_softmax`:
    a masked key gets weight 0, and a query with no key to attend to gets the output 0
    (never NaN), with zero gradients.

    Args:
        queries: float tensor ``(..., Tq, d)``, e.g. ``(B, Tq, d)`` or ``(B, h, Tq, d)``.
        keys: float tensor ``(..., Tv, d)`` with the same leading axes and dtype.
        values: float tensor ``(..., Tv, dv)`` with the same leading axes and dtype.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)``: key positions
            ``j >= valid_len`` are masked. Needs rank-3 or rank-4 inputs, ``B`` first.
        mask: optional boolean tensor of the rank of the scores ``(..., Tq, Tv)``, each
            size equal to the scores' or 1; ``True`` = keep.
        causal: bool; when True, query ``i`` sees keys ``j <= i`` (as
            :func:`attn_lib.causal_mask`, top-left aligned). Key blocks entirely in a
            query block's future are skipped.
        block_q: int > 0, queries per tile. block_k: int > 0, keys per tile. Neither
            needs to divide the length.
        return_logsumexp: bool; also return ``L = log sum_j exp(s_ij)`` over the kept
            keys, from which any block of weights is ``exp(S - L)``.

    Returns:
        The output ``(..., Tq, dv)`` in the dtype of the inputs; with
        `return_logsumexp`, the pair ``(output, logsumexp)`` with logsumexp
        ``(..., Tq)``, which is ``-inf`` for a query with no kept key.

    Raises:
        ValueError: inputs with fewer than 2 axes, different leading axes, queries and
            keys of different sizes, keys and values of different lengths,
            `valid_lens` or `mask` of the wrong shape, or a block size <= 0.
        TypeError: inputs not floating point or not of one dtype, `valid_lens` not
            integer, `mask` not boolean, a block size not an int, a flag not a bool.

    Example:
        >>> import numpy as np
        >>> from attn_lib import reference
        >>> rng = np.random.default_rng(0)
        >>> q, k, v = (rng.normal(size=(2, 10, 4)) for _ in range(3))
        >>> out = tiled_attention(q, k, v, causal=True, block_q=3, block_k=4)
        >>> plain, _ = reference.dot_product_attention(q, k, v, mask=np.tril(np.ones((1, 10, 10))))
        >>> bool(np.allclose(out, plain, atol=1e-12))
        True
    """
    shapes = [_validate.shape_of(x) for x in (queries, keys, values)]
    for name, shape in zip(("queries", "keys", "values"), shapes):
        if shape is None or len(shape) < 2:
            got = "an unknown rank" if shape is None else f"{name}.shape={shape}"
            raise ValueError(f"`{name}` must have at least 2 axes, (..., T, d). Received: {got}")
    dtypes = [_validate.check_float(n, x) for n, x in
              zip(("queries", "keys", "values"), (queries, keys, values))]
    if len(set(dtypes)) > 1:
        raise TypeError("`queries`, `keys` and `values` must have one dtype. Received: "
                        + ", ".join(f"{n}.dtype={d.name}" for n, d in
                                    zip(("queries", "keys", "values"), dtypes)))
    q, k, v = shapes
    if not (_validate.fits(q[:-2], k[:-2]) and _validate.fits(k[:-2], v[:-2])):
        raise ValueError("`queries`, `keys` and `values` must have the same leading axes "
                         f"(...). Received: queries.shape={q}, keys.shape={k}, values.shape={v}")
    _validate.check_same("`queries` and `keys` must have the same size (the last axis)",
                         ("queries.shape", "keys.shape"), (q[-1], k[-1]))
    if not _validate.fits(k[-2:-1], v[-2:-1]):
        raise ValueError("`keys` and `values` must have the same number of positions. "
                         f"Received: keys.shape={k}, values.shape={v}")
    scores_shape = q[:-1] + k[-2:-1]  # (..., Tq, Tv)
    if valid_lens is not None:
        if len(q) not in (3, 4):
            raise ValueError("With `valid_lens`, the inputs must be (B, T, d) or "
                             f"(B, h, T, d). Received: queries.shape={q}")
        _validate.check_valid_lens(valid_lens, q[0], q[-2])
    if mask is not None:
        _validate.check_mask(mask, scores_shape)
    causal = _validate.check_bool("causal", causal)
    return_logsumexp = _validate.check_bool("return_logsumexp", return_logsumexp)
    block_q = _validate.check_positive_int("block_q", block_q)
    block_k = _validate.check_positive_int("block_k", block_k)
    output, logsumexp = _tiled_attention(queries, keys, values, valid_lens, mask, causal,
                                         block_q, block_k)
    return (output, logsumexp) if return_logsumexp else output


def _tiled_attention(queries, keys, values, valid_lens, mask, causal, block_q, block_k):
    """`tiled_attention` without checks: always returns ``(output, logsumexp)``."""
    queries = tf.convert_to_tensor(queries)
    keys = tf.convert_to_tensor(keys, queries.dtype)
    values = tf.convert_to_tensor(values, queries.dtype)
    vl_rank = None if valid_lens is None else len(_validate.shape_of(valid_lens))
    setting = (causal, block_q, block_k, vl_rank, mask is not None, queries.dtype,
               queries.shape.rank)
    if setting not in _COMPILED:  # one compiled loop per setting, shapes may vary
        _COMPILED[setting] = _compile(*setting[:5])
    args = [queries, keys, values]
    if valid_lens is not None:
        args.append(tf.convert_to_tensor(valid_lens))
    if mask is not None:
        args.append(tf.convert_to_tensor(mask))
    return _COMPILED[setting](*args)


_COMPILED = {}


def _compile(causal, block_q, block_k, vl_rank, has_mask):
    """A new ``tf.function`` for one setting. (A `partial` has no code object of its own,
    so TensorFlow counts each setting's traces apart and never warns of retracing.)"""
    return tf.function(functools.partial(_run, causal=causal, block_q=block_q,
                                         block_k=block_k, has_lens=vl_rank is not None,
                                         has_mask=has_mask),
                       reduce_retracing=True, autograph=False)


def _run(queries, keys, values, *extra, causal, block_q, block_k, has_lens, has_mask):
    extra = list(extra)
    valid_lens = extra.pop(0) if has_lens else None
    mask = extra.pop(0) if has_mask else None
    return _tiles(queries, keys, values, valid_lens, mask, causal, block_q, block_k)


def _tiles(queries, keys, values, valid_lens, mask, causal, block_q, block_k):
    """The loops. `N` = product of the leading axes; `nq`, `nk` = numbers of blocks."""
    lead = tf.shape(queries)[:-2]  # (...)
    num_q, num_kv = size(queries, -2), size(keys, -2)  # Tq, Tv (ints when known)
    d, dv = size(queries, -1), size(values, -1)
    dtype = queries.dtype
    nq = (num_q + block_q - 1) // block_q  # ceil(Tq / block_q)
    nk = (num_kv + block_k - 1) // block_k
    # 1) flatten the leading axes, scale the queries, pad to whole blocks (zeros)
    scale = tf.math.rsqrt(tf.cast(d, dtype))
    q = tf.reshape(queries, [-1, num_q, d]) * scale  # (N, Tq, d), q / √d
    k = tf.reshape(keys, [-1, num_kv, d])  # (N, Tv, d)
    v = tf.reshape(values, [-1, num_kv, dv])  # (N, Tv, dv)
    q = tf.pad(q, [[0, 0], [0, nq * block_q - num_q], [0, 0]])  # (N, nq*bq, d)
    k = tf.pad(k, [[0, 0], [0, nk * block_k - num_kv], [0, 0]])  # (N, nk*bk, d)
    v = tf.pad(v, [[0, 0], [0, nk * block_k - num_kv], [0, 0]])  # (N, nk*bk, dv)
    n = size(q, 0)  # N: a Python int when known, so the tiles have static shapes
    minus_inf = tf.constant(float("-inf"), dtype)
    q_blocks = tf.transpose(tf.reshape(q, [n, nq, block_q, d]), [1, 0, 2, 3])  # (nq, N, bq, d)
    k_blocks = tf.transpose(tf.reshape(k, [n, nk, block_k, d]), [1, 0, 2, 3])  # (nk, N, bk, d)
    v_blocks = tf.transpose(tf.reshape(v, [n, nk, block_k, dv]), [1, 0, 2, 3])
    lens = None  # (N, nq*bq): each query's number of valid keys
    if valid_lens is not None:
        lens = tf.cast(valid_lens, tf.int64)  # (B,) or (B, Tq)
        if lens.shape.rank == 1:
            lens = tf.expand_dims(lens, -1)  # (B, 1)
        if queries.shape.rank == 4:
            lens = tf.expand_dims(lens, 1)  # (B, 1, Tq or 1)
        lens = tf.broadcast_to(lens, tf.concat([lead, [num_q]], 0))  # (..., Tq)
        lens = tf.pad(tf.reshape(lens, [-1, num_q]), [[0, 0], [0, nq * block_q - num_q]])
    if mask is not None:
        mask = tf.convert_to_tensor(mask)
        mask_tq, mask_tv = tf.shape(mask)[-2], tf.shape(mask)[-1]  # Tq or 1, Tv or 1

    def keep_of(q_pos, k_pos):
        """Boolean ``(N or 1, bq, bk)``: which (query, key) pairs of the tile are kept."""
        keep = tf.expand_dims(k_pos < num_kv, 0)[None]  # (1, 1, bk): real keys only
        if causal:
            keep &= (k_pos[None, :] <= q_pos[:, None])[None]  # (1, bq, bk): j <= i
        if lens is not None:
            tile_lens = tf.gather(lens, q_pos, axis=1)  # (N, bq)
            keep &= tf.cast(k_pos, tf.int64)[None, None, :] < tile_lens[:, :, None]
        if mask is not None:
            rows = tf.minimum(q_pos, mask_tq - 1)  # index 0 on an axis of size 1
            cols = tf.minimum(k_pos, mask_tv - 1)
            tile = tf.gather(tf.gather(mask, rows, axis=-2), cols, axis=-1)  # (.., bq, bk)
            tile = tf.broadcast_to(tile, tf.concat([lead, [block_q, block_k]], 0))
            keep &= tf.reshape(tile, [n, block_q, block_k])  # (N, bq, bk)
        return keep

    def one_query_block(args):
        i, q_i = args  # block number, (N, bq, d)
        q_pos = i * block_q + tf.range(block_q)  # (bq,) positions of these queries
        # key blocks after the last query of the block are all in its future: skip them
        stop = tf.minimum(nk, ((i + 1) * block_q + block_k - 1) // block_k) if causal else nk
        m = tf.fill([n, block_q], minus_inf)  # (N, bq) running max
        norm = tf.zeros([n, block_q], dtype)  # (N, bq) running normaliser
        o = tf.zeros([n, block_q, dv], dtype)  # (N, bq, dv) running unnormalised output

        def step(j, m, norm, o):
            k_pos = j * block_k + tf.range(block_k)  # (bk,)
            k_j, v_j = tf.gather(k_blocks, j), tf.gather(v_blocks, j)  # (N, bk, d), (N, bk, dv)
            s = tf.matmul(q_i, k_j, transpose_b=True)  # (N, bq, bk) one tile of scores
            s = tf.where(keep_of(q_pos, k_pos), s, minus_inf)  # masked: -inf
            # 2) new maximum; it only shifts the exponentials, so no gradient through it
            m_new = tf.stop_gradient(tf.maximum(m, tf.reduce_max(s, axis=-1)))  # (N, bq)
            shift = tf.where(tf.math.is_inf(m_new), tf.zeros_like(m_new), m_new)
            p = tf.exp(s - shift[..., None])  # (N, bq, bk), 0 where masked
            alpha = tf.exp(m - shift)  # (N, bq) rescales what was summed (0 at the start)
            # 3) rescale the old sums to the new maximum, add this tile's
            norm = alpha * norm + tf.reduce_sum(p, axis=-1)  # (N, bq)
            o = alpha[..., None] * o + tf.matmul(p, v_j)  # (N, bq, dv)
            return j + 1, m_new, norm, o

        _, m, norm, o = tf.while_loop(lambda j, *_: j < stop, step, (0, m, norm, o))
        # 4) normalise; a query with no kept key has l = 0: output 0, logsumexp -inf
        has_keys = norm > 0
        safe_norm = tf.where(has_keys, norm, tf.ones_like(norm))
        out = tf.where(has_keys[..., None], o / safe_norm[..., None], tf.zeros_like(o))
        lse = tf.where(has_keys, m + tf.math.log(safe_norm), tf.fill(tf.shape(norm), minus_inf))
        return out, lse  # (N, bq, dv), (N, bq)

    out, lse = tf.map_fn(one_query_block, (tf.range(nq), q_blocks),
                         fn_output_signature=(dtype, dtype))  # (nq, N, bq, dv), (nq, N, bq)
    # 5) query blocks back in order, padding dropped, leading axes restored
    out = tf.reshape(tf.transpose(out, [1, 0, 2, 3]), [n, nq * block_q, dv])[:, :num_q]
    lse = tf.reshape(tf.transpose(lse, [1, 0, 2]), [n, nq * block_q])[:, :num_q]
    out = tf.reshape(out, tf.concat([lead, [num_q, dv]], 0))  # (..., Tq, dv)
    return out, tf.reshape(lse, tf.concat([lead, [num_q]], 0))  # (..., Tq)


__all__ = ["tiled_attention"]
