"""Do the defects that issue 9 lists exist in a given copy of attn_lib?

    .venv/bin/python benchmarks/defects_0_2.py                 # the working tree
    PYTHONPATH=/path/to/old/checkout python benchmarks/defects_0_2.py   # an older release

Each check reproduces one defect with the public API both 0.2 and 0.3 share and prints
"DEFECT" (the bug is there) or "fixed". Run it against release 0.2 to see each defect,
and against the working tree to see each fixed; the unit tests named in the last column
guard the fix.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

import attn_lib  # noqa: F401  (quiet TensorFlow first)

RESULTS = []


def check(number, what, test, function):
    try:
        fixed = function()
        note = ""
    except Exception as error:  # an unclear crash is the defect too
        fixed, note = False, f"{type(error).__name__}: {str(error).splitlines()[0][:70]}"
    RESULTS.append((number, what, fixed, note, test))


def keras_masks():
    x = keras.layers.Embedding(8, 4, mask_zero=True)(np.array([[3, 5, 2, 0, 0]]))
    ours = attn_lib.DotProductAttention(scaled=False)(x, x, x).numpy()
    theirs = keras.layers.Attention()([x, x]).numpy()
    return np.allclose(ours, theirs, atol=1e-6)


def coincident_mask():
    q = np.ones((3, 3, 4), "float32")  # B == Tq == 3
    try:
        attn_lib.DotProductAttention()(q, q, q, mask=np.ones((3, 3), bool))  # (B, Tv)
    except ValueError as error:
        return "mask" in str(error)
    return False


def minus_inf_row():
    scores = tf.constant([[[-np.inf, -np.inf, 1.0]]])
    weights = attn_lib.masked_softmax(scores, mask=np.array([[[True, True, False]]]))
    return np.isfinite(weights.numpy()).all()


def uint8_lens():
    q = np.ones((2, 3, 4), "float32")
    return attn_lib.DotProductAttention()(q, q, q, valid_lens=np.array([1, 2], "uint8")) \
        is not None


def mixed_precision():
    q = np.full((1, 2, 64), 40.0, "float32")
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        return np.isfinite(attn_lib.DotProductAttention()(q, q, q).numpy()).all()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def list_mask():
    q = np.ones((2, 3, 4), "float32")
    try:
        attn_lib.DotProductAttention()(q, q, q, mask=[None, np.ones((2, 3), bool)])
    except (TypeError, ValueError) as error:
        return "`mask`" in str(error) and "list" in str(error)
    return False


def rebuilt_layer():
    layer = attn_lib.GeneralAttention(name="general")
    five = np.ones((1, 2, 5), "float32")
    layer(np.ones((1, 2, 3), "float32"), five, five)
    try:
        layer(np.ones((1, 2, 4), "float32"), np.ones((1, 2, 5), "float32"),
              np.ones((1, 2, 5), "float32"))
    except ValueError as error:
        return "general" in str(error) and "built" in str(error)
    return False


def unknown_rank():
    layer = attn_lib.DotProductAttention()
    run = tf.function(lambda x: layer(x, x, x), input_signature=[tf.TensorSpec(None)])
    try:
        run(tf.ones((1, 2, 3)))
    except ValueError as error:
        return "`queries`" in str(error) and "rank" in str(error)
    return False


def truthy_flag():
    try:
        attn_lib.DotProductAttention(scaled="no")
    except TypeError:
        return True
    return False


def weights_from_predict():
    inputs = [keras.Input((3, 4)) for _ in range(3)]
    layer = attn_lib.DotProductAttention()
    model = keras.Model(inputs, layer(*inputs, return_attention_scores=True)[1])
    weights = model.predict([np.ones((1, 3, 4), "float32")] * 3, verbose=0)
    return weights.shape == (1, 3, 3)


check(1, "Keras masks are read", "test_defect1_*", keras_masks)
check(2, "(B, Tv) mask refused when B == Tq", "test_defect2_*", coincident_mask)
check(3, "-inf row gives zeros, not NaN", "test_defect3_*", minus_inf_row)
check(4, "uint8 valid_lens accepted", "test_defect4_*", uint8_lens)
check(5, "mixed_float16 does not overflow", "test_defect5_*", mixed_precision)
check(6, "mask=[None, m] named clearly", "test_bad_input_is_named_in_the_error", list_mask)
check(6, "rank-unknown input named", "test_defect6_unknown_rank_*", unknown_rank)
check(6, "rebuilt layer of other size named", "test_defect6_a_built_layer_*", rebuilt_layer)
check(7, "scaled='no' refused", "test_bad_constructor_arguments_are_named", truthy_flag)
check(8, "weights returned from predict", "test_defect8_*", weights_from_predict)

print(f"attn_lib {attn_lib.__version__} from {attn_lib.__file__}")
for number, what, fixed, note, test in RESULTS:
    print(f"{number}  {'fixed ' if fixed else 'DEFECT'}  {what:38s} {note:72s} {test}")
sys.exit(0 if all(r[2] for r in RESULTS) else 1)
