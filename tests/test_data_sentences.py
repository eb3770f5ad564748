"""attn_lib.data.sentences: the toy vocabulary, its kind directions, embeddings, padded batches."""

import numpy as np
import pytest

from attn_lib import reference
from attn_lib.data.sentences import (
    NOUN_KINDS,
    WORD_KINDS,
    embed_tokens,
    encode_sentences,
    kind_directions,
    kind_of,
    tokenize,
)

# --- the vocabulary -----------------------------------------------------------------------------


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("The Dog bites, the man!") == ["the", "dog", "bites", "the", "man"]


def test_tokenize_rejects_a_non_string():
    with pytest.raises(TypeError, match="`sentence` must be a string"):
        tokenize(["the", "dog"])


def test_kind_of_names_the_kind_of_every_listed_word_and_none_for_others():
    for kind, words in WORD_KINDS.items():
        assert [kind_of(w) for w in words] == [kind] * len(words)
    assert kind_of("zebra") is None


def test_no_word_belongs_to_two_kinds_and_noun_kinds_are_kinds():
    words = [w for ws in WORD_KINDS.values() for w in ws]
    assert len(words) == len(set(words))
    assert set(NOUN_KINDS) <= set(WORD_KINDS)


# --- kind directions ----------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [len(WORD_KINDS), 16, 40])
def test_kind_directions_are_orthonormal_one_per_kind(dim):
    directions = kind_directions(dim, seed=3)
    assert list(directions) == list(WORD_KINDS)
    D = np.stack(list(directions.values()))  # (kinds, dim)
    assert D.shape == (len(WORD_KINDS), dim)
    np.testing.assert_allclose(D @ D.T, np.eye(len(WORD_KINDS)), atol=1e-12)


def test_kind_directions_depend_on_the_seed_only():
    same = kind_directions(16, seed=1), kind_directions(16, seed=1)
    other = kind_directions(16, seed=2)
    for kind in WORD_KINDS:
        np.testing.assert_array_equal(same[0][kind], same[1][kind])
    assert not np.allclose(same[0]["verb"], other["verb"])


def test_kind_directions_are_the_directions_that_embed_tokens_uses():
    # with noise 0 a word is its kind's direction scaled to length √dim
    directions = kind_directions(12, seed=5)
    x = embed_tokens(["dog", "bites", "man"], dim=12, noise=0.0, seed=5)
    for row, kind in zip(x, ("animal", "verb", "person")):
        np.testing.assert_allclose(row, np.sqrt(12) * directions[kind], atol=1e-6)


def test_kind_directions_rejects_a_small_or_non_integer_dim():
    with pytest.raises(ValueError, match=r"`dim` must be at least the number of word kinds "
                                         r"\(9\).*Received: dim=8"):
        kind_directions(8)
    with pytest.raises(TypeError, match=r"`dim` must be an integer. Received: dim=16.0"):
        kind_directions(16.0)


# --- embeddings ---------------------------------------------------------------------------------


def test_embeddings_have_length_sqrt_dim_and_are_deterministic():
    x = embed_tokens(["cat", "unknownword", "the"], dim=12)
    assert x.shape == (3, 12) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.sqrt(12), rtol=1e-6)
    np.testing.assert_array_equal(x, embed_tokens(["cat", "unknownword", "the"], dim=12))


def test_a_words_vector_does_not_depend_on_its_sentence():
    alone = embed_tokens(["dog"])
    in_sentence = embed_tokens(["the", "big", "dog"])[2:]
    np.testing.assert_array_equal(alone, in_sentence)


def test_words_of_the_same_kind_are_more_similar_than_words_of_different_kinds():
    words = [w for kind in ("animal", "verb", "place") for w in WORD_KINDS[kind][:3]]
    x = embed_tokens(words)
    cosine = (x @ x.T) / 16
    kinds = np.array([kind_of(w) for w in words])
    same = kinds[:, None] == kinds[None, :]
    off_diagonal = ~np.eye(len(words), dtype=bool)
    assert cosine[same & off_diagonal].min() > 0.8
    assert np.abs(cosine[~same]).max() < 0.3


def test_embed_tokens_rejects_a_string_a_small_dim_and_negative_noise():
    with pytest.raises(TypeError, match="`tokens` must be a list of words"):
        embed_tokens("the cat")
    with pytest.raises(ValueError, match="`dim` must be at least the number of word kinds"):
        embed_tokens(["cat"], dim=4)
    with pytest.raises(ValueError, match="`noise` must be a number >= 0"):
        embed_tokens(["cat"], noise=-1.0)


# --- padded batches -----------------------------------------------------------------------------


def test_encode_sentences_pads_with_zeros_and_appends_the_positional_encoding():
    batch = encode_sentences(["the cat sat on the mat", "a dog"], dim=10, pos_dim=6)
    assert batch.x.shape == (2, 6, 16)
    assert batch.valid_lens.tolist() == [6, 2] and batch.valid_lens.dtype == np.int32
    assert not batch.x[1, 2:].any()
    np.testing.assert_allclose(batch.x[0, :, 10:], reference.positional_encoding(6, 6),
                               atol=1e-6)
    np.testing.assert_array_equal(batch.x[1, :2, :10], embed_tokens(["a", "dog"], 10))


def test_encode_sentences_takes_token_lists_as_well_as_strings():
    from_text = encode_sentences(["The dog bites."])
    from_tokens = encode_sentences([["the", "dog", "bites"]])
    assert from_tokens.tokens == from_text.tokens == [["the", "dog", "bites"]]
    np.testing.assert_array_equal(from_tokens.x, from_text.x)


def test_encode_sentences_rejects_empty_input_and_odd_pos_dim():
    with pytest.raises(ValueError, match="`sentences` must be a non-empty list"):
        encode_sentences([])
    with pytest.raises(ValueError, match="Every sentence needs at least one word"):
        encode_sentences(["the cat", "!!"])
    with pytest.raises(ValueError, match="`pos_dim` must be even"):
        encode_sentences(["the cat"], pos_dim=3)

