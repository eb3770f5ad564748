"""A synthetic translation task whose gold word alignment is known.

The source language is invented; the target is telegraphic English. The two
differ in word order in three ways, so a translator must look back and forth:

=================  ===============================  ===========================
                   source (invented)                target (English)
=================  ===============================  ===========================
noun phrase        noun, adjectives, determiner     determiner, adjectives, noun
clause             subject object ``wo`` verb (SOV) subject verb object (SVO)
clauses            joined by ``en``                 joined by ``and``
=================  ===============================  ===========================

Every target word comes from exactly one source word (the word it translates),
and no source word gives two target words; the object marker ``wo`` gives none.
That one-to-one *gold alignment* is what a trained attention model can be
checked against. The worked example, :data:`WORKED_EXAMPLE` (source positions in
brackets, and after each English word the position it translates)::

    tobu[0] gopa[1] na[2] mira[3] ke[4] wo[5] mabo[6]
    the(2) big(1) dog(0) sees(6) a(4) cat(3)

Sentences are generated from a seed with NumPy only, so they are the same on
every machine. Token ids: ``0`` is ``<pad>``, ``1`` is ``<bos>``, ``2`` is ``<eos>``.
Chapter 7's data set is ``make_translation_data(**CHAPTER7_DATA)``.
"""

import difflib
from typing import NamedTuple

import numpy as np

from attn_lib import _validate

NOUNS = {"mira": "cat", "tobu": "dog", "suli": "bird", "pemo": "fish", "kani": "child",
         "rovo": "farmer", "lute": "teacher", "dasa": "king", "nemu": "horse", "fila": "friend"}
ADJECTIVES = {"gopa": "big", "tini": "small", "rusa": "red", "lomi": "happy", "kesu": "quick",
              "bava": "brave"}
DETERMINERS = {"na": "the", "ke": "a"}
TRANSITIVE_VERBS = {"mabo": "sees", "keta": "likes", "poli": "helps", "zuna": "follows",
                    "hiro": "finds"}
INTRANSITIVE_VERBS = {"dunu": "sleeps", "sapa": "runs", "yoli": "sings"}
CONJUNCTION = ("en", "and")
OBJECT_MARKER = "wo"
#: Source word -> target word; the object marker has no translation.
LEXICON = {**NOUNS, **ADJECTIVES, **DETERMINERS, **TRANSITIVE_VERBS, **INTRANSITIVE_VERBS,
           CONJUNCTION[0]: CONJUNCTION[1]}
SPECIALS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
MIN_LENGTH, MAX_LENGTH = 3, 32  # the shortest and longest sentences the grammar makes
_MAX_ADJECTIVES = 2  # per noun phrase

#: The worked example of this module and of Chapter 7: "the big dog sees a cat".
WORKED_EXAMPLE = "tobu gopa na mira ke wo mabo"

#: Chapter 7's data set, ``make_translation_data(**CHAPTER7_DATA)``, used by the chapter,
#: its exercise checks and the tests: 3,000 training pairs, mostly short, and 360 test
#: pairs, 20 of each length from 3 to 20 source words.
CHAPTER7_DATA = dict(num_train=3000, num_test=360, min_len=3, max_len=20,
                     length_decay=0.85, seed=0)


class Vocab:
    """Token <-> id tables; ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>``.

    Args:
        words: the language's words (strings), in the order their ids should follow.

    Attributes:
        tokens: list of all tokens, index = id, the three special tokens first.
        ids: dict, token -> id.

    Example:
        >>> vocab = Vocab(["cat", "dog"])
        >>> vocab.encode(["dog", "cat"]), len(vocab)
        ([4, 3], 5)
    """

    def __init__(self, words):
        self.tokens = list(SPECIALS) + list(words)
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def encode(self, words):
        """The ids of `words`.

        Args:
            words: list of strings.

        Returns:
            list of ints, one per word.

        Raises:
            KeyError: a word is not in the vocabulary.
        """
        return [self.ids[w] for w in words]

    def decode(self, ids, strip=True):
        """The tokens of `ids`.

        Args:
            ids: ``(T,)`` ints (list or array).
            strip: bool; stop at ``<eos>`` and drop ``<pad>`` and ``<bos>``.

        Returns:
            list of strings.
        """
        words = []
        for i in np.asarray(ids).tolist():
            if strip and i == EOS:
                break
            if strip and i in (PAD, BOS):
                continue
            words.append(self.tokens[i])
        return words

    @property
    def words(self):
        """The vocabulary without the special tokens."""
        return self.tokens[len(SPECIALS):]


