"""attn_lib.data.translation: determinism, shapes, padding, the gold alignment, Chapter 7's data."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attn_lib.data import (
    CHAPTER7_DATA,
    LEXICON,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    WORKED_EXAMPLE,
    alignment_accuracy,
    make_translation_data,
    parse_sentence,
    token_accuracy,
    translate_words,
)
from attn_lib.data import translation as tr


@pytest.fixture(scope="module")
def data():
    """Chapter 7's data set: what the chapter, its exercises and these tests all use."""
    return make_translation_data(**CHAPTER7_DATA)


def splits(data):
    return [data.train, data.test]


# --- determinism and shapes -----------------------------------------------------------------

def test_same_seed_gives_identical_data_and_another_seed_differs():
    first = make_translation_data(num_train=50, num_test=18, seed=3)
    again = make_translation_data(num_train=50, num_test=18, seed=3)
    other = make_translation_data(num_train=50, num_test=18, seed=4)
    for a, b in zip(first.train[:6] + first.test[:6], again.train[:6] + again.test[:6]):
        np.testing.assert_array_equal(a, b)
    assert first.train.src_words == again.train.src_words
    assert first.train.src_words != other.train.src_words


def test_arrays_have_the_documented_shapes_and_dtypes(data):
    for split, n in [(data.train, 3000), (data.test, 360)]:
        ts, tt = split.src.shape[1], split.tgt_in.shape[1]
        assert split.src.shape == (n, ts) and split.src_valid_lens.shape == (n,)
        assert split.tgt_in.shape == split.tgt_out.shape == (n, tt)
        assert split.alignment.shape == (n, tt, ts) and split.alignment.dtype == np.float32
        for array in (split.src, split.src_valid_lens, split.tgt_in, split.tgt_out,
                      split.tgt_valid_lens):
            assert array.dtype == np.int32
        assert ts == split.src_valid_lens.max() and tt == split.tgt_valid_lens.max()
        assert len(split.src_words) == len(split.tgt_words) == n


def test_vocabularies_are_small_and_share_the_special_ids():
    assert 20 <= len(SOURCE_VOCAB) <= 40 and 20 <= len(TARGET_VOCAB) <= 40
    for vocab in (SOURCE_VOCAB, TARGET_VOCAB):
        assert vocab.tokens[:3] == ["<pad>", "<bos>", "<eos>"]
        assert (tr.PAD, tr.BOS, tr.EOS) == (0, 1, 2)
    assert set(TARGET_VOCAB.words) == set(LEXICON.values())
    assert set(SOURCE_VOCAB.words) == set(LEXICON) | {tr.OBJECT_MARKER}


def test_vocab_decode_inverts_encode_and_strips_special_tokens():
    words = ["the", "big", "dog", "sleeps"]
    ids = TARGET_VOCAB.encode(words)
    assert TARGET_VOCAB.decode(ids) == words
    assert TARGET_VOCAB.decode([tr.BOS] + ids + [tr.EOS, tr.PAD, 5]) == words
    assert TARGET_VOCAB.decode(ids + [tr.EOS], strip=False) == words + ["<eos>"]


# --- padding, <bos>, <eos> ------------------------------------------------------------------

def test_sentences_end_with_eos_and_are_padded_with_zeros(data):
    for split in splits(data):
        for n in range(len(split.src)):
            ls, lt = split.src_valid_lens[n], split.tgt_valid_lens[n]
            assert split.src[n, ls - 1] == tr.EOS and np.all(split.src[n, ls:] == tr.PAD)
            assert np.all(split.src[n, : ls - 1] > tr.EOS)
            assert split.tgt_in[n, 0] == tr.BOS and split.tgt_out[n, lt - 1] == tr.EOS
            assert np.all(split.tgt_in[n, lt:] == tr.PAD) and np.all(split.tgt_out[n, lt:] == 0)
            np.testing.assert_array_equal(split.tgt_in[n, 1:lt], split.tgt_out[n, : lt - 1])


def test_ids_decode_to_the_word_lists(data):
    for split in splits(data):
        for n in range(0, len(split.src), 7):
            assert SOURCE_VOCAB.decode(split.src[n]) == split.src_words[n]
            assert TARGET_VOCAB.decode(split.tgt_out[n]) == split.tgt_words[n]


# --- the gold alignment ---------------------------------------------------------------------

