"""The test command's second nbval pass really runs other numerics.

scripts/test.sh executes every notebook again with PERTURBED_ENV (oneDNN held to older
vector kernels). That pass proves something only if it changes what training computes;
these tests check that it does, on whatever CPU runs them.
"""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import BOOK_ENV, PERTURBED_ENV  # noqa: E402

TRAIN = """
import attn_lib, keras, numpy as np
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(512, 40)).astype("float32")
y = (x[:, :5].sum(axis=1) > 0).astype("int32")
model = keras.Sequential([keras.Input((40,)), keras.layers.Dense(96, activation="tanh"),
                          keras.layers.Dense(2)])
model.compile(keras.optimizers.Adam(0.01),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x, y, batch_size=64, epochs=10, verbose=0)
print(repr(history.history["loss"][-1]))  # every digit of the float32 loss
"""


def final_loss(extra_env):
    env = {**os.environ, **BOOK_ENV, **extra_env}
    result = subprocess.run([sys.executable, "-c", TRAIN], env=env, capture_output=True,
                            text=True, check=True, cwd=ROOT)
    return result.stdout.strip()


def test_perturbed_numerics_change_a_training_loss():
    native, perturbed = final_loss({}), final_loss(PERTURBED_ENV)
    assert native != perturbed, f"both runs end at loss {native}: the second pass is vacuous"
    # ... and only by rounding: the same training, not another model.
    assert abs(float(native) - float(perturbed)) < 0.05 * float(native)


def test_each_setting_is_deterministic():
    assert final_loss(PERTURBED_ENV) == final_loss(PERTURBED_ENV)
