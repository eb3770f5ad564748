"""Seeded, deterministic data sets for the book; nothing is downloaded.

Each generator takes a ``seed`` and returns the same data for the same seed on
every machine (NumPy's ``default_rng``; no TensorFlow randomness).
"""

from attn_lib.data.regression import KernelRegressionData, make_kernel_regression
from attn_lib.data.reviews import (
    ReviewData,
    decode_review,
    encode_review,
    make_reviews,
    rule_label,
)
from attn_lib.data.translation import (
    LEXICON,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    TranslationData,
    TranslationSplit,
    Vocab,
    alignment_accuracy,
    make_split,
    make_translation_data,
    parse_sentence,
    token_accuracy,
    translate_words,
)

__all__ = ["KernelRegressionData", "make_kernel_regression",
           "ReviewData", "decode_review", "encode_review", "make_reviews", "rule_label",
           "LEXICON", "SOURCE_VOCAB", "TARGET_VOCAB", "TranslationData", "TranslationSplit",
           "Vocab", "alignment_accuracy", "make_split", "make_translation_data",
           "parse_sentence", "token_accuracy", "translate_words"]
