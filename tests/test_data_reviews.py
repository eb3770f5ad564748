"""attn_lib.data.reviews: synthetic reviews whose decisive words are known; Chapter 8's data."""

import numpy as np
import pytest

from attn_lib.data import (
    CHAPTER8_DATA,
    ReviewData,
    decode_review,
    encode_review,
    make_reviews,
    rule_label,
)
from attn_lib.data.reviews import (
    NEGATION,
    NEGATIVE_WORDS,
    NEUTRAL_WORDS,
    POSITIVE_WORDS,
    VOCABULARY,
    WORD_TO_ID,
)
from attn_lib.exercises.ch08 import order_blind_bound  # what exercise 8.4 asks for

SENTIMENT = set(POSITIVE_WORDS) | set(NEGATIVE_WORDS)


@pytest.fixture(scope="module")
def data():
    return make_reviews(num_reviews=500, min_len=4, max_len=15, seed=3)


def words_of(data, n):
    return decode_review(data.token_ids[n], data.valid_lens[n])


def test_same_seed_gives_the_same_reviews_and_another_seed_does_not():
    a, b = make_reviews(50, seed=7), make_reviews(50, seed=7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = make_reviews(50, seed=8)
    assert not np.array_equal(a.token_ids, c.token_ids)


def test_returns_review_data_with_documented_shapes_and_dtypes(data):
    assert isinstance(data, ReviewData)
    assert data.token_ids.shape == data.decisive.shape == (500, 15)
    assert data.valid_lens.shape == data.labels.shape == data.negated.shape == (500,)
    assert data.token_ids.dtype == data.valid_lens.dtype == data.labels.dtype == np.int32
    assert data.decisive.dtype == data.negated.dtype == bool
    assert data.vocabulary == VOCABULARY and VOCABULARY[0] == "<pad>"


def test_labels_agree_with_the_rule(data):
    for n in range(len(data.labels)):
        assert rule_label(words_of(data, n)) == data.labels[n]


def test_each_review_has_exactly_one_sentiment_word(data):
    for n in range(len(data.labels)):
        assert sum(w in SENTIMENT for w in words_of(data, n)) == 1


def test_decisive_positions_are_the_sentiment_word_and_its_negation(data):
    for n in range(len(data.labels)):
        words = words_of(data, n)
        position = next(i for i, w in enumerate(words) if w in SENTIMENT)
        expected = {position, position - 1} if data.negated[n] else {position}
        assert set(np.flatnonzero(data.decisive[n])) == expected
        assert (words[position - 1] == NEGATION) == bool(data.negated[n]) or position == 0


def test_distractor_not_precedes_only_neutral_words(data):
    distractors = 0
    for n in range(len(data.labels)):
        words = words_of(data, n)
        for i, word in enumerate(words):
            if word == NEGATION and not data.decisive[n, i]:
                distractors += 1
                assert i + 1 < len(words) and words[i + 1] in NEUTRAL_WORDS
    assert distractors > 100  # about half of the 500 reviews have one


def test_padding_is_zero_after_the_valid_length_and_never_inside(data):
    positions = np.arange(data.token_ids.shape[1])
    padded = positions[None, :] >= data.valid_lens[:, None]
    assert (data.token_ids[padded] == 0).all()
    assert (data.token_ids[~padded] > 0).all()
    assert not data.decisive[padded].any()
    assert data.valid_lens.min() >= 4 and data.valid_lens.max() <= 15


def test_rates_control_negation_and_distractors():
    plain = make_reviews(200, negation_rate=0.0, distractor_rate=0.0, seed=0)
    assert not (plain.token_ids == WORD_TO_ID[NEGATION]).any()
    assert not plain.negated.any()
    negated = make_reviews(200, negation_rate=1.0, distractor_rate=0.0, seed=0)
    assert negated.negated.all()
    assert ((negated.token_ids == WORD_TO_ID[NEGATION]).sum(axis=1) == 1).all()
    assert 0.4 < make_reviews(2000, seed=0).labels.mean() < 0.6


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_reviews": 0}, ValueError, r"`num_reviews` must be > 0. Received: num_reviews=0"),
        ({"num_reviews": 2.5}, TypeError, r"`num_reviews` must be an integer"),
        ({"min_len": 3}, ValueError, r"`min_len` must be at least 4.*Received: min_len=3"),
        ({"min_len": 9, "max_len": 8}, ValueError, r"`max_len` must be >= `min_len`"),
        ({"negation_rate": 1.5}, ValueError, r"`negation_rate` must be in \[0, 1\]"),
        ({"distractor_rate": "half"}, TypeError, r"`distractor_rate` must be a float"),
    ],
)
def test_make_reviews_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_reviews(**kwargs)


