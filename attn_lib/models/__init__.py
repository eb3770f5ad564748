"""Models built from the library's layers, one module per chapter that trains one.

- :mod:`attn_lib.models.seq2seq` – a GRU encoder–decoder, with or without additive
  attention, and :func:`greedy_decode` (chapter 7);
- :mod:`attn_lib.models.classifier` – a self-attention text classifier (chapter 8);
- :mod:`attn_lib.models.decoder` – a decoder-only Transformer that generates with a
  key-value cache (chapter 10).
"""

from attn_lib.models.classifier import SelfAttentionClassifier
from attn_lib.models.decoder import Decoder, DecoderBlock
from attn_lib.models.seq2seq import (
    DecoderStep,
    Decoding,
    EncoderDecoder,
    GRUDecoder,
    GRUEncoder,
    greedy_decode,
)

__all__ = ["Decoder", "DecoderBlock", "DecoderStep", "Decoding", "EncoderDecoder",
           "GRUDecoder", "GRUEncoder", "SelfAttentionClassifier", "greedy_decode"]