SOURCE_VOCAB = Vocab(list(LEXICON) + [OBJECT_MARKER])
TARGET_VOCAB = Vocab(dict.fromkeys(LEXICON.values()))


def _parse_noun_phrase(words, start):
    """End position (exclusive) of the noun phrase at `start`: noun adjectives determiner."""
    if start >= len(words) or words[start] not in NOUNS:
        found = words[start] if start < len(words) else "the end of the clause"
        raise ValueError(f"A noun phrase must start with a noun; found {found!r} at "
                         f"position {start}.")
    end = start + 1
    while end < len(words) and words[end] in ADJECTIVES:
        end += 1
    if end >= len(words) or words[end] not in DETERMINERS:
        raise ValueError(f"The noun phrase starting at position {start} must end with a "
                         f"determiner ({' or '.join(DETERMINERS)}).")
    return end + 1


def translate_words(source_words):
    """Translate a grammatical source sentence word by word and reorder it.

    Args:
        source_words: list of source words, e.g. ``["tobu", "na", "dunu"]``.

    Returns:
        ``(target_words, alignment)``: the English words and, for each of them, the
        position of the source word it translates (a list of ints).

    Raises:
        ValueError: an unknown word, or a sentence the grammar cannot parse
            (clause = subject [object ``wo``] verb; noun phrase = noun adjectives
            determiner; clauses joined by ``en``).

    Example:
        >>> WORKED_EXAMPLE
        'tobu gopa na mira ke wo mabo'
        >>> translate_words(WORKED_EXAMPLE.split())
        (['the', 'big', 'dog', 'sees', 'a', 'cat'], [2, 1, 0, 6, 4, 3])
    """
    words = list(source_words)
    unknown = [w for w in words if w not in SOURCE_VOCAB.ids or w in SPECIALS]
    if unknown:
        raise ValueError(f"Unknown source word {unknown[0]!r}. "
                         f"Received: source_words={words!r}")
    if not words:
        raise ValueError("`source_words` must hold at least one clause. Received: []")
    order = []  # source positions in target order
    start = 0
    while True:
        subject_end = _parse_noun_phrase(words, start)
        subject = list(range(subject_end - 1, start - 1, -1))  # determiner first, noun last
        obj, verb_at = [], subject_end
        if verb_at < len(words) and words[verb_at] in NOUNS:
            object_end = _parse_noun_phrase(words, subject_end)
            if object_end >= len(words) or words[object_end] != OBJECT_MARKER:
                raise ValueError(f"An object must be followed by {OBJECT_MARKER!r} "
                                 f"(position {object_end}).")
            obj = list(range(object_end - 1, subject_end - 1, -1))
            verb_at = object_end + 1
        if verb_at >= len(words) or not (words[verb_at] in TRANSITIVE_VERBS
                                          or words[verb_at] in INTRANSITIVE_VERBS):
            raise ValueError(f"A clause must end with a verb (position {verb_at}).")
        order += subject + [verb_at] + obj
        start = verb_at + 1
        if start == len(words):
            break
        if words[start] != CONJUNCTION[0]:
            raise ValueError(f"Clauses must be joined by {CONJUNCTION[0]!r}; found "
                             f"{words[start]!r} at position {start}.")
        order.append(start)
        start += 1
    return [LEXICON[words[j]] for j in order], order


