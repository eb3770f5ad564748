"""attn_lib.models.seq2seq: shapes, masking, the NumPy oracle, decoding, training, saving."""

import keras
import numpy as np
import pytest

from attn_lib import reference
from attn_lib.data import SOURCE_VOCAB, TARGET_VOCAB, make_translation_data
from attn_lib.models.seq2seq import EncoderDecoder, GRUDecoder, GRUEncoder, greedy_decode

SIZES = dict(src_vocab_size=len(SOURCE_VOCAB), tgt_vocab_size=len(TARGET_VOCAB), embed_dim=8,
             units=12)


@pytest.fixture(scope="module")
def batch():
    test = make_translation_data(num_train=5, num_test=6, min_len=3, max_len=8, seed=1).test
    return test


def inputs(split):
    return split.src, split.src_valid_lens, split.tgt_in


def make_model(attention=True, seed=0, **sizes):
    keras.utils.set_random_seed(seed)
    return EncoderDecoder(**{**SIZES, **sizes}, attention=attention)


# --- shapes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("attention", [True, False])
def test_call_returns_logits_and_keeps_weights_and_contexts(batch, attention):
    model = make_model(attention)
    logits = model(inputs(batch))
    b, ts = batch.src.shape
    tt = batch.tgt_in.shape[1]
    assert tuple(logits.shape) == (b, tt, len(TARGET_VOCAB))
    assert tuple(model.decoder.attention_weights.shape) == (b, tt, ts)
    assert tuple(model.decoder.contexts.shape) == (b, tt, SIZES["units"])


def test_encoder_returns_one_vector_per_position_and_the_state_after_the_last_word(batch):
    encoder = GRUEncoder(len(SOURCE_VOCAB), embed_dim=8, units=12)
    outputs, state = encoder(batch.src, batch.src_valid_lens)
    assert tuple(outputs.shape) == batch.src.shape + (12,)
    last = outputs.numpy()[np.arange(len(batch.src)), batch.src_valid_lens - 1]
    np.testing.assert_allclose(state.numpy(), last, atol=1e-6)


# --- masking --------------------------------------------------------------------------------

def test_attention_weight_is_exactly_zero_on_padded_source_positions(batch):
    model = make_model()
    model(inputs(batch))
    weights = model.decoder.attention_weights.numpy()  # (B, Tt, Ts)
    padded = np.arange(weights.shape[2]) >= batch.src_valid_lens[:, None]  # (B, Ts)
    assert padded.any()
    assert np.all(weights.transpose(0, 2, 1)[padded] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-6)


@pytest.mark.parametrize("attention", [True, False])
def test_extra_padding_changes_nothing(batch, attention):
    model = make_model(attention)
    logits = model(inputs(batch)).numpy()
    wider = np.pad(batch.src, ((0, 0), (0, 5)))
    logits_wider = model((wider, batch.src_valid_lens, batch.tgt_in)).numpy()
    np.testing.assert_allclose(logits_wider, logits, atol=1e-5)


# --- against the NumPy oracle and the no-attention variant ----------------------------------

def test_first_step_weights_and_context_match_the_numpy_reference(batch):
    model = make_model()
    model(inputs(batch))
    outputs, state = model.encoder(batch.src, batch.src_valid_lens)
    layer = model.decoder.additive
    expected_context, expected_weights = reference.additive_attention(
        state.numpy()[:, None, :], outputs.numpy(), outputs.numpy(), layer.W_q.numpy(),
        layer.W_k.numpy(), layer.w_v.numpy(), valid_lens=batch.src_valid_lens)
    np.testing.assert_allclose(model.decoder.attention_weights.numpy()[:, 0],
                               expected_weights[:, 0], atol=1e-5)
    np.testing.assert_allclose(model.decoder.contexts.numpy()[:, 0], expected_context[:, 0],
                               atol=1e-5)


