"""Do the unit tests catch realistic bugs? Put each into the library, one at a time.

    .venv/bin/python scripts/mutation_check.py            # every mutant
    .venv/bin/python scripts/mutation_check.py --list     # the mutants, without running
    .venv/bin/python scripts/mutation_check.py -k fill    # those whose name contains "fill"

Each mutant is one edit of one line of `attn_lib` (a bug a person could write: a dropped
1/√d, the softmax over the wrong axis, an inverted mask, ...). For each, the script copies
`attn_lib/` and `tests/` into a temporary folder, applies the edit (it fails if the line
to edit is not found exactly once, so a refactoring cannot silently retire a mutant), and
runs the unit tests of the library's core there, stopping at the first failure. A mutant
is *killed* when a test fails and *survives* when all pass. The script prints which test
killed each mutant and exits with 1 if any survived.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_masking.py", "tests/test_scoring.py", "tests/test_layers.py",
         "tests/test_multihead.py", "tests/test_cache.py", "tests/test_positions.py",
         "tests/test_position_hooks.py"]


class Mutant(NamedTuple):
    name: str
    path: str
    old: str
    new: str


MUTANTS = [
    Mutant("no 1/sqrt(d) in dot-product scores", "attn_lib/scoring.py",
           "    if scaled:  # 1/√d", "    if False:  # 1/√d"),
    Mutant("no 1/sqrt(d) in the heads", "attn_lib/multihead.py",
           "    q = q * tf.math.rsqrt(tf.cast(size(q, -1), q.dtype))",
           "    q = q * 1.0"),
    Mutant("scaled by the model width, not the head size", "attn_lib/multihead.py",
           "    q = q * tf.math.rsqrt(tf.cast(size(q, -1), q.dtype))",
           "    q = q * tf.math.rsqrt(tf.cast(size(q, -1) * size(q, 1), q.dtype))"),
    Mutant("softmax over the queries axis", "attn_lib/masking.py",
           "lambda: tf.nn.softmax(scores, axis=-1)", "lambda: tf.nn.softmax(scores, axis=-2)"),
    Mutant("inverted mask", "attn_lib/masking.py",
           "scores = tf.where(keep, scores,", "scores = tf.where(tf.logical_not(keep), scores,"),
    Mutant("off-by-one sequence mask", "attn_lib/masking.py",
           "return positions < tf.expand_dims(valid_lens, -1)",
           "return positions <= tf.expand_dims(valid_lens, -1)"),
    Mutant("fully-masked rows not zeroed", "attn_lib/masking.py",
           "return tf.cond(tf.reduce_all(has_keys),", "return tf.cond(tf.constant(True),"),
    Mutant("finite fill -1e4 instead of excluding", "attn_lib/masking.py",
           'tf.constant(float("-inf"), scores.dtype)', "tf.constant(-1e4, scores.dtype)"),
    Mutant("dropout on the output, not the weights", "attn_lib/layers.py",
           "output = tf.matmul(dropped, values)",
           "output = self.dropout_layer(tf.matmul(weights, values), training=training)"),
    Mutant("interleaved head split", "attn_lib/multihead.py",
           "x = tf.reshape(x, (size(x, 0), size(x, 1), num_heads, -1))\n"
           "    return tf.transpose(x, (0, 2, 1, 3))",
           "x = tf.reshape(x, (size(x, 0), size(x, 1), -1, num_heads))\n"
           "    return tf.transpose(x, (0, 3, 1, 2))"),
    Mutant("inverted causal mask", "attn_lib/masking.py",
           "tf.expand_dims(tf.range(num_kv), 0) <= tf.expand_dims(tf.range(num_queries), 1)",
           "tf.expand_dims(tf.range(num_kv), 0) >= tf.expand_dims(tf.range(num_queries), 1)"),
    Mutant("causal mask hides the query itself", "attn_lib/masking.py",
           "tf.expand_dims(tf.range(num_kv), 0) <= tf.expand_dims(tf.range(num_queries), 1)",
           "tf.expand_dims(tf.range(num_kv), 0) < tf.expand_dims(tf.range(num_queries), 1)"),
    Mutant("heads ignore the mask", "attn_lib/multihead.py",
           "    return None if mask is None else tf.expand_dims(mask, 1)", "    return None"),
    Mutant("Keras masks dropped", "attn_lib/masking.py",
           'q, k, v = (getattr(x, "_keras_mask", None) for x in (queries, keys, values))',
           "q = k = v = None"),
    Mutant("padded queries keep their keys", "attn_lib/masking.py",
           "keep = None if q is None else tf.expand_dims(tf.cast(q, tf.bool), 2)",
           "keep = None"),
    Mutant("pooling ignores valid_lens", "attn_lib/layers.py",
           "pooled, weights = self.attend(scores, x, valid_lens, mask, None, True)",
           "pooled, weights = self.attend(scores, x, None, mask, None, True)"),
    Mutant("additive score without tanh", "attn_lib/scoring.py",
           "features = tf.tanh(projected_q + projected_k)",
           "features = projected_q + projected_k"),
    Mutant("no output bias in multi-head attention", "attn_lib/multihead.py",
           "output = tf.matmul(merged, self.W_o) + self.b_o",
           "output = tf.matmul(merged, self.W_o)"),
    Mutant("Gaussian width not squared", "attn_lib/scoring.py",
           "/ (2 * tf.square(width))", "/ (2 * width)"),
    Mutant("negative valid_lens accepted", "attn_lib/_validate.py",
           "values.size and values.min() < 0", "values.size and values.min() < -1"),
    Mutant("masks broadcast by coincidence of sizes", "attn_lib/_validate.py",
           "return shape is not None and len(shape) == len(expected) and all(",
           "return shape is not None and len(shape) <= len(expected) and all("),
    Mutant("flags not checked", "attn_lib/_validate.py",
           "    if (value is None and allow_none) or isinstance(value, (bool, np.bool_)):",
           "    if True:"),
    # chapter 11: key-value heads shared by groups of query heads, sliding windows
    Mutant("key-value heads tiled, not repeated", "attn_lib/multihead.py",
           "return x if groups == 1 else tf.repeat(x, groups, axis=1)",
           "return x if groups == 1 else tf.tile(x, (1, groups, 1, 1))"),
    Mutant("window one key too wide", "attn_lib/masking.py",
           "return tf.logical_and(distance >= 0, distance < window)  # p - W < j <= p",
           "return tf.logical_and(distance >= 0, distance <= window)  # p - W < j <= p"),
    Mutant("two-sided window one key too wide", "attn_lib/masking.py",
           "return tf.abs(distance) < window  # |p - j| < W",
           "return tf.abs(distance) <= window  # |p - j| < W"),
    Mutant("window ignores the cache offset", "attn_lib/multihead.py",
           "band = _sliding_window_mask(num_queries, num_kv, window, offset, causal=False)",
           "band = _sliding_window_mask(num_queries, num_kv, window, 0, causal=False)"),
    Mutant("windowed cache keeps W - 1", "attn_lib/cache.py",
           "self._keys[layer] = keys[:, :, -self.window:]",
           "self._keys[layer] = keys[:, :, -self.window + 1:]"),
    Mutant("cache trims before the chunk attends", "attn_lib/cache.py",
           "        return keys, values\n\n    def _check_layer",
           "        return self._keys[layer], self._values[layer]\n\n    def _check_layer"),
    Mutant("windowed cache accepted by an unwindowed layer", "attn_lib/multihead.py",
           "if cache.window is not None and (window is None or window > cache.window):",
           "if cache.window is not None and (window is not None and window > cache.window):"),
    Mutant("length stops at the window", "attn_lib/cache.py",
           "        return self._appended[0]\n", "        return self.stored(0)\n"),
    # chapter 12: rotary embeddings and linear biases
    Mutant("RoPE turns the wrong way", "attn_lib/positions.py",
           "return tf.concat([-second, first], axis=-1)",
           "return tf.concat([second, -first], axis=-1)"),
    Mutant("RoPE frequencies base^(-i/d)", "attn_lib/positions.py",
           "return base ** (-np.arange(0, dim, 2) / dim)",
           "return base ** (-np.arange(0, dim // 2) / dim)"),
    Mutant("RoPE pairings mixed", "attn_lib/positions.py",
           '    if pairing == "half":  # θ_0 ... θ_{d/2-1}, θ_0 ... θ_{d/2-1}',
           '    if pairing != "half":  # θ_0 ... θ_{d/2-1}, θ_0 ... θ_{d/2-1}'),
    Mutant("ALiBi slopes 2^-k whatever the head count", "attn_lib/positions.py",
           "slopes = [2.0 ** (-8.0 * k / power) for k in range(1, power + 1)]",
           "slopes = [2.0 ** (-k) for k in range(1, power + 1)]"),
    Mutant("ALiBi bias ignores the offset", "attn_lib/positions.py",
           "query_at = tf.range(num_queries) + offset",
           "query_at = tf.range(num_queries)"),
    Mutant("RoPE after the cache: positions restart", "attn_lib/multihead.py",
           "at = start if cache is None else start + cache.first_position(cache_index)",
           "at = start"),

]


def apply(mutant, folder):
    path = folder / mutant.path
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise SystemExit(f"mutant {mutant.name!r}: the line to edit occurs {count} times in "
                         f"{mutant.path} (expected once); update scripts/mutation_check.py")
    path.write_text(text.replace(mutant.old, mutant.new))


def run(mutant):
    """The first failing test's id, or None if every test passed."""
    with tempfile.TemporaryDirectory(prefix="attn-lib-mutant-") as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "attn_lib", folder / "attn_lib")
        shutil.copytree(ROOT / "tests", folder / "tests")
        apply(mutant, folder)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             "--no-header", "-rf", *TESTS], cwd=folder, capture_output=True, text=True)
    if result.returncode == 0:
        return None
    failed = re.search(r"^FAILED (\S+)", result.stdout, re.MULTILINE)
    if result.returncode != 1 or not failed:  # collection error, missing file: not a kill
        raise SystemExit(f"mutant {mutant.name!r}: pytest could not run the tests "
                         f"(exit {result.returncode}):\n{result.stdout[-2000:]}")
    return failed.group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutants whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if args.k in m.name]
    if args.list:
        for m in mutants:
            print(f"{m.name:48s} {m.path}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:  # check every edit applies before running any
        shutil.copytree(ROOT / "attn_lib", Path(tmp) / "attn_lib")
        for m in mutants:
            shutil.copytree(ROOT / "attn_lib", Path(tmp) / "check", dirs_exist_ok=True)
            apply(m._replace(path=m.path.replace("attn_lib/", "check/")), Path(tmp))
            shutil.rmtree(Path(tmp) / "check")
    survivors = 0
    start = time.perf_counter()
    for m in mutants:
        killer = run(m)
        survivors += killer is None
        print(f"{'SURVIVED' if killer is None else 'killed  '}  {m.name:48s} "
              f"{killer or '(every test passed)'}", flush=True)
    print(f"{len(mutants) - survivors} of {len(mutants)} mutants killed "
          f"({time.perf_counter() - start:.0f} s)")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
