"""Seeded, deterministic data sets for the book; nothing is downloaded.

Each generator takes a ``seed`` and returns the same data for the same seed on
every machine (NumPy's ``default_rng``; no TensorFlow randomness).
"""

from attn_lib.data.regression import KernelRegressionData, make_kernel_regression

__all__ = ["KernelRegressionData", "make_kernel_regression"]
