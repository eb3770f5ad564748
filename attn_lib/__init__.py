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

The library is organised by what code *is*. The core, in reading order; each
module depends only on those above it:

- :mod:`attn_lib.reference` – plain NumPy versions, the oracle for tests;
- :mod:`attn_lib.masking` – ``sequence_mask``, ``causal_mask``, ``masked_softmax``;
- :mod:`attn_lib.scoring` – the scoring functions (dot product, additive, general,
  Gaussian kernel) as plain functions;
- :mod:`attn_lib.layers` – the base class ``AttentionLayer`` and the Keras layers
  built on one score each (``DotProductAttention``, ``AdditiveAttention``,
  ``GeneralAttention``, ``NadarayaWatson``, ``AttentionPooling``);
- :mod:`attn_lib.multihead` – ``MultiHeadAttention``, ``SelfAttention``,
  ``PositionalEncoding`` and their head split / merge / mask helpers.

Beside the core, for attention at scale: :mod:`attn_lib.tiled` (``tiled_attention``:
the same attention in tiles with an online softmax, never the whole score matrix)
and :mod:`attn_lib.cache` (``KVCache``: the keys and values a decoder keeps while it
generates).

Around it: :mod:`attn_lib.models` (models that chapters train),
:mod:`attn_lib.data` (seeded data sets and each chapter's settings),
:mod:`attn_lib.diagnostics` (measurements: cost, row kinds, leaks),
:mod:`attn_lib.claims` (claims about trained results), :mod:`attn_lib.plot`
(``show_heatmaps``), :mod:`attn_lib.widgets` (interactive figures that also work
on the static website), :mod:`attn_lib.display` (``show_source``) and
:mod:`attn_lib.exercises` (self-checks).
"""

from attn_lib import _env

# Before the first `import tensorflow`: quiet, reproducible TensorFlow for every
# reader, Colab included (attn_lib/_env.py says why each variable is set).
_env.apply(_env.READER_ENV)

from attn_lib.cache import KVCache, kv_cache_bytes  # noqa: E402
from attn_lib.layers import (  # noqa: E402
    AdditiveAttention,
    AttentionLayer,
    AttentionPooling,
    DotProductAttention,
    GeneralAttention,
    NadarayaWatson,
)
from attn_lib.masking import (  # noqa: E402
    causal_mask,
    masked_softmax,
    sequence_mask,
    sliding_window_mask,
)
from attn_lib.multihead import (  # noqa: E402
    GroupedQueryAttention,
    MultiHeadAttention,
    SelfAttention,
)
from attn_lib.positions import (  # noqa: E402
    NoPositionalEncoding,
    PositionalEncoding,
    PositionEmbedding,
    alibi_bias,
    alibi_slopes,
    rope,
)
from attn_lib.tiled import tiled_attention  # noqa: E402

__version__ = "0.5.0"

__all__ = [
    "AdditiveAttention",
    "AttentionLayer",
    "AttentionPooling",
    "DotProductAttention",
    "GeneralAttention",
    "GroupedQueryAttention",
    "KVCache",
    "MultiHeadAttention",
    "NadarayaWatson",
    "NoPositionalEncoding",
    "PositionEmbedding",
    "PositionalEncoding",
    "SelfAttention",
    "alibi_bias",
    "alibi_slopes",
    "causal_mask",
    "kv_cache_bytes",
    "masked_softmax",
    "rope",
    "sequence_mask",
    "sliding_window_mask",
    "tiled_attention",
]