def check_alignment(split):
    for n in range(len(split.src)):
        gold = split.alignment[n]
        rows, cols = gold.sum(axis=1), gold.sum(axis=0)
        lt, ls = split.tgt_valid_lens[n], split.src_valid_lens[n]
        assert set(np.unique(gold)) <= {0.0, 1.0}
        assert np.all(rows[:lt] == 1) and np.all(rows[lt:] == 0)  # one source word per row
        assert cols.max() == 1 and np.all(cols[ls:] == 0)  # no source word twice, no padding
        assert gold[lt - 1, ls - 1] == 1  # <eos> aligns with <eos>
        source = split.src_words[n]
        for t, j in enumerate(gold[: lt - 1].argmax(axis=1)):
            assert LEXICON[source[j]] == split.tgt_words[n][t]
        for j, word in enumerate(source):
            if word == tr.OBJECT_MARKER:
                assert cols[j] == 0


def test_gold_alignment_is_one_to_one_and_each_target_word_translates_its_source(data):
    for split in splits(data):
        check_alignment(split)


@given(st.integers(0, 10_000), st.integers(3, 32))
def test_gold_alignment_holds_for_any_seed_and_length(seed, length):
    data = make_translation_data(num_train=5, num_test=3, min_len=length, max_len=length,
                                 seed=seed)
    for split in splits(data):
        assert np.all(split.src_valid_lens == length + 1)
        check_alignment(split)


def test_worked_example_translates_as_the_module_docstring_shows():
    english, order = translate_words(WORKED_EXAMPLE.split())
    assert english == "the big dog sees a cat".split() and order == [2, 1, 0, 6, 4, 3]
    # the docstring writes it as `tobu[0] gopa[1] ...` over `the(2) big(1) ...`
    lines = [line for line in tr.__doc__.splitlines() if re.search(r"\w\[0\]", line)]
    assert len(lines) == 1
    source_line = lines[0]
    target_line = tr.__doc__.splitlines()[tr.__doc__.splitlines().index(source_line) + 1]
    source = re.findall(r"(\w+)\[(\d+)\]", source_line)
    assert source == [(w, str(j)) for j, w in enumerate(WORKED_EXAMPLE.split())]
    assert re.findall(r"(\w+)\((\d+)\)", target_line) == [(w, str(j))
                                                           for w, j in zip(english, order)]


def test_translate_words_reorders_noun_phrases_and_moves_the_verb():
    source = f"{WORKED_EXAMPLE} en kani tini rusa na dunu".split()
    english, order = translate_words(source)
    assert english == "the big dog sees a cat and the red small child sleeps".split()
    assert order == [2, 1, 0, 6, 4, 3, 7, 11, 10, 9, 8, 12]


@pytest.mark.parametrize("words, message", [
    ("tobu na", "must end with a verb"),
    ("na tobu dunu", "must start with a noun"),
    ("tobu gopa dunu", "must end with a determiner"),
    ("tobu na mira ke mabo", "must be followed by 'wo'"),
    ("tobu na dunu mira na dunu", "joined by 'en'"),
    ("tobu na xyz", "Unknown source word 'xyz'"),
])
def test_translate_words_rejects_ungrammatical_sentences(words, message):
    with pytest.raises(ValueError, match=message):
        translate_words(words.split())


def test_translate_words_rejects_an_empty_sentence():
    with pytest.raises(ValueError, match="at least one clause"):
        translate_words([])


# --- lengths --------------------------------------------------------------------------------

def test_training_lengths_fall_off_and_test_lengths_are_even(data):
    train_words, test_words = data.train.src_valid_lens - 1, data.test.src_valid_lens - 1
    assert train_words.min() >= 3 and train_words.max() <= 20
    counts = np.bincount(test_words, minlength=21)[3:]
    assert np.all(counts == 20)  # 360 sentences over 18 lengths, as Chapter 7 says
    assert np.median(train_words) < np.median(test_words)
    assert np.mean(train_words <= 7) > 0.5


def test_test_sentences_are_new_except_where_the_grammar_runs_out(data):
    seen = {tuple(s) for s in data.train.src_words}
    repeats = [len(s) for s in data.test.src_words if tuple(s) in seen]
    assert set(repeats) <= {3}  # only 60 three-word sentences exist
    assert len({tuple(s) for s in data.test.src_words}) >= len(data.test.src_words) - 5


def test_chapter7_data_holds_every_three_word_sentence_in_training(data):
    # Chapter 7 says: 60 three-word sentences exist, the training set holds all of them,
    # so the 20 test sentences of length 3 are repeats and every longer one is new.
    all_three = len(tr.NOUNS) * len(tr.DETERMINERS) * len(tr.INTRANSITIVE_VERBS)
    seen = {tuple(s) for s in data.train.src_words}
    assert all_three == 60 and sum(len(s) == 3 for s in seen) == 60
    assert sorted(len(s) for s in data.test.src_words if tuple(s) in seen) == [3] * 20


