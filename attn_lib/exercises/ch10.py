"""Self-checks for Chapter 10, generating with a key-value cache.

Every exercise asks for a function that uses a cache, and every check runs it through
the chapter's equality property: on a small seeded decoder, its logits must equal the
uncached ones to 1e-5 (and so its greedy tokens). A wrong answer is then compared with
the classic cache bugs, each rebuilt here, and the one it behaves like is named.
"""

import numpy as np
import tensorflow as tf

from attn_lib.exercises import exercise

TOLERANCE = 1e-5  # the property: cached logits equal the uncached ones to this
_MODEL = []


def check_model():
    """The checks' decoder: 12 letters, 2 blocks, d_model=16, weights from a fixed rng.

    (Set from NumPy, so building it never touches the reader's random seeds.)
    """
    if not _MODEL:
        from attn_lib.models import Decoder

        model = Decoder(vocab_size=12, max_len=64, d_model=16, num_heads=2)
        model.build()
        rng = np.random.default_rng(10)
        model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                           for w in model.get_weights()])
        _MODEL.append(model)
    return _MODEL[0]


def _ids(seed, batch, length):
    return np.random.default_rng(seed).integers(0, 12, size=(batch, length)).astype(np.int32)


def _same(got, want):
    """Equal to `TOLERANCE` relative to the logits' size (at least 1)."""
    got = np.asarray(got, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want))))
    return got.shape == want.shape and float(np.max(np.abs(got - want))) <= TOLERANCE * scale


_OUTPUTS = {}  # (exercise, variant) -> its outputs on the exercise's cases, computed once


def _outputs_of(key, function, cases):
    if key not in _OUTPUTS:
        _OUTPUTS[key] = [np.asarray(function(*case), dtype=np.float64) for case in cases]
    return _OUTPUTS[key]


def _first_match(exercise_id, outputs, variants, cases):
    """The name of the first variant whose outputs on `cases` equal `outputs`, or False."""
    for name, variant in variants.items():
        want = _outputs_of((exercise_id, name), variant, cases)
        if all(_same(out, w) for out, w in zip(outputs, want)):
            return name
    return False


# ---------------------------------------------------------------------------------------------
# The pieces the variants are built from, as the chapter writes them.

def _mask(kind, t, n):
    """The mask ``(1, t, n + t)`` of a chunk of `t` queries after `n` cached keys, or None."""
    i, j = np.arange(t)[:, None], np.arange(n + t)[None, :]
    masks = {"right": j <= i + n, "top_left": j <= i, "strict": j < i + n,
             "peeks_ahead": j <= i + n + 1, "hides_cache": (j >= n) & (j <= i + n)}
    if kind == "no_mask" or (kind == "no_mask_after_prefill" and n > 0):
        return None
    return tf.constant(masks.get(kind, masks["right"])[None])


def _chunk(model, chunk, cache, position, mask="right"):
    """Logits ``(B, t, V)`` of `chunk` at `position`, after the cache's positions."""
    chunk = np.asarray(chunk, dtype=np.int32)
    x = model.embed(chunk, position)
    attention_mask = _mask(mask, chunk.shape[1], cache.length)
    for i, block in enumerate(model.blocks):
        x = block(x, attention_mask=attention_mask, cache=cache, cache_index=i)
    return model.to_logits(x).numpy()


# ---------------------------------------------------------------------------------------------
# 10.1: logits chunk by chunk, with the mask of a chunk after the cache

_CHUNKINGS = [(4, 1, 3, 4), (5, 7), (1, 5, 1, 5)]


def _chunked(mask):
    def logits(model, token_ids, chunk_sizes):
        cache, start, out = model.new_cache(), 0, []
        for t in chunk_sizes:
            out.append(_chunk(model, token_ids[:, start:start + t], cache, start, mask))
            start += t
        return np.concatenate(out, axis=1)
    return logits


@exercise(
    "10.1",
    hint="Feed the chunks one after the other and compare with model(token_ids): query i of "
         "a chunk that starts at `start` sits at position start + i. Which keys, cached and "
         "new, may it see?",
    mistakes={
        "no_mask_after_prefill": "Right when every chunk after the first holds one token, "
                                 "wrong for a chunk of several: its first query then sees "
                                 "the new tokens after it. A chunk after the cache needs a "
                                 "causal mask too.",
        "top_left": "Your mask treats the chunk's first query as position 0, so after a "
                    "prefill it hides cached keys the query may see. Shift the diagonal by "
                    "the number of cached positions.",
        "strict": "Your mask hides each query's own position: a query may see its own key "
                  "(j <= i), not only the earlier ones.",
        "peeks_ahead": "Your mask lets each query see one position too far, the next "
                       "token's key.",
        "no_mask": "Without any mask even the first chunk sees the future: the prefill "
                   "needs a causal mask as well.",
        "hides_cache": "Your mask hides the cached keys: the new queries should see every "
                       "stored position, and causally the new ones.",
    },
    takes_function=True,
)
def _(answer):
    model = check_model()
    ids = _ids(101, 2, 12)
    want = model(ids).numpy()
    cases = [(model, ids, list(sizes)) for sizes in _CHUNKINGS]
    outputs = [np.asarray(answer(*case)) for case in cases]
    if all(_same(out, want) for out in outputs):
        return True
    kinds = ["no_mask_after_prefill", "top_left", "strict", "peeks_ahead", "no_mask",
             "hides_cache"]
    return _first_match("10.1", outputs, {kind: _chunked(kind) for kind in kinds}, cases)


