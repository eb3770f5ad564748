"""Seeded, deterministic data sets for the book, and each chapter's settings; nothing is
downloaded.

Each generator takes a ``seed`` and returns the same data for the same seed on
every machine (NumPy's ``default_rng``; no TensorFlow randomness). A chapter's
settings are one constant, used by the chapter, its exercise checks and the tests:

- :data:`CHAPTER1_DATA`: ``make_kernel_regression(**CHAPTER1_DATA)``;
- :data:`CHAPTER7_DATA`: ``make_translation_data(**CHAPTER7_DATA)``, and
  :data:`WORKED_EXAMPLE`, the sentence the chapter translates by hand;
- :data:`CHAPTER8_DATA`: ``make_reviews(**CHAPTER8_DATA[split])`` for ``split`` in
  ``"train"``, ``"valid"``, ``"test"``;
- :data:`CHAPTER10_DATA`: ``make_repeats(**CHAPTER10_DATA[split])`` for ``split`` in
  ``"train"``, ``"test"``;
- :data:`CHAPTER11_DATA`: ``make_lags(**CHAPTER11_DATA[split])`` for ``split`` in
  ``"train"``, ``"test"``;
- :data:`CHAPTER12_DATA`: ``make_marks(**CHAPTER12_DATA[split])`` for ``split`` in
  ``"train"``, ``"test_1L"``, ``"test_2L"``, ``"test_4L"``.
"""

from attn_lib.data.lags import CHAPTER11_DATA, LagData, make_lags
from attn_lib.data.marks import (
    CHAPTER12_DATA,
    MarkData,
    make_marks,
)
from attn_lib.data.regression import (
    CHAPTER1_DATA,
    KernelRegressionData,
    leave_one_out,
    make_kernel_regression,
)
from attn_lib.data.repeats import (
    CHAPTER10_DATA,
    RepeatData,
    continue_repeats,
    make_repeats,
)
from attn_lib.data.reviews import (
    CHAPTER8_DATA,
    ReviewData,
    decode_review,
    encode_review,
    make_reviews,
    rule_label,
)
from attn_lib.data.translation import (
    CHAPTER7_DATA,
    LEXICON,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    WORKED_EXAMPLE,
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

__all__ = ["CHAPTER1_DATA", "KernelRegressionData", "leave_one_out", "make_kernel_regression",
           "CHAPTER8_DATA", "ReviewData", "decode_review", "encode_review", "make_reviews",
           "rule_label",
           "CHAPTER10_DATA", "RepeatData", "continue_repeats", "make_repeats",
           "CHAPTER11_DATA", "LagData", "make_lags",
           "CHAPTER7_DATA", "LEXICON", "SOURCE_VOCAB", "TARGET_VOCAB", "TranslationData",
           "TranslationSplit", "Vocab", "WORKED_EXAMPLE", "alignment_accuracy", "make_split",
           "make_translation_data", "parse_sentence", "token_accuracy", "translate_words",
           "CHAPTER12_DATA", "MarkData", "make_marks"]