def test_without_attention_every_context_is_the_final_encoder_state(batch):
    model = make_model(attention=False)
    model(inputs(batch))
    _, state = model.encoder(batch.src, batch.src_valid_lens)
    contexts = model.decoder.contexts.numpy()
    np.testing.assert_allclose(contexts, np.repeat(state.numpy()[:, None], contexts.shape[1], 1),
                               atol=1e-6)
    assert np.all(model.decoder.attention_weights.numpy() == 0)


def test_attention_adds_exactly_the_additive_attention_parameters(batch):
    with_attention, without = make_model(True), make_model(False)
    with_attention(inputs(batch))
    without(inputs(batch))
    h = SIZES["units"]
    assert with_attention.count_params() - without.count_params() == 2 * h * h + h


# --- determinism ----------------------------------------------------------------------------

def test_same_seed_gives_the_same_weights_and_outputs(batch):
    outputs = []
    for seed in (5, 5, 6):
        model = make_model(seed=seed)  # weights are drawn when the model is built, here
        outputs.append(model(inputs(batch)).numpy())
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.allclose(outputs[0], outputs[2])


# --- greedy decoding ------------------------------------------------------------------------

def test_greedy_decode_returns_tokens_weights_and_contexts_of_each_step(batch):
    model = make_model()
    result = greedy_decode(model, batch.src, batch.src_valid_lens, max_steps=6)
    n, ts = batch.src.shape
    steps = result.tokens.shape[1]
    assert steps <= 6 and result.tokens.shape == (n, steps)
    assert result.attention_weights.shape == (n, steps, ts)
    assert result.contexts.shape == (n, steps, SIZES["units"])
    assert result.valid_lens.shape == (n,)
    assert np.all((1 <= result.valid_lens) & (result.valid_lens <= steps))


def test_greedy_decode_agrees_with_teacher_forcing_on_its_own_output(batch):
    model = make_model(seed=2)
    result = greedy_decode(model, batch.src, batch.src_valid_lens, max_steps=7)
    fed = np.concatenate([np.ones((len(batch.src), 1), np.int32), result.tokens[:, :-1]], axis=1)
    logits = model((batch.src, batch.src_valid_lens, fed)).numpy()
    for n, length in enumerate(result.valid_lens):
        np.testing.assert_array_equal(logits[n, :length].argmax(-1), result.tokens[n, :length])
        np.testing.assert_allclose(model.decoder.attention_weights.numpy()[n, :length],
                                   result.attention_weights[n, :length], atol=1e-5)


def test_greedy_decode_pads_and_zeroes_everything_after_eos(batch):
    model = make_model()
    model(inputs(batch))
    # Raise the <eos> logit so that about half of the sentences write <eos> at step 1.
    enc_outputs, enc_state = model.encoder(batch.src, batch.src_valid_lens)
    bos = np.ones(len(batch.src), np.int32)
    first = model.decoder.step(bos, enc_state, enc_outputs, enc_state,
                               batch.src_valid_lens).logits.numpy()  # (B, V)
    lacks = np.sort(np.delete(first, 2, axis=1).max(axis=1) - first[:, 2])  # (B,)
    half = len(lacks) // 2
    boost = (lacks[half - 1] + lacks[half]) / 2
    model.decoder.dense.bias.assign(np.where(np.arange(len(TARGET_VOCAB)) == 2, boost, 0.0))
    result = greedy_decode(model, batch.src, batch.src_valid_lens, max_steps=4)
    ended = result.valid_lens == 1
    assert 0 < ended.sum() < len(ended)
    assert np.all(result.tokens[ended, 0] == 2) and np.all(result.tokens[ended, 1:] == 0)
    assert np.all(result.attention_weights[ended, 1:] == 0)
    assert np.all(result.contexts[ended, 1:] == 0)
    np.testing.assert_allclose(result.attention_weights[~ended, 1].sum(axis=-1), 1.0, atol=1e-5)


