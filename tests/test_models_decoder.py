"""attn_lib.models.decoder: causal, cached generation equal to uncached, contract, errors."""

import hypothesis
import hypothesis.strategies as st
import keras
import numpy as np
import pytest

from attn_lib.models import Decoder, DecoderBlock

VOCAB, MAX_LEN = 12, 40
TOLERANCE = 1e-5  # cached logits equal uncached ones to this (float32, absolute)


def seeded_decoder(seed=0):
    """An untrained decoder whose weights come from NumPy (no global seed touched)."""
    model = Decoder(vocab_size=VOCAB, max_len=MAX_LEN, d_model=16, num_heads=2)
    model.build()
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


MODEL = seeded_decoder()


def assert_close(got, want):
    assert np.abs(np.asarray(got) - np.asarray(want)).max() <= TOLERANCE


def test_changing_a_token_changes_no_earlier_logit():
    ids = np.random.default_rng(1).integers(0, VOCAB, size=(2, 12)).astype(np.int32)
    changed = ids.copy()
    changed[:, 7] = (changed[:, 7] + 1) % VOCAB
    before, after = MODEL(ids).numpy(), MODEL(changed).numpy()
    np.testing.assert_array_equal(before[:, :7], after[:, :7])
    assert np.abs(before[:, 7:] - after[:, 7:]).max() > 1e-3


@st.composite
def prompts_and_chunks(draw):
    batch = draw(st.integers(1, 3))
    length = draw(st.integers(2, 16))
    ids = np.array(draw(st.lists(st.integers(0, VOCAB - 1), min_size=batch * length,
                                 max_size=batch * length)), np.int32).reshape(batch, length)
    prefill = draw(st.integers(1, length))
    chunks, rest = [prefill], length - prefill
    while rest:
        size = draw(st.integers(1, min(rest, 5)))  # multi-token chunks included
        chunks.append(size)
        rest -= size
    return ids, chunks


@hypothesis.settings(max_examples=100, deadline=None, derandomize=True)
@hypothesis.given(prompts_and_chunks())
def test_cached_logits_and_greedy_tokens_equal_uncached(case):
    """Random prompts, prefill lengths and chunk sizes: the logits of the chunks fed through
    a cache equal those of one uncached pass (teacher forcing: both read the same tokens,
    so no argmax tie can make them diverge). Then greedy generation after the prefill:
    logits equal at every step, tokens identical at every step whose two largest uncached
    logits are more than 1e-4 apart; at a closer step either token is a legitimate argmax,
    so the comparison stops there (the seeded model makes that rare)."""
    ids, chunks = case
    cache, start, pieces = MODEL.new_cache(), 0, []
    for size in chunks:
        pieces.append(MODEL.forward(ids[:, start:start + size], cache).numpy())
        start += size
    assert cache.length == ids.shape[1]
    assert_close(np.concatenate(pieces, axis=1), MODEL(ids).numpy())

    prompt = ids[:, :chunks[0]]
    cached_tokens, cached_logits = MODEL.generate(prompt, 2, use_cache=True)
    plain_tokens, plain_logits = MODEL.generate(prompt, 2, use_cache=False)
    for step in range(2):
        assert_close(cached_logits[:, step], plain_logits[:, step])
        top_two = np.sort(plain_logits[:, step], axis=-1)[:, -2:]
        if (top_two[:, 1] - top_two[:, 0]).min() <= 1e-4:
            break
        np.testing.assert_array_equal(cached_tokens[:, step], plain_tokens[:, step])


def test_generate_with_a_cache_never_sees_an_earlier_prompt():
    first, second = (np.random.default_rng(s).integers(0, VOCAB, (2, 6)).astype(np.int32)
                     for s in (2, 3))
    MODEL.generate(first, 4)
    np.testing.assert_array_equal(MODEL.generate(second, 4)[1],
                                  MODEL.generate(second, 4)[1])


