"""Peak memory and time of tiled against plain attention (chapter 9), B = 1, one head, d = 64.

Peak memory: `attn_lib.diagnostics.peak_memory`, one fresh process per method and repeat
(the peak each length adds, inputs included). Time: median of `--repeats` runs in this
process after a warm-up, with the spread (min to max). Writes a Markdown table to stdout.

    .venv/bin/python benchmarks/tiled_attention_memory.py [--max-length 8192] [--repeats 5]
"""

import argparse
import datetime
import os
import pathlib
import platform
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import ENV  # noqa: E402  (attn_lib/_env.py, loaded without TensorFlow)

ENV.apply(ENV.READER_ENV)  # before TensorFlow loads: quiet, no oneDNN, as a reader runs

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import attn_lib  # noqa: E402
from attn_lib import masking  # noqa: E402
from attn_lib.diagnostics import attention_weights_bytes, peak_memory  # noqa: E402

D = 64


@tf.function(reduce_retracing=True)
def plain(q, k, v):
    scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(D)  # (B, T, T)
    return tf.matmul(masking._masked_softmax(scores), v)  # (B, T, d)


def times(function, args, repeats):
    function(*args).numpy()  # warm-up: tracing
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args).numpy()
        seconds.append(time.perf_counter() - start)
    return np.median(seconds), min(seconds), max(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-length", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-repeats", type=int, default=3)
    args = parser.parse_args()
    lengths = [t for t in (512, 1024, 2048, 4096, 8192, 16384) if t <= args.max_length]
    memory = {m: np.array([peak_memory(lengths, method=m) for _ in range(args.memory_repeats)])
              for m in ("plain", "tiled")}  # (repeats, lengths) bytes
    rng = np.random.default_rng(0)
    print(f"# Tiled against plain attention: peak memory and time\n\n"
          f"{datetime.date.today():%d %B %Y}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; TensorFlow {tf.__version__}, attn_lib "
          f"{attn_lib.__version__}. B = 1, one head, d = {D}, float32, blocks of 64. Peak "
          f"memory: median of {args.memory_repeats} processes (MiB); time: median of "
          f"{args.repeats} runs, [min, max] (ms).\n")
    print("| T | one (T, T) matrix | plain peak | tiled peak | plain / tiled | plain ms "
          "| tiled ms | tiled / plain time |")
    print("|---|---|---|---|---|---|---|---|")
    for i, length in enumerate(lengths):
        qkv = [tf.constant(rng.normal(size=(1, length, D)), tf.float32) for _ in range(3)]
        p_time = times(plain, qkv, args.repeats)
        t_time = times(attn_lib.tiled_attention, qkv, args.repeats)
        p_mem, t_mem = (np.median(memory[m][:, i]) / 2**20 for m in ("plain", "tiled"))
        print(f"| {length:,} | {attention_weights_bytes(length) / 2**20:.0f} | {p_mem:.1f} | "
              f"{t_mem:.1f} | {p_mem / max(t_mem, 0.1):.1f} | {p_time[0] * 1e3:.1f} "
              f"[{p_time[1] * 1e3:.1f}, {p_time[2] * 1e3:.1f}] | {t_time[0] * 1e3:.1f} "
              f"[{t_time[1] * 1e3:.1f}, {t_time[2] * 1e3:.1f}] | "
              f"{t_time[0] / p_time[0]:.2f} |")


if __name__ == "__main__":
    main()
