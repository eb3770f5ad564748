"""attn_lib: the library behind *Attention, Interactively*.

Every module uses one shape glossary (also on the book's notation page):

======  ==============================================================
symbol  meaning
======  ==============================================================
``B``   batch size
``Tq``  number of queries (positions that ask)
``Tv``  number of key–value pairs (positions that are looked up)
``dq``  size of one query vector
``dk``  size of one key vector (equal to ``dq`` for dot-product scores)
``dv``  size of one value vector
``h``   number of attention heads
======  ==============================================================

The modules are layered; each depends only on those above it:

- :mod:`attn_lib.reference` – plain NumPy versions, the oracle for tests;
- :mod:`attn_lib.masking` – ``sequence_mask``, ``causal_mask``, ``masked_softmax``;
- :mod:`attn_lib.scoring` – the three scoring functions as plain functions;
- :mod:`attn_lib.layers` – Keras layers built from them;
- :mod:`attn_lib.models` – encoder–decoder and classifier models.

Beside them stand :mod:`attn_lib.data` (seeded data generators),
:mod:`attn_lib.plot` (``show_heatmaps``), :mod:`attn_lib.widgets` (interactive figures
that also work on the static website) and :mod:`attn_lib.exercises` (self-checks).
"""

import os

# TensorFlow logs C++ messages at import unless told otherwise; set this before the
# first `import tensorflow` so that notebooks and tests stay quiet and deterministic.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN kernels print a notice to the C-level stderr and may reorder float sums;
# turning them off keeps notebook outputs quiet and reproducible.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from attn_lib.layers import (  # noqa: E402
    AdditiveAttention,
    DotProductAttention,
    GeneralAttention,
    MultiHeadAttention,
    PositionalEncoding,
    SelfAttention,
)
from attn_lib.masking import causal_mask, masked_softmax, sequence_mask  # noqa: E402

__version__ = "0.2.0"

__all__ = [
    "AdditiveAttention",
    "DotProductAttention",
    "GeneralAttention",
    "MultiHeadAttention",
    "PositionalEncoding",
    "SelfAttention",
    "causal_mask",
    "masked_softmax",
    "sequence_mask",
]
