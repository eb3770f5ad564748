"""The environment variables the book sets: defined once, here.

- ``READER_ENV``: what ``import attn_lib`` sets for every reader (Colab too), before
  its first ``import tensorflow``, so that chapters stay quiet and reproducible.
- ``BOOK_ENV``: ``READER_ENV`` plus what the book's own runs add: the notebook runner
  (``scripts/run_notebooks.py``), the test command (``scripts/test.sh`` exports it),
  the tests (``tests/conftest.py``) and the benchmarks.

This module imports nothing but :mod:`os`, and must not import TensorFlow: scripts
that never start TensorFlow load it by its file path, without ``attn_lib/__init__.py``.
"""

import os

READER_ENV = {
    # TensorFlow logs C++ messages at import unless told otherwise.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # oneDNN kernels print a notice to the C-level stderr and may reorder float sums;
    # turning them off keeps notebook outputs quiet and reproducible.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
}

BOOK_ENV = {
    **READER_ENV,
    # The same hash order in every kernel (Python reads it at start-up: set it for
    # the processes you start, such as Jupyter kernels).
    "PYTHONHASHSEED": "0",
    # CPU only, as the committed outputs were computed and as most readers run.
    "CUDA_VISIBLE_DEVICES": "-1",
}


def apply(env):
    """Set each variable of `env` that is not set already (``os.environ.setdefault``)."""
    for name, value in env.items():
        os.environ.setdefault(name, value)
