"""How fast is attn_lib's DotProductAttention next to keras.layers.Attention?

    .venv/bin/python benchmarks/attention_speed.py [--sizes 256 1024 2048] [--repeats 5]

For each sequence length T it times, in the same process and interleaved, the
forward pass of ``attn_lib.DotProductAttention`` (valid_lens masking on) and of
``keras.layers.Attention`` (the equivalent value_mask), both inside
``tf.function``, and a plain batched matmul ``Q Kᵀ`` of the same size as a
ceiling. It prints the median time of each, the ratio ours/Keras (target ≤ 1.1
for T ≥ 1024) and the achieved GFLOP/s (2 matmuls of 2·B·T·T·d flops each).

Then it times one *eager* call at a small shape (B=2, T=8, d=16), as a reader
calls a layer in a notebook: there the cost is Python overhead (argument checks,
Keras' ``__call__``), not arithmetic. Target: ours/Keras ≤ 1.5.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import ENV  # noqa: E402  (attn_lib/_env.py, loaded without TensorFlow)

ENV.apply(ENV.READER_ENV)  # before TensorFlow loads: quiet, no oneDNN, as a reader runs

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import attn_lib  # noqa: E402


def median_seconds(function, repeats):
    function()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function().numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(length, batch, dim, repeats):
    rng = np.random.default_rng(0)
    q, k, v = (tf.constant(rng.normal(size=(batch, length, dim)).astype(np.float32) / 4)
               for _ in range(3))
    lens = tf.constant(rng.integers(length // 2, length + 1, size=batch), tf.int32)
    value_mask = tf.sequence_mask(lens, length)
    ours_layer = attn_lib.DotProductAttention(scaled=False)
    keras_layer = keras.layers.Attention()
    ours = tf.function(lambda: ours_layer(q, k, v, valid_lens=lens))
    theirs = tf.function(lambda: keras_layer([q, v, k], mask=[None, value_mask]))
    matmul = tf.function(lambda: tf.matmul(q, k, transpose_b=True))
    np.testing.assert_allclose(ours().numpy(), theirs().numpy(), atol=1e-4)
    results = {"ours": [], "keras": [], "matmul": []}
    for _ in range(2):  # interleave so that machine noise hits both alike
        results["ours"].append(median_seconds(ours, repeats))
        results["keras"].append(median_seconds(theirs, repeats))
        results["matmul"].append(median_seconds(matmul, repeats))
    return {name: min(values) for name, values in results.items()}


def run_eager_small(repeats, batch=2, length=8, dim=16):
    """Median microseconds of one eager call of each layer at a small shape."""
    rng = np.random.default_rng(0)
    q, k, v = (tf.constant(rng.normal(size=(batch, length, dim)).astype(np.float32))
               for _ in range(3))
    lens = tf.constant([length // 2, length], tf.int32)
    value_mask = tf.sequence_mask(lens, length)
    ours_layer = attn_lib.DotProductAttention(scaled=False)
    keras_layer = keras.layers.Attention()
    results = {"ours": [], "keras": []}
    for _ in range(3):  # interleave so that machine noise hits both alike
        results["ours"].append(median_seconds(
            lambda: ours_layer(q, k, v, valid_lens=lens), repeats))
        results["keras"].append(median_seconds(
            lambda: keras_layer([q, v, k], mask=[None, value_mask]), repeats))
    return {name: min(values) * 1e6 for name, values in results.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eager-repeats", type=int, default=200)
    args = parser.parse_args()
    print(f"B={args.batch}, d={args.dim}, TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}, {os.cpu_count()} CPU cores")
    header = (f"{'T':>6} {'attn_lib ms':>12} {'Keras ms':>10} {'ratio':>6} "
              f"{'attn_lib GFLOP/s':>17} {'Keras GFLOP/s':>14} {'QK^T matmul GFLOP/s':>20}")
    print(header)
    for length in args.sizes:
        t = run(length, args.batch, args.dim, args.repeats)
        flops = 2 * 2 * args.batch * length * length * args.dim  # QKᵀ and weights·V
        print(f"{length:>6} {t['ours'] * 1e3:>12.1f} {t['keras'] * 1e3:>10.1f} "
              f"{t['ours'] / t['keras']:>6.2f} {flops / t['ours'] / 1e9:>17.1f} "
              f"{flops / t['keras'] / 1e9:>14.1f} {flops / 2 / t['matmul'] / 1e9:>20.1f}")

    small = run_eager_small(args.eager_repeats)
    print(f"\neager call, B=2, T=8, d=16: attn_lib {small['ours']:.0f} µs, Keras "
          f"{small['keras']:.0f} µs, ratio {small['ours'] / small['keras']:.2f}")


if __name__ == "__main__":
    main()
