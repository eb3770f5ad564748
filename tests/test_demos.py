"""attn_lib.demos: fixed embeddings, padded batches, the hand-set heads, cost measurements."""

import numpy as np
import pytest

from attn_lib import demos, reference


def test_tokenize_lowercases_and_drops_punctuation():
    assert demos.tokenize("The Dog bites, the man!") == ["the", "dog", "bites", "the", "man"]


def test_tokenize_rejects_a_non_string():
    with pytest.raises(TypeError, match="`sentence` must be a string"):
        demos.tokenize(["the", "dog"])


def test_embeddings_have_length_sqrt_dim_and_are_deterministic():
    x = demos.embed_tokens(["cat", "unknownword", "the"], dim=12)
    assert x.shape == (3, 12) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.sqrt(12), rtol=1e-6)
    np.testing.assert_array_equal(x, demos.embed_tokens(["cat", "unknownword", "the"], dim=12))


def test_a_words_vector_does_not_depend_on_its_sentence():
    alone = demos.embed_tokens(["dog"])
    in_sentence = demos.embed_tokens(["the", "big", "dog"])[2:]
    np.testing.assert_array_equal(alone, in_sentence)


def test_words_of_the_same_kind_are_more_similar_than_words_of_different_kinds():
    words = [w for kind in ("animal", "verb", "place") for w in demos.WORD_KINDS[kind][:3]]
    x = demos.embed_tokens(words)
    cosine = (x @ x.T) / 16
    kinds = np.array([demos.kind_of(w) for w in words])
    same = kinds[:, None] == kinds[None, :]
    off_diagonal = ~np.eye(len(words), dtype=bool)
    assert cosine[same & off_diagonal].min() > 0.8
    assert np.abs(cosine[~same]).max() < 0.3


def test_embed_tokens_rejects_a_string_a_small_dim_and_negative_noise():
    with pytest.raises(TypeError, match="`tokens` must be a list of words"):
        demos.embed_tokens("the cat")
    with pytest.raises(ValueError, match="`dim` must be at least the number of word kinds"):
        demos.embed_tokens(["cat"], dim=4)
    with pytest.raises(ValueError, match="`noise` must be a number >= 0"):
        demos.embed_tokens(["cat"], noise=-1.0)


def test_encode_sentences_pads_with_zeros_and_appends_the_positional_encoding():
    batch = demos.encode_sentences(["the cat sat on the mat", "a dog"], dim=10, pos_dim=6)
    assert batch.x.shape == (2, 6, 16)
    assert batch.valid_lens.tolist() == [6, 2] and batch.valid_lens.dtype == np.int32
    assert not batch.x[1, 2:].any()
    np.testing.assert_allclose(batch.x[0, :, 10:], reference.positional_encoding(6, 6),
                               atol=1e-6)
    np.testing.assert_array_equal(batch.x[1, :2, :10], demos.embed_tokens(["a", "dog"], 10))


def test_encode_sentences_rejects_empty_input_and_odd_pos_dim():
    with pytest.raises(ValueError, match="`sentences` must be a non-empty list"):
        demos.encode_sentences([])
    with pytest.raises(ValueError, match="Every sentence needs at least one word"):
        demos.encode_sentences(["the cat", "!!"])
    with pytest.raises(ValueError, match="`pos_dim` must be even"):
        demos.encode_sentences(["the cat"], pos_dim=3)


def test_demo_heads_do_their_named_jobs():
    batch = demos.encode_sentences(["the dog bites the man"], pos_dim=16)
    layer = demos.demo_multi_head_attention()
    layer(batch.x, batch.x, batch.x)
    weights = layer.attention_weights.numpy()[0]  # (h, T, T)
    previous, same_kind, verb_noun, _ = weights
    assert (previous[1:].argmax(axis=1) == np.arange(4)).all()
    assert (same_kind[[0, 3]][:, [0, 3]] > 0.4).all()  # "the" and "the"
    assert verb_noun[2, [1, 4]].sum() > 0.95  # "bites" looks at "dog" and "man"
    assert verb_noun[1, 2] > 0.9 and verb_noun[4, 2] > 0.9


def test_demo_layer_matches_the_numpy_reference():
    batch = demos.encode_sentences(["the cat saw a bird", "a dog"], pos_dim=16)
    layer = demos.demo_multi_head_attention()
    output = layer(batch.x, batch.x, batch.x, valid_lens=batch.valid_lens).numpy()
    expected, _ = reference.multi_head_attention(
        batch.x, batch.x, batch.x, 4, *(w.numpy() for w in (layer.W_q, layer.W_k, layer.W_v,
                                                              layer.W_o)),
        valid_lens=batch.valid_lens)
    np.testing.assert_allclose(output, expected, atol=1e-4)


def test_demo_multi_head_attention_rejects_an_odd_pos_dim():
    with pytest.raises(ValueError, match="`pos_dim` must be even"):
        demos.demo_multi_head_attention(pos_dim=5)


def test_attention_weights_bytes_is_batch_heads_length_squared_itemsize():
    assert demos.attention_weights_bytes(100, batch_size=3, num_heads=2) == 3 * 2 * 100**2 * 4
    assert demos.attention_weights_bytes(10, dtype="float16") == 200


def test_attention_weights_bytes_rejects_a_zero_length():
    with pytest.raises(ValueError, match="`length` must be > 0"):
        demos.attention_weights_bytes(0)


def test_time_self_attention_returns_one_positive_time_per_length():
    seconds = demos.time_self_attention([4, 8, 16], repeats=1)
    assert seconds.shape == (3,) and (seconds > 0).all()


def test_time_self_attention_rejects_bad_lengths_and_repeats():
    with pytest.raises(ValueError, match="`lengths` must hold at least one length"):
        demos.time_self_attention([])
    with pytest.raises(TypeError, match="`lengths` must be an integer"):
        demos.time_self_attention([2.5])
    with pytest.raises(ValueError, match="`repeats` must be > 0"):
        demos.time_self_attention([4], repeats=0)