def test_greedy_decode_stops_when_every_sentence_has_ended(batch):
    model = make_model()
    model(inputs(batch))
    bias = model.decoder.dense.bias
    bias.assign(np.where(np.arange(len(TARGET_VOCAB)) == 2, 50.0, 0.0))  # <eos> at once
    result = greedy_decode(model, batch.src, batch.src_valid_lens, max_steps=4)
    assert np.all(result.tokens[:, 0] == 2) and np.all(result.valid_lens == 1)
    assert result.tokens.shape[1] == 1  # every sentence ended: decoding stopped early


@pytest.mark.parametrize("call, error, message", [
    (lambda m, b: greedy_decode("model", b.src, b.src_valid_lens, 3), TypeError,
     "`model` must be an EncoderDecoder. Received: str"),
    (lambda m, b: greedy_decode(m, b.src, b.src_valid_lens, 0), ValueError,
     "`max_steps` must be > 0"),
    (lambda m, b: greedy_decode(m, b.src, b.src_valid_lens[:2], 3), ValueError,
     r"same batch size. Received: src.shape=\(6, 9\), src_valid_lens.shape=\(2,\)"),
    (lambda m, b: greedy_decode(m, b.src.astype("float32"), b.src_valid_lens, 3), TypeError,
     "`src` must hold integer token ids"),
])
def test_greedy_decode_checks_its_arguments(batch, call, error, message):
    with pytest.raises(error, match=message):
        call(make_model(), batch)


# --- training -------------------------------------------------------------------------------

def test_a_tiny_training_run_learns():
    data = make_translation_data(num_train=64, num_test=4, min_len=3, max_len=5, seed=0)
    train = data.train
    model = make_model(embed_dim=16, units=16)
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                  ignore_class=0))
    history = model.fit(inputs(train), train.tgt_out, batch_size=32, epochs=25, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.2 * loss[0]


# --- serialisation and argument checks ------------------------------------------------------

@pytest.mark.parametrize("attention", [True, False])
def test_saved_and_loaded_model_gives_the_same_outputs(batch, attention, tmp_path):
    model = make_model(attention)
    expected = model(inputs(batch)).numpy()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, EncoderDecoder) and loaded.attention == attention
    np.testing.assert_allclose(loaded(inputs(batch)).numpy(), expected, atol=1e-6)


def test_get_config_holds_every_constructor_argument():
    model = make_model(attention=False)
    config = model.get_config()
    assert {k: config[k] for k in SIZES} == SIZES and config["attention"] is False
    decoder = GRUDecoder(vocab_size=10, embed_dim=4, units=6, attention=True)
    assert {k: decoder.get_config()[k] for k in ("vocab_size", "embed_dim", "units")} == {
        "vocab_size": 10, "embed_dim": 4, "units": 6}
    assert GRUDecoder.from_config(decoder.get_config()).get_config() == decoder.get_config()
    encoder = GRUEncoder(vocab_size=10, embed_dim=4, units=6)
    assert encoder.get_config()["units"] == 6 and "num_hiddens" not in encoder.get_config()
    assert GRUEncoder.from_config(encoder.get_config()).get_config() == encoder.get_config()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"units": 0}, ValueError, "`units` must be > 0. Received: units=0"),
    ({"embed_dim": 2.0}, TypeError, "`embed_dim` must be an integer"),
    ({"attention": "yes"}, TypeError,
     "`attention` must be True or False. Received: attention='yes'"),
])
def test_constructor_names_the_bad_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        EncoderDecoder(**{**SIZES, **kwargs})


def test_call_checks_the_inputs(batch):
    model = make_model()
    with pytest.raises(ValueError, match=r"tuple of three arrays \(src, src_valid_lens, tgt_in\)"):
        model(batch.src)
    with pytest.raises(TypeError, match="`tgt_in` must hold integer token ids"):
        model((batch.src, batch.src_valid_lens, batch.tgt_in.astype("float32")))
    with pytest.raises(ValueError, match=r"same batch size. Received: src.shape=\(6, 9\), "
                                         r"src_valid_lens.shape=\(3,\), tgt_in.shape=\(6, 8\)"):
        model((batch.src, batch.src_valid_lens[:3], batch.tgt_in))
