"""Chapter 10's exercise checks (`attn_lib/exercises/ch10.py`): right answers in several forms
pass; the classic cache bugs fail with the hint that names them, without giving the answer
away. Every check runs the answer through the equality property (cached logits = uncached
logits to 1e-5), so these tables also test that the property catches each bug.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import causal_mask
from attn_lib.exercises import ch10


def forward_chunk(model, chunk, cache, position):
    """As the chapter writes it: logits (B, t, V) of `chunk` at `position`, after the cache."""
    t, n = chunk.shape[1], cache.length
    x = model.embed(chunk, position)
    mask = causal_mask(t, n + t, offset=n)[None]
    for i, block in enumerate(model.blocks):
        x = block(x, attention_mask=mask, cache=cache, cache_index=i)
    return model.to_logits(x)


# ---------------------------------------------------------------------------------------------
# 10.1: logits chunk by chunk


def chunked(mask_of):
    """A reader's chunk loop with the mask `mask_of(t, start)` ((t, start + t) or None)."""
    def logits(model, token_ids, chunk_sizes):
        cache, start, out = model.new_cache(), 0, []
        for t in chunk_sizes:
            x = model.embed(token_ids[:, start:start + t], start)
            mask = mask_of(t, start)
            mask = None if mask is None else tf.constant(np.asarray(mask)[None])
            for i, block in enumerate(model.blocks):
                x = block(x, attention_mask=mask, cache=cache, cache_index=i)
            out.append(model.to_logits(x))
            start += t
        return tf.concat(out, axis=1)
    return logits


def numpy_mask(t, start):
    rows = np.arange(start, start + t)[:, None]  # the queries' positions
    return np.arange(start + t)[None, :] <= rows


def by_forward(model, token_ids, chunk_sizes):
    cache, out, start = model.new_cache(), [], 0
    for t in chunk_sizes:
        out.append(model.forward(token_ids[:, start:start + t], cache).numpy())
        start += t
    return np.concatenate(out, axis=1)


# ---------------------------------------------------------------------------------------------
# 10.2 and 10.3: greedy generation (model, prompt_ids, steps) -> (B, steps, V)


def generate(model, prompt_ids, steps, cache=None, first=None, advance=1, refeed=False):
    """A reader's loop; the keywords reproduce the classic slips."""
    cache = model.new_cache() if cache is None else cache
    logits = forward_chunk(model, prompt_ids, cache, 0)[:, -1]  # the prefill
    position = prompt_ids.shape[1] if first is None else first
    token, out = None, []
    for _ in range(steps):
        out.append(logits)
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)[:, None]
        fed = prompt_ids[:, -1:] if refeed else token
        logits = forward_chunk(model, fed, cache, position)[:, -1]
        position += advance
    return tf.stack(out, axis=1)


def generate_from_cache_length(model, prompt_ids, steps):
    cache = model.new_cache()
    logits, out = forward_chunk(model, prompt_ids, cache, 0)[:, -1], []
    for _ in range(steps):
        out.append(logits.numpy())
        token = np.argmax(out[-1], axis=-1).astype("int32")[:, None]
        logits = forward_chunk(model, token, cache, cache.length)[:, -1]
    return np.stack(out, axis=1)


def shared_cache_generator(reset):
    """generate() with one cache made once, outside; `reset` empties it first."""
    shared = ch10.check_model().new_cache()

    def run(model, prompt_ids, steps):
        if reset:
            shared.reset()
        return generate(model, prompt_ids, steps, cache=shared)
    return run


def shifted(model, prompt_ids, steps):
    return generate(model, prompt_ids, steps + 1)[:, 1:]


def reset_every_step(model, prompt_ids, steps):
    cache = model.new_cache()
    logits, position, out = forward_chunk(model, prompt_ids, cache, 0)[:, -1], None, []
    position = prompt_ids.shape[1]
    for _ in range(steps):
        out.append(logits)
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)[:, None]
        cache = model.new_cache()
        logits = forward_chunk(model, token, cache, position)[:, -1]
        position += 1
    return tf.stack(out, axis=1)


def no_prefill(model, prompt_ids, steps):
    cache, out = model.new_cache(), []
    token, position = prompt_ids[:, -1:], 0
    for _ in range(steps):
        logits = forward_chunk(model, token, cache, position)[:, -1]
        out.append(logits)
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)[:, None]
        position += 1
    return tf.stack(out, axis=1)


def last_token_twice(model, prompt_ids, steps):
    cache, out = model.new_cache(), []
    forward_chunk(model, prompt_ids, cache, 0)  # the prefill; its logits unused
    token, position = prompt_ids[:, -1:], prompt_ids.shape[1]
    for _ in range(steps):
        logits = forward_chunk(model, token, cache, position)[:, -1]
        out.append(logits)
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)[:, None]
        position += 1
    return tf.stack(out, axis=1)


class ReusedCache:
    """A callable that keeps its cache between prompts (a cache made in __init__)."""

    def __init__(self):
        self.cache = None

    def __call__(self, model, prompt_ids, steps):
        self.cache = self.cache or model.new_cache()
        return generate(model, prompt_ids, steps, cache=self.cache)