@pytest.mark.parametrize(
    ("text", "label"),
    [("good", 1), ("not good", 0), ("not bad", 1), ("the plot was bad", 0),
     ("not the good", 1), ("good not long", 1), ("good and bad", None), ("the movie", None)],
)
def test_rule_label_flips_only_a_directly_negated_word(text, label):
    assert rule_label(text.split()) == label


def test_encode_then_decode_gives_the_words_back():
    ids, valid_lens = encode_review("The plot was NOT bad!", max_len=8)
    assert ids.shape == (1, 8) and ids.dtype == np.int32 and valid_lens.tolist() == [5]
    assert decode_review(ids[0], valid_lens[0]) == ["the", "plot", "was", "not", "bad"]
    assert (ids[0, 5:] == 0).all()
    assert encode_review("not good")[0].shape == (1, 2)


def test_encode_review_names_the_unknown_words_and_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown word\(s\) 'fantastic', 'terrific'.*Positive: "
                                         r"good, great"):
        encode_review("a fantastic and terrific movie")
    with pytest.raises(ValueError, match=r"Unknown word\(s\) '<pad>'"):
        encode_review("<pad> good")


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((None,), TypeError, r"`text` must be a string. Received: text=None"),
        (("  !! ",), ValueError, r"`text` must contain at least one word"),
        (("not very good", 2), ValueError, r"has 3 words, more than max_len=2"),
    ],
)
def test_encode_review_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        encode_review(*args)


def test_decode_review_rejects_bad_lengths_and_ids():
    with pytest.raises(ValueError, match=r"`valid_len` must be between 0 and the number of "
                                         r"ids \(2\). Received: valid_len=3"):
        decode_review([1, 2], valid_len=3)
    with pytest.raises(ValueError, match=r"`token_ids` must be ids in \[0, "):
        decode_review([1, len(VOCABULARY)])


# --- Chapter 8's data -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chapter8():
    """Chapter 8's three data sets: what the chapter, its exercises and these tests use."""
    return {split: make_reviews(**settings) for split, settings in CHAPTER8_DATA.items()}


def test_chapter8_data_sets_are_the_sizes_the_chapter_trains_on(chapter8):
    sizes = {split: len(data.labels) for split, data in chapter8.items()}
    assert sizes == {"train": 4000, "valid": 1000, "test": 1000}
    assert len({data.token_ids.shape[1] for data in chapter8.values()}) == 1  # one T
    assert not np.array_equal(chapter8["valid"].token_ids, chapter8["test"].token_ids)


def test_chapter8_test_set_gives_the_numbers_the_chapter_quotes(chapter8):
    # The chapter's prose types these (data only, NumPy-seeded: the same on every machine).
    test = chapter8["test"]
    lengths = np.concatenate([d.valid_lens for d in chapter8.values()])
    decisive = np.concatenate([d.decisive.sum(axis=1) for d in chapter8.values()])
    assert (lengths.min(), lengths.max(), decisive.min(), decisive.max()) == (6, 20, 1, 2)
    assert f"{order_blind_bound(test):.3f}" == "0.752"
    assert f"{(test.decisive.sum(axis=1) / test.valid_lens).mean():.3f}" == "0.133"


def test_with_a_distractor_in_every_review_word_counts_decide_the_label():
    # Exercise 8.4: the test settings with distractor_rate=1.0; 6 words always leave room
    always = make_reviews(**{**CHAPTER8_DATA["test"], "distractor_rate": 1.0})
    num_not = (always.token_ids == WORD_TO_ID[NEGATION]).sum(axis=1)
    assert np.all(num_not == 1 + always.negated)  # min_len 6 always leaves room
    assert order_blind_bound(always) == 1.0
