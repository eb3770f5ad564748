"""attn_lib.models.classifier: the self-attention classifier and its two attentions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attn_lib import reference
from attn_lib.data import make_reviews
from attn_lib.models.classifier import SelfAttentionClassifier

VOCAB, T = 12, 7


def make_model(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return SelfAttentionClassifier(VOCAB, T, d_model=8, pooling_units=4, hidden_units=8,
                                   **kwargs)


def batch(seed=0, size=4):
    rng = np.random.default_rng(seed)
    return {"token_ids": rng.integers(1, VOCAB, (size, T)).astype("int32"),
            "valid_lens": np.array([1, 3, T, 5][:size], dtype="int32")}


@pytest.mark.parametrize("num_heads", [1, 2])
def test_shapes_of_probabilities_and_attention_maps(num_heads):
    model = make_model(num_heads=num_heads)
    inputs = batch()
    probabilities = model(inputs)
    assert probabilities.shape == (4,)
    assert ((probabilities > 0) & (probabilities < 1)).numpy().all()
    maps = model.attention_maps(inputs["token_ids"], inputs["valid_lens"], batch_size=3)
    heads = () if num_heads == 1 else (num_heads,)
    assert maps["self_attention"].shape == (4,) + heads + (T, T)
    assert maps["pooling"].shape == (4, T)
    np.testing.assert_allclose(maps["probabilities"], probabilities.numpy(), atol=1e-6)


def test_attention_weights_sum_to_one_over_real_words_and_are_zero_on_padding():
    model = make_model(num_heads=2)
    inputs = batch()
    maps = model.attention_maps(inputs["token_ids"], inputs["valid_lens"])
    padding = np.arange(T)[None, :] >= inputs["valid_lens"][:, None]  # (B, T)
    np.testing.assert_allclose(maps["pooling"].sum(axis=1), 1.0, atol=1e-6)
    assert (maps["pooling"][padding] == 0).all()
    np.testing.assert_allclose(maps["self_attention"].sum(axis=-1), 1.0, atol=1e-6)
    keys_padding = np.broadcast_to(padding[:, None, None, :], maps["self_attention"].shape)
    assert (maps["self_attention"][keys_padding] == 0).all()


def test_forward_returns_the_probabilities_and_the_weights_of_both_attentions():
    model = make_model(num_heads=2)
    inputs = batch()
    probabilities, self_weights, pool_weights = model.forward(inputs)
    np.testing.assert_array_equal(probabilities.numpy(), model(inputs).numpy())
    # the weights are those of the two layers, called on the model's own vectors
    x = model.positional_encoding(model.embedding(inputs["token_ids"]))
    mixed, expected_self = model.self_attention(x, valid_lens=inputs["valid_lens"],
                                                return_attention_scores=True)
    np.testing.assert_allclose(self_weights.numpy(), expected_self.numpy(), atol=1e-6)
    h = (x + mixed).numpy()
    pooling = model.pooling
    scores = np.tanh(h @ pooling.W_1.numpy() + pooling.b_1.numpy()) @ pooling.w_2.numpy()
    expected_pool = reference.masked_softmax(scores[:, None, :], inputs["valid_lens"])[:, 0]
    np.testing.assert_allclose(pool_weights.numpy(), expected_pool, atol=1e-5)


def test_forward_gives_the_weights_inside_a_traced_function_too():
    model = make_model(num_heads=2)
    inputs = batch()
    eager = model.forward(inputs)
    traced = tf.function(model.forward)(inputs)
    assert len(traced) == 3
    for a, b in zip(eager, traced):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-6)


def test_attention_maps_or_forward_before_the_first_call_build_the_model_as_a_call_would():
    inputs = batch()
    expected = make_model(seed=3)(inputs).numpy()
    mapped = make_model(seed=3)
    probabilities = mapped.attention_maps(inputs["token_ids"], inputs["valid_lens"])
    assert mapped.built and mapped.count_params() > 0  # Chapter 8 counts them next
    np.testing.assert_array_equal(probabilities["probabilities"], expected)
    forwarded = make_model(seed=3)
    np.testing.assert_array_equal(forwarded.forward(inputs)[0].numpy(), expected)
    np.testing.assert_array_equal(forwarded(inputs).numpy(), expected)  # builds, keeps weights


def test_tokens_beyond_valid_lens_do_not_change_predictions():
    model = make_model(num_heads=2)
    inputs = batch()
    expected = model(inputs).numpy()
    padding = np.arange(T)[None, :] >= inputs["valid_lens"][:, None]
    for seed in range(3):
        other = np.random.default_rng(seed + 10).integers(0, VOCAB, (4, T)).astype("int32")
        changed = np.where(padding, other, inputs["token_ids"])
        got = model({"token_ids": changed, "valid_lens": inputs["valid_lens"]}).numpy()
        np.testing.assert_array_equal(got, expected)


def test_extra_padding_columns_do_not_change_predictions():
    model = SelfAttentionClassifier(VOCAB, T + 3, d_model=8, num_heads=2)
    inputs = batch()
    padded = {"token_ids": np.pad(inputs["token_ids"], ((0, 0), (0, 3))),
              "valid_lens": inputs["valid_lens"]}
    np.testing.assert_allclose(model(inputs).numpy(), model(padded).numpy(), atol=1e-6)


def test_same_seed_gives_the_same_model_and_the_same_training():
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(0, VOCAB, (64, T)).astype("int32"),
         "valid_lens": rng.integers(1, T + 1, 64).astype("int32")}
    labels = rng.integers(0, 2, 64)
    results = []
    for _ in range(2):
        model = make_model(seed=5, num_heads=2)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
        model.fit(x, labels, batch_size=16, epochs=2, verbose=0, shuffle=True)
        results.append(model.predict(x, verbose=0))
    np.testing.assert_array_equal(results[0], results[1])


def test_save_and_load_round_trip_gives_equal_outputs(tmp_path):
    model = make_model(num_heads=2, dropout=0.1)
    inputs = batch()
    expected = model(inputs).numpy()
    path = tmp_path / "classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SelfAttentionClassifier)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded(inputs).numpy(), expected)


def test_get_config_holds_every_constructor_argument():
    model = make_model(num_heads=2, dropout=0.25)
    config = model.get_config()
    assert {k: config[k] for k in ("vocab_size", "max_len", "d_model", "num_heads",
                                   "pooling_units", "hidden_units", "dropout")} == {
        "vocab_size": VOCAB, "max_len": T, "d_model": 8, "num_heads": 2, "pooling_units": 4,
        "hidden_units": 8, "dropout": 0.25}
    clone = SelfAttentionClassifier.from_config(config)
    assert clone.get_config() == config


def test_a_tiny_training_run_learns_the_sentiment_words():
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    train = make_reviews(600, min_len=4, max_len=10, negation_rate=0.0, distractor_rate=0.0,
                         seed=1)
    test = make_reviews(200, min_len=4, max_len=10, negation_rate=0.0, distractor_rate=0.0,
                        seed=2)
    model = SelfAttentionClassifier(len(train.vocabulary), 10, d_model=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    model.fit({"token_ids": train.token_ids, "valid_lens": train.valid_lens}, train.labels,
              batch_size=32, epochs=6, verbose=0)
    maps = model.attention_maps(test.token_ids, test.valid_lens)
    accuracy = ((maps["probabilities"] > 0.5) == test.labels).mean()
    assert accuracy > 0.9
    share = (maps["pooling"] * test.decisive).sum(axis=1).mean()
    chance = (test.decisive.sum(axis=1) / test.valid_lens).mean()
    assert share > chance


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"d_model": 0}, ValueError, r"`d_model` must be > 0"),
        ({"num_heads": 3}, ValueError, r"`units` must be divisible by `num_heads`"),
        ({"dropout": 1.0}, ValueError, r"`dropout` must be in \[0, 1\)"),
        ({"hidden_units": "8"}, TypeError, r"`hidden_units` must be an integer"),
    ],
)
def test_classifier_rejects_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        SelfAttentionClassifier(VOCAB, T, **{"d_model": 8, **kwargs})


def test_classifier_rejects_inputs_that_are_not_the_documented_dict():
    model = make_model()
    inputs = batch()
    with pytest.raises(ValueError, match=r'`inputs` must be a dict with the keys "token_ids"'):
        model({"token_ids": inputs["token_ids"]})
    with pytest.raises(ValueError, match=r"Received: tuple"):
        model((inputs["token_ids"], inputs["valid_lens"]))
    with pytest.raises(ValueError, match=r"`token_ids` must be \(N, T\) and `valid_lens` \(N,\)"):
        model.attention_maps(inputs["token_ids"], inputs["valid_lens"][:2])