def parse_sentence(text):
    """Split `text` into source words and check that each is in the vocabulary.

    Args:
        text: a sentence typed by a reader, e.g. ``"tobu na dunu"``; case and
            punctuation are ignored.

    Returns:
        The list of source words.

    Raises:
        TypeError: `text` is not a string.
        ValueError: `text` has no words, or a word is not in the source vocabulary;
            the message names the word and lists close vocabulary words.

    Example:
        >>> parse_sentence("Tobu na dunu.")
        ['tobu', 'na', 'dunu']
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string. Received: text={text!r}")
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    if not words:
        raise ValueError(f"`text` must contain at least one word. Received: text={text!r}")
    for word in words:
        if word not in SOURCE_VOCAB.ids or word in SPECIALS:
            close = difflib.get_close_matches(word, SOURCE_VOCAB.words, n=4, cutoff=0.5)
            suggestion = (f"Close words: {', '.join(close)}." if close else
                          f"The vocabulary is: {', '.join(SOURCE_VOCAB.words)}.")
            raise ValueError(f"Unknown word {word!r}: it is not in the source vocabulary. "
                             f"{suggestion}")
    return words


def _sample_sentence(length, rng):
    """Source words of exactly `length` words (no ``<eos>``)."""
    plans = []  # (number of clauses, clause kinds) that can reach `length`
    for kinds in ([k] for k in "IT"):
        plans.append(kinds)
    for a in "IT":
        for b in "IT":
            plans.append([a, b])
            plans += [[a, b, c] for c in "IT"]
    base = {"I": 3, "T": 6}  # noun det verb / noun det noun det wo verb
    slots = {"I": 1, "T": 2}  # noun phrases that can take adjectives

    def bounds(kinds):
        low = sum(base[k] for k in kinds) + len(kinds) - 1
        return low, low + _MAX_ADJECTIVES * sum(slots[k] for k in kinds)

    feasible = [p for p in plans if bounds(p)[0] <= length <= bounds(p)[1]]
    kinds = feasible[rng.integers(len(feasible))]
    num_slots = sum(slots[k] for k in kinds)
    capacity = np.repeat(np.arange(num_slots), _MAX_ADJECTIVES)
    chosen = rng.choice(capacity, size=length - bounds(kinds)[0], replace=False)
    adjectives = np.bincount(chosen, minlength=num_slots)

    def pick(table):
        keys = list(table)
        return keys[rng.integers(len(keys))]

    def noun_phrase(num_adjectives):
        return ([pick(NOUNS)] + [pick(ADJECTIVES) for _ in range(num_adjectives)]
                + [pick(DETERMINERS)])

    words, slot = [], 0
    for i, kind in enumerate(kinds):
        if i:
            words.append(CONJUNCTION[0])
        words += noun_phrase(adjectives[slot])
        slot += 1
        if kind == "T":
            words += noun_phrase(adjectives[slot]) + [OBJECT_MARKER, pick(TRANSITIVE_VERBS)]
            slot += 1
        else:
            words.append(pick(INTRANSITIVE_VERBS))
    return words


class TranslationSplit(NamedTuple):
    """Padded arrays of one split; ``N`` pairs, ``Ts``/``Tt`` source/target positions.

    Attributes:
        src: ``(N, Ts)`` int32 source ids, each sentence followed by ``<eos>``, then ``<pad>``.
        src_valid_lens: ``(N,)`` int32 source lengths *including* ``<eos>``: the
            ``valid_lens`` that mask the source padding.
        tgt_in: ``(N, Tt)`` int32 decoder inputs: ``<bos>`` then the target words.
        tgt_out: ``(N, Tt)`` int32 decoder targets: the target words then ``<eos>``.
        tgt_valid_lens: ``(N,)`` int32 target lengths including ``<eos>`` (the same for
            ``tgt_in``, counting ``<bos>`` instead).
        alignment: ``(N, Tt, Ts)`` float32 gold alignment: ``alignment[n, t, j] = 1``
            when ``tgt_out[n, t]`` translates ``src[n, j]`` (``<eos>`` aligns with ``<eos>``);
            every non-padding row holds exactly one 1, every column at most one.
        src_words, tgt_words: the sentences as lists of words (no special tokens).
    """

    src: np.ndarray
    src_valid_lens: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_valid_lens: np.ndarray
    alignment: np.ndarray
    src_words: list
    tgt_words: list


class TranslationData(NamedTuple):
    """What :func:`make_translation_data` returns.

    Attributes:
        train, test: :class:`TranslationSplit`.
        src_vocab, tgt_vocab: the :class:`Vocab` of the source language and of English
            (:data:`SOURCE_VOCAB` and :data:`TARGET_VOCAB`).
    """

    train: TranslationSplit
    test: TranslationSplit
    src_vocab: Vocab
    tgt_vocab: Vocab


def make_split(source_sentences):
    """Translate, encode and pad source sentences into one :class:`TranslationSplit`.

    Args:
        source_sentences: list of grammatical source sentences, each a list of words.

    Returns:
        A :class:`TranslationSplit`; its arrays are as long as the longest sentence
        plus ``<eos>`` (or ``<bos>``).

    Raises:
        ValueError: a sentence that :func:`translate_words` rejects.

    Example:
        >>> split = make_split([WORKED_EXAMPLE.split(), ["tobu", "na", "dunu"]])
        >>> split.src.shape, split.src_valid_lens.tolist(), split.tgt_valid_lens.tolist()
        ((2, 8), [8, 4], [7, 4])
    """
    pairs = [(s, *translate_words(s)) for s in source_sentences]
    n = len(pairs)
    ts = max(len(s) for s, _, _ in pairs) + 1
    tt = max(len(t) for _, t, _ in pairs) + 1
    src = np.zeros((n, ts), np.int32)
    tgt_in = np.zeros((n, tt), np.int32)
    tgt_out = np.zeros((n, tt), np.int32)
    alignment = np.zeros((n, tt, ts), np.float32)
    for i, (source, target, order) in enumerate(pairs):
        src[i, :len(source) + 1] = SOURCE_VOCAB.encode(source) + [EOS]
        ids = TARGET_VOCAB.encode(target)
        tgt_in[i, :len(ids) + 1] = [BOS] + ids
        tgt_out[i, :len(ids) + 1] = ids + [EOS]
        alignment[i, np.arange(len(order) + 1), order + [len(source)]] = 1.0
    src_valid_lens = np.array([len(s) + 1 for s, _, _ in pairs], np.int32)
    tgt_valid_lens = np.array([len(t) + 1 for _, t, _ in pairs], np.int32)
    return TranslationSplit(src, src_valid_lens, tgt_in, tgt_out, tgt_valid_lens, alignment,
                            [s for s, _, _ in pairs], [t for _, t, _ in pairs])


def make_translation_data(num_train=3000, num_test=360, min_len=3, max_len=20,
                          length_decay=0.85, seed=0):
    """Sentence pairs of the invented language and English, with gold alignments.

    Training lengths (in source words) follow ``P(L) ∝ length_decay ** (L - min_len)``,
    so most training sentences are short and few are long; test lengths run evenly
    over ``min_len..max_len``. Test sentences avoid the training sentences where
    the length allows (there are only 60 three-word sentences, so some repeat).
    Chapter 7 uses :data:`CHAPTER7_DATA`, which spells out the defaults.

    Args:
        num_train: number of training pairs (> 0).
        num_test: number of test pairs (> 0).
        min_len, max_len: shortest and longest source sentence in words,
            ``3 <= min_len <= max_len <= 32``.
        length_decay: float in (0, 1]; 1 gives all lengths equally often in training.
        seed: seed of NumPy's random generator.

    Returns:
        :class:`TranslationData`.

    Raises:
        TypeError: a count or length that is not an integer.
        ValueError: counts not positive, lengths out of range or in the wrong order,
            `length_decay` outside (0, 1].

    Example:
        >>> data = make_translation_data(num_train=8, num_test=4, max_len=6, seed=0)
        >>> data.train.src.shape[0], data.test.alignment.shape[0]
        (8, 4)
    """
    num_train = _validate.check_positive_int("num_train", num_train)
    num_test = _validate.check_positive_int("num_test", num_test)
    min_len = _validate.check_positive_int("min_len", min_len)
    max_len = _validate.check_positive_int("max_len", max_len)
    if not MIN_LENGTH <= min_len <= max_len <= MAX_LENGTH:
        raise ValueError(
            f"Lengths must satisfy {MIN_LENGTH} <= min_len <= max_len <= {MAX_LENGTH} "
            f"(the grammar's shortest and longest sentences). "
            f"Received: min_len={min_len}, max_len={max_len}")
    if (isinstance(length_decay, bool) or not isinstance(length_decay, (int, float))
            or not 0.0 < length_decay <= 1.0):
        raise ValueError(f"`length_decay` must be a number in (0, 1]. "
                         f"Received: length_decay={length_decay!r}")
    rng = np.random.default_rng(seed)
    lengths = np.arange(min_len, max_len + 1)
    weights = float(length_decay) ** (lengths - min_len)
    train_lengths = rng.choice(lengths, size=num_train, p=weights / weights.sum())
    train = [_sample_sentence(int(n), rng) for n in train_lengths]
    seen = {tuple(s) for s in train}
    test = []
    for i in range(num_test):
        length = int(lengths[i % len(lengths)])
        for _ in range(50):
            sentence = _sample_sentence(length, rng)
            if tuple(sentence) not in seen:
                break
        seen.add(tuple(sentence))
        test.append(sentence)
    test.sort(key=len)
    return TranslationData(make_split(train), make_split(test), SOURCE_VOCAB, TARGET_VOCAB)


def token_accuracy(predicted, tgt_out, tgt_valid_lens):
    """Per-sentence share of target positions (words and ``<eos>``) predicted right.

    Args:
        predicted: ``(N, T)`` int predicted ids (any ``T``; missing steps count wrong).
        tgt_out: ``(N, Tt)`` reference ids.
        tgt_valid_lens: ``(N,)`` reference lengths including ``<eos>``.

    Returns:
        ``(N,)`` float array in [0, 1]. Its mean is the token accuracy; ``== 1`` means
        the whole sentence is right.

    Example:
        >>> token_accuracy(np.array([[5, 9, 2]]), np.array([[5, 6, 2]]), np.array([3]))
        array([0.66666667])
    """
    predicted, tgt_out = np.asarray(predicted), np.asarray(tgt_out)
    tgt_valid_lens = np.asarray(tgt_valid_lens)
    width = tgt_out.shape[1]
    padded = np.full((predicted.shape[0], width), -1)
    padded[:, :min(width, predicted.shape[1])] = predicted[:, :width]
    valid = np.arange(width) < tgt_valid_lens[:, None]
    return ((padded == tgt_out) & valid).sum(axis=1) / tgt_valid_lens


def alignment_accuracy(attention_weights, alignment, tgt_valid_lens, include_eos=False):
    """How often the most-attended source position is the gold one.

    Args:
        attention_weights: ``(N, Tt, Ts)`` weights of each target step.
        alignment: ``(N, Tt, Ts)`` gold alignment.
        tgt_valid_lens: ``(N,)`` target lengths including ``<eos>``.
        include_eos: also score the ``<eos>`` step (default: target words only).

    Returns:
        A float in [0, 1]: the share of the counted target steps whose largest weight
        is on their gold source position.

    Raises:
        ValueError: the two arrays have different shapes.

    Example:
        >>> gold = np.array([[[0., 1.], [1., 0.]]])  # one word, then <eos>
        >>> alignment_accuracy(np.array([[[0.3, 0.7], [0.5, 0.5]]]), gold, np.array([2]))
        1.0
    """
    weights, gold = np.asarray(attention_weights), np.asarray(alignment)
    if weights.shape != gold.shape:
        raise ValueError("`attention_weights` and `alignment` must have the same shape. "
                         f"Received: {weights.shape} and {gold.shape}")
    counted = np.asarray(tgt_valid_lens) - (0 if include_eos else 1)
    valid = np.arange(gold.shape[1]) < counted[:, None]  # (N, Tt)
    hits = weights.argmax(axis=-1) == gold.argmax(axis=-1)
    return float(hits[valid].mean())


__all__ = ["CHAPTER7_DATA", "LEXICON", "SOURCE_VOCAB", "TARGET_VOCAB", "TranslationData",
           "TranslationSplit", "Vocab", "WORKED_EXAMPLE", "alignment_accuracy", "make_split",
           "make_translation_data", "parse_sentence", "token_accuracy", "translate_words"]