def test_forward_rejects_a_sequence_longer_than_max_len():
    cache = MODEL.new_cache()
    MODEL.forward(np.zeros((1, MAX_LEN - 1), np.int32), cache)
    with pytest.raises(ValueError, match=r"longer than max_len=40. Received: 39 cached \+ 2"):
        MODEL.forward(np.zeros((1, 2), np.int32), cache)


def test_generate_checks_its_arguments():
    with pytest.raises(ValueError, match=r"`prompt_ids` must have shape \(B, T0\)"):
        MODEL.generate(np.zeros(5, np.int32), 2)
    with pytest.raises(ValueError, match="`steps` must be > 0"):
        MODEL.generate(np.zeros((1, 5), np.int32), 0)


def test_block_rejects_heads_that_do_not_divide_d_model():
    with pytest.raises(ValueError, match="`d_model` must be divisible by `num_heads`"):
        DecoderBlock(d_model=10, num_heads=3, mlp_units=8)


def test_config_round_trip_and_saved_model_give_the_same_logits(tmp_path):
    ids = np.arange(10, dtype=np.int32).reshape(2, 5)
    clone = Decoder.from_config(MODEL.get_config())
    clone.build()
    clone.set_weights(MODEL.get_weights())
    np.testing.assert_array_equal(clone(ids).numpy(), MODEL(ids).numpy())
    path = tmp_path / "decoder.keras"
    MODEL.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(ids).numpy(), MODEL(ids).numpy(), atol=1e-6)


def test_forward_rejects_token_ids_that_are_not_integers_of_shape_b_t():
    with pytest.raises(ValueError,
                       match=r"`token_ids` must have rank 2.*Received: token_ids.shape=\(5,\)"):
        MODEL.forward(np.zeros(5, np.int32))
    with pytest.raises(TypeError, match="`token_ids` must hold integer token ids. Received: "
                                        "token_ids.dtype=float32"):
        MODEL.forward(np.zeros((1, 5), np.float32))


@pytest.mark.parametrize("kv_heads, window", [(1, None), (1, 4), (2, 3)])
def test_grouped_and_windowed_decoder_generates_the_same_with_and_without_a_cache(
        kv_heads, window):
    model = Decoder(vocab_size=VOCAB, max_len=MAX_LEN, d_model=16, num_heads=2,
                    num_key_value_heads=kv_heads, sliding_window=window)
    prompt = np.random.default_rng(3).integers(0, VOCAB, size=(2, 6)).astype(np.int32)
    cached_tokens, cached_logits = model.generate(prompt, 10, use_cache=True)
    tokens, logits = model.generate(prompt, 10, use_cache=False)
    np.testing.assert_array_equal(cached_tokens, tokens)
    assert_close(cached_logits, logits)
    cache = model.new_cache()
    model.forward(np.concatenate([prompt, tokens], axis=1), cache)
    kept = 16 if window is None else window  # the windowed cache stops growing at W
    assert cache.stored(0) == kept and cache.length == 16
    assert cache.nbytes == 2 * 2 * 2 * kept * kv_heads * 8 * 4  # 2·L·B·T·h_kv·d_head·b


def test_a_window_hides_what_lies_beyond_it():
    model = Decoder(vocab_size=VOCAB, max_len=MAX_LEN, d_model=16, num_heads=2,
                    num_layers=1, sliding_window=3)
    ids = np.random.default_rng(4).integers(0, VOCAB, size=(1, 10)).astype(np.int32)
    changed = ids.copy()
    changed[:, 2] = (changed[:, 2] + 1) % VOCAB
    before, after = model(ids).numpy(), model(changed).numpy()
    # one windowed layer: position p reads p - 2 ... p, so token 2 reaches 2, 3 and 4 only
    np.testing.assert_array_equal(before[:, 5:], after[:, 5:])
    assert np.abs(before[:, 2:5] - after[:, 2:5]).max() > 1e-4
