"""Shared test settings: quiet TensorFlow, fixed seeds, a headless matplotlib."""

import importlib.util
import os
import pathlib


def _load_env_module():
    """attn_lib/_env.py by its path, so that the variables are set before TensorFlow loads."""
    path = pathlib.Path(__file__).resolve().parents[1] / "attn_lib" / "_env.py"
    spec = importlib.util.spec_from_file_location("attn_lib_env", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_env = _load_env_module()
_env.apply(_env.BOOK_ENV)
os.environ.setdefault("MPLBACKEND", "Agg")

import hypothesis  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

hypothesis.settings.register_profile("book", max_examples=40, deadline=None,
                                     derandomize=True)
hypothesis.settings.load_profile("book")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