EXPECTED = {"10.1": None, "10.2": None, "10.3": None}

RIGHT = [
    pytest.param("10.1", chunked(lambda t, s: causal_mask(t, s + t, offset=s)),
                 id="10.1-causal_mask-with-offset"),
    pytest.param("10.1", chunked(numpy_mask), id="10.1-numpy-positions"),
    pytest.param("10.1", chunked(lambda t, s: causal_mask(s + t)[-t:]),
                 id="10.1-last-rows-of-the-full-mask"),
    pytest.param("10.1", by_forward, id="10.1-model.forward-with-cache"),
    pytest.param("10.2", generate, id="10.2-position-after-the-prompt"),
    pytest.param("10.2", generate_from_cache_length, id="10.2-position-from-cache.length"),
    pytest.param("10.2", lambda m, p, s: m.generate(p, s)[1], id="10.2-model.generate"),
    pytest.param("10.3", shared_cache_generator(reset=True), id="10.3-shared-cache-reset"),
    pytest.param("10.3", generate, id="10.3-new-cache-per-prompt"),
    pytest.param("10.3", lambda m, p, s: m.generate(p, s)[1], id="10.3-model.generate"),
]

MISTAKES = [
    # 10.1
    pytest.param("10.1", chunked(lambda t, s: causal_mask(t)[None][0] if s == 0 else None),
                 "no_mask_after_prefill", id="10.1-no-mask-after-the-prefill"),
    pytest.param("10.1", chunked(lambda t, s: causal_mask(t, s + t)), "top_left",
                 id="10.1-causal_mask-without-offset"),
    pytest.param("10.1", chunked(lambda t, s: causal_mask(s + t)[:t]), "top_left",
                 id="10.1-first-rows-of-the-full-mask"),
    pytest.param("10.1", chunked(lambda t, s: np.arange(s + t)[None]
                                 < np.arange(s, s + t)[:, None]),
                 "strict", id="10.1-strict-less-than"),
    pytest.param("10.1", chunked(lambda t, s: causal_mask(t, s + t, offset=s + 1)),
                 "peeks_ahead", id="10.1-offset-one-too-far"),
    pytest.param("10.1", chunked(lambda t, s: None), "no_mask", id="10.1-no-mask-at-all"),
    pytest.param("10.1", chunked(lambda t, s: np.concatenate([np.zeros((t, s), bool),
                                                              causal_mask(t).numpy()], 1)),
                 "hides_cache", id="10.1-mask-of-the-chunk-only"),
    # 10.2
    pytest.param("10.2", lambda m, p, s: generate(m, p, s, first=0), "not_advanced",
                 id="10.2-position-not-advanced-after-prefill"),
    pytest.param("10.2", lambda m, p, s: generate(m, p, s, advance=0), "stuck",
                 id="10.2-position-never-advanced"),
    pytest.param("10.2", lambda m, p, s: generate(m, p, s, first=p.shape[1] - 1), "one_behind",
                 id="10.2-position-of-the-last-prompt-token"),
    pytest.param("10.2", lambda m, p, s: generate(m, p, s, first=p.shape[1] + 1), "one_ahead",
                 id="10.2-position-one-too-far"),
    pytest.param("10.2", shifted, "shifted", id="10.2-logits-after-feeding"),
    # 10.3
    pytest.param("10.3", shared_cache_generator(reset=False), "reused",
                 id="10.3-one-cache-never-reset"),
    pytest.param("10.3", ReusedCache(), "reused", id="10.3-cache-kept-in-the-object"),
    pytest.param("10.3", reset_every_step, "reset_every_step", id="10.3-new-cache-each-step"),
    pytest.param("10.3", no_prefill, "no_prefill", id="10.3-no-prefill"),
    pytest.param("10.3", last_token_twice, "last_token_twice",
                 id="10.3-last-prompt-token-fed-again"),
    pytest.param("10.3", lambda m, p, s: generate(m, p, s, refeed=True), "same_token",
                 id="10.3-feeds-the-same-token"),
    # what the function returns, passed instead of the function
    pytest.param("10.1", np.zeros((2, 12, 12)), "not_function", id="10.1-logits-not-function"),
    pytest.param("10.2", np.zeros((2, 4, 12)), "not_function", id="10.2-logits-not-function"),
    pytest.param("10.3", np.zeros((2, 4, 12)), "not_function", id="10.3-logits-not-function"),
]


def test_generation_cases_have_no_near_ties():
    """The checks compare greedy tokens: the top two uncached logits of every step of every
    case differ by far more than float32 noise (1e-6), so a right answer never loses a tie."""
    for model, prompt, steps in ch10._generation_cases():
        logits = np.sort(ch10._uncached(model, prompt, steps), axis=-1)
        assert (logits[..., -1] - logits[..., -2]).min() > 1e-3


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch10", RIGHT, MISTAKES, EXPECTED)