def test_chapter7_diagonal_baseline_is_the_0249_the_chapter_quotes(data):
    # The chapter's prose types this number (Exercise 7.3 and the summary); the data are
    # NumPy-seeded, so it is the same on every machine.
    test = data.test
    n, tt, ts = test.alignment.shape
    diagonal = np.zeros((n, tt, ts))
    for i in range(n):
        diagonal[i, np.arange(tt), np.minimum(np.arange(tt), test.src_valid_lens[i] - 1)] = 1
    accuracy = alignment_accuracy(diagonal, test.alignment, test.tgt_valid_lens)
    assert f"{accuracy:.3f}" == "0.249"


# --- argument checks ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_train": 0}, ValueError, "`num_train` must be > 0. Received: num_train=0"),
    ({"num_test": 2.5}, TypeError, "`num_test` must be an integer"),
    ({"min_len": 2}, ValueError, r"3 <= min_len <= max_len <= 32.*min_len=2"),
    ({"max_len": 33}, ValueError, r"Received: min_len=3, max_len=33"),
    ({"min_len": 9, "max_len": 8}, ValueError, r"min_len=9, max_len=8"),
    ({"length_decay": 0.0}, ValueError, r"`length_decay` must be a number in \(0, 1\]"),
    ({"length_decay": "fast"}, ValueError, "Received: length_decay='fast'"),
])
def test_make_translation_data_names_the_bad_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_translation_data(**kwargs)


# --- parsing typed sentences ----------------------------------------------------------------

def test_parse_sentence_ignores_case_and_punctuation():
    assert WORKED_EXAMPLE == "tobu gopa na mira ke wo mabo"
    assert parse_sentence("Tobu gopa na, mira ke wo MABO!") == WORKED_EXAMPLE.split()


def test_parse_sentence_names_an_unknown_word_and_lists_close_words():
    with pytest.raises(ValueError, match=r"Unknown word 'mabbo'.*Close words: mabo"):
        parse_sentence("tobu na mira ke wo mabbo")


def test_parse_sentence_lists_the_vocabulary_when_nothing_is_close():
    with pytest.raises(ValueError, match=r"Unknown word 'xq'.*The vocabulary is: mira, tobu"):
        parse_sentence("xq")


def test_parse_sentence_rejects_special_tokens_empty_text_and_non_strings():
    with pytest.raises(ValueError, match="Unknown word 'eos'"):
        parse_sentence("tobu na dunu <eos>")
    with pytest.raises(ValueError, match="at least one word"):
        parse_sentence(" ,. ")
    with pytest.raises(TypeError, match="`text` must be a string"):
        parse_sentence(["tobu"])


# --- scores ---------------------------------------------------------------------------------

def test_token_accuracy_counts_words_and_eos_up_to_the_reference_length():
    tgt_out = np.array([[5, 6, 2, 0], [7, 2, 0, 0]])
    tgt_valid_lens = np.array([3, 2])
    predicted = np.array([[5, 9, 2, 4, 4], [7, 2, 0, 0, 0]])
    np.testing.assert_allclose(token_accuracy(predicted, tgt_out, tgt_valid_lens),
                               [2 / 3, 1.0])
    short = np.array([[5], [7]])  # missing steps count as wrong
    np.testing.assert_allclose(token_accuracy(short, tgt_out, tgt_valid_lens), [1 / 3, 1 / 2])


def test_alignment_accuracy_of_the_gold_alignment_is_one_and_of_shifted_is_lower(data):
    test = data.test
    assert alignment_accuracy(test.alignment, test.alignment, test.tgt_valid_lens) == 1.0
    shifted = np.roll(test.alignment, 1, axis=2)
    assert alignment_accuracy(shifted, test.alignment, test.tgt_valid_lens) < 0.5


def test_alignment_accuracy_skips_eos_unless_asked_and_ignores_padding():
    gold = np.zeros((1, 3, 4))
    gold[0, [0, 1, 2], [1, 0, 2]] = 1  # two words, then <eos> at source position 2
    weights = gold.copy()
    weights[0, 2] = [0.9, 0.1, 0, 0]  # the <eos> step looks elsewhere
    assert alignment_accuracy(weights, gold, np.array([3])) == 1.0
    with_eos = alignment_accuracy(weights, gold, np.array([3]), include_eos=True)
    assert with_eos == pytest.approx(2 / 3)


def test_alignment_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape. Received: \(1, 2, 3\) and \(1, 2, 4\)"):
        alignment_accuracy(np.zeros((1, 2, 3)), np.zeros((1, 2, 4)), np.array([2]))