# ---------------------------------------------------------------------------------------------
# 10.2 and 10.3: greedy generation with a cache, (model, prompt_ids, steps) -> (B, steps, V)

def _greedy(model, prompt, steps, first_position=None, advance=1, prefill=None, feed=None,
            fresh_every_step=False, shifted=False):
    """Greedy generation with one of the classic slips (the defaults: none)."""
    prompt = np.asarray(prompt, dtype=np.int32)
    length = prompt.shape[1]
    cache = model.new_cache()
    prefill = prompt if prefill is None else prefill(prompt)
    logits = _chunk(model, prefill, cache, 0)[:, -1]
    position = length if first_position is None else first_position(length)
    out, token = [], None
    for _ in range(steps + shifted):
        out.append(logits)
        token = np.argmax(logits, axis=-1).astype(np.int32)[:, None]  # (B, 1)
        fed = token if feed is None else feed(prompt, token)
        if fresh_every_step:
            cache.reset()
        logits = _chunk(model, fed, cache, position)[:, -1]
        position += advance
    return np.stack(out[shifted:], axis=1)  # (B, steps, V)


# (seed, B, T0, steps); one batch size, so that a cache kept between calls fails silently
_GENERATION_CASES = [(11, 2, 5, 4), (12, 2, 8, 4)]


def _generation_cases():
    model = check_model()
    return [(model, _ids(seed, batch, length), steps)
            for seed, batch, length, steps in _GENERATION_CASES]


def _uncached(model, prompt, steps):
    return model.generate(prompt, steps, use_cache=False)[1].astype(np.float64)


def _reference(cases):
    """The uncached logits of the generation cases (the property's right-hand side)."""
    return _outputs_of(("generation", "uncached"), _uncached, cases)


_POSITION_SLIPS = {
    "not_advanced": dict(first_position=lambda n: 0),
    "stuck": dict(advance=0),
    "one_behind": dict(first_position=lambda n: n - 1),
    "one_ahead": dict(first_position=lambda n: n + 1),
    "shifted": dict(shifted=True),
}


@exercise(
    "10.2",
    hint="After the prefill the cache holds the whole prompt; the next token's position "
         "is the number of tokens before it. Compare your logits with "
         "model.generate(prompt_ids, steps, use_cache=False).",
    mistakes={
        "not_advanced": "Your generated tokens start again at position 0, as if the prompt "
                        "had not been read: the prefill stored the prompt's positions, so "
                        "the position must move past them.",
        "stuck": "Every generated token gets the same position: the position must move on "
                 "by one after each step.",
        "one_behind": "Your first generated token reuses the position of the prompt's last "
                      "token: positions count from 0, so the next free one is the number "
                      "of tokens before it.",
        "one_ahead": "Your positions skip one: the first generated token's position is the "
                     "number of tokens before it, no more.",
        "shifted": "Your logits are shifted by one step: return the logits each generated "
                   "token was chosen from, starting with the prefill's last position.",
    },
    takes_function=True,
)
def _(answer):
    cases = _generation_cases()
    outputs = [np.asarray(answer(*case)) for case in cases]
    if all(_same(out, want) for out, want in zip(outputs, _reference(cases))):
        return True
    variants = {name: (lambda m, p, s, k=kwargs: _greedy(m, p, s, **k))
                for name, kwargs in _POSITION_SLIPS.items()}
    return _first_match("10.2", outputs, variants, cases)


_LOOP_SLIPS = {
    "reset_every_step": dict(fresh_every_step=True),
    "no_prefill": dict(prefill=lambda p: p[:, -1:], first_position=lambda n: 1),
    "same_token": dict(feed=lambda p, token: p[:, -1:]),
}


@exercise(
    "10.3",
    hint="Call your function twice on the same prompt: the two results must be equal, and "
         "equal to model.generate(prompt_ids, steps, use_cache=False).",
    mistakes={
        "reused": "Your function gives different logits for the same prompt on a second "
                  "call: the keys and values of an earlier prompt are still in the cache. "
                  "Each prompt needs an empty cache.",
        "reset_every_step": "You empty the cache at every step, so each new token sees "
                            "only itself: empty it once, before the prompt.",
        "no_prefill": "The prompt's tokens never reach the cache, only its last one: run "
                      "the whole prompt through the model first (the prefill).",
        "last_token_twice": "The prompt's last token goes into the cache twice: once in "
                            "the prefill, then again as the first step's input. Feed the "
                            "generated token instead.",
        "same_token": "Each step feeds the same token instead of the one just generated.",
    },
    takes_function=True,
)
def _(answer):
    cases = _generation_cases()
    first = [np.asarray(answer(*case)) for case in cases]
    again = np.asarray(answer(*cases[0]))
    if not _same(again, np.asarray(first[0], dtype=np.float64)):
        return "reused"
    if all(_same(out, want) for out, want in zip(first, _reference(cases))):
        return True
    variants = {name: (lambda m, p, s, k=kwargs: _greedy(m, p, s, **k))
                for name, kwargs in _LOOP_SLIPS.items()}
    variants["last_token_twice"] = lambda m, p, s: _greedy(  # the prompt's last token again
        m, np.concatenate([p, p[:, -1:]], 1), s)
    return _first_match("10.3", first, variants, cases)
