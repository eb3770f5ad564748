"""Tokens per second of greedy generation, with and without attn_lib.KVCache.

    .venv/bin/python benchmarks/kv_cache_speed.py [--lengths 32 64 128 256] [--repeats 5]
        [--batch 16] [--write benchmarks/kv_cache_speed.md]

The model is chapter 10's decoder (2 blocks, d_model=32, 2 heads; untrained: the
speed does not depend on the weights), run eagerly as a reader runs it. For each
generated length N it generates N tokens after a prompt of 8 tokens for a batch of
prompts, `--repeats` times, cached and uncached interleaved, and reports the median
tokens per second (batch * N / seconds) with the min-max spread. Uncached, step t
runs the whole sequence of 8 + t tokens, so the cost per token grows with N; cached,
every step runs one token against the stored keys and values.

Then it times single steps at a prefix length T (the cost of the token at position
T): one uncached forward over T + 1 tokens against one cached step after a prefill
of T tokens.
"""

import argparse
import datetime
import os
import pathlib
import platform
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import ENV  # noqa: E402  (attn_lib/_env.py, loaded without TensorFlow)

ENV.apply(ENV.READER_ENV)  # before TensorFlow loads: quiet, as a reader runs

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from attn_lib.models import Decoder  # noqa: E402

PROMPT = 8


def spread(times, tokens):
    """Median tokens/s and the min-max range, from a list of seconds."""
    rates = sorted(tokens / t for t in times)
    return statistics.median(rates), rates[0], rates[-1]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--prefixes", type=int, nargs="+", default=[16, 128, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--write", type=pathlib.Path, default=None)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    max_len = max(max(args.lengths) + PROMPT, max(args.prefixes) + 1)
    model = Decoder(vocab_size=12, max_len=max_len, d_model=32, num_heads=2)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, size=(args.batch, max_len)).astype(np.int32)
    model.generate(ids[:, :PROMPT], 2, use_cache=True)  # build and warm up
    model.generate(ids[:, :PROMPT], 2, use_cache=False)

    lines = ["# Generating with and without a key-value cache", "",
             f"Measured with `.venv/bin/python benchmarks/kv_cache_speed.py` on "
             f"{datetime.date.today():%d %B %Y}, on {os.cpu_count()} cores of "
             f"{cpu_name()} (TensorFlow {tf.__version__}, Keras {keras.__version__}), "
             f"eager, chapter 10's decoder (2 blocks, d_model=32, 2 heads), batch "
             f"{args.batch}, prompt {PROMPT} tokens, {args.repeats} repeats each; median "
             "and (min-max) over the repeats. The machine may be shared: compare ratios.",
             "", "## Tokens per second against generated length", "",
             "| generated N | uncached tokens/s | cached tokens/s | cached / uncached |",
             "|---|---|---|---|"]
    for n in args.lengths:
        times = {True: [], False: []}
        for _ in range(args.repeats):
            for use_cache in (False, True):
                start = time.perf_counter()
                model.generate(ids[:, :PROMPT], n, use_cache=use_cache)
                times[use_cache].append(time.perf_counter() - start)
        (u, u_lo, u_hi), (c, c_lo, c_hi) = (spread(times[k], args.batch * n)
                                            for k in (False, True))
        lines.append(f"| {n} | {u:,.0f} ({u_lo:,.0f}-{u_hi:,.0f}) | "
                     f"{c:,.0f} ({c_lo:,.0f}-{c_hi:,.0f}) | {c / u:.2f} |")
        print(lines[-1], flush=True)

    lines += ["", "## Cost of one token at prefix length T (ms per step, whole batch)", "",
              "| prefix T | uncached ms | cached ms | uncached / cached |", "|---|---|---|---|"]
    for prefix in args.prefixes:
        times = {True: [], False: []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            model.forward(ids[:, :prefix + 1])
            times[False].append(time.perf_counter() - start)
            cache = model.new_cache()
            model.forward(ids[:, :prefix], cache)  # the prefill, not timed
            start = time.perf_counter()
            model.forward(ids[:, prefix:prefix + 1], cache)
            times[True].append(time.perf_counter() - start)
        (u, u_lo, u_hi), (c, c_lo, c_hi) = ((1000 * statistics.median(t),
                                             1000 * min(t), 1000 * max(t))
                                            for t in (times[False], times[True]))
        lines.append(f"| {prefix} | {u:.1f} ({u_lo:.1f}-{u_hi:.1f}) | "
                     f"{c:.1f} ({c_lo:.1f}-{c_hi:.1f}) | {u / c:.1f} |")
        print(lines[-1], flush=True)

    text = "\n".join(lines) + "\n"
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
