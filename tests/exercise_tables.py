"""The table tests of the exercise checks, shared by every `test_exercises_chNN.py`.

A chapter's file defines three tables and takes its tests from :func:`table_tests`:

- `RIGHT`: (exercise id, answer), at least three independent correct forms per exercise;
- `MISTAKES`: the bank of known-wrong answers, (exercise id, answer, mistake name), at least
  five per exercise, the classic mistakes of the exercise. The mistake name is the key of the
  hint (in the exercise's `mistakes`) that the answer should get;
- `EXPECTED`: exercise id -> the answer, or None when the answer is a function.

What `check` prints is all a learner sees, so the tests read that.
"""

import collections
import contextlib
import io

import numpy as np
import pytest

from attn_lib import exercises
from attn_lib.exercises import LIBRARY, check, diagnosis, is_correct

#: The share of an exercise's bank that must get its own hint.
DIAGNOSED = 0.9


def feedback(exercise_id, answer):
    """What `check` prints for `answer`."""
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        check(exercise_id, answer)
    return printed.getvalue()


def giveaways(expected):
    """Strings that would reveal `expected`: the answer printed whole, and its values.

    Fractional values in 2 to 4 decimals; an integer answer from 10 up (smaller ones, and
    the integers of a list, occur in any message). Tensor values printed at all (``array(``,
    ``numpy=``, ``tf.Tensor([``) count too.
    """
    shown = {"array(", "numpy=", "tf.Tensor(["}
    if expected is None:  # the answer is a function: nothing to print but tensors
        return shown
    values = np.asarray(expected, dtype=np.float64)
    if values.ndim == 0 and values == np.round(values) and abs(values) < 10:
        return shown
    shown |= {str(expected), str(values), str(values.tolist())}
    for value in values.reshape(-1):
        if value != round(value):
            shown |= {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", repr(float(value))}
        elif values.ndim == 0 and abs(value) >= 10:
            shown |= {str(int(value)), f"{int(value):,}", f"{value:g}"}
    return shown


def registered(module):
    """The exercises `module` registers: id -> :class:`attn_lib.exercises.Exercise`."""
    exercises._load_all()
    return {exercise_id: entry for exercise_id, entry in exercises._CHECKS.items()
            if entry.check.__module__ == module}


def assert_accepted(exercise_id, answer):
    """`check` says only "correct", and `is_correct` agrees."""
    assert feedback(exercise_id, answer) == f"Exercise {exercise_id}: correct. Well done!\n"
    assert is_correct(exercise_id, answer)


def assert_rejected_without_giveaway(exercise_id, answer, expected=None):
    """`check` says "not yet", and nothing of `expected`; returns what it printed."""
    printed = feedback(exercise_id, answer)
    assert printed.startswith(f"Exercise {exercise_id}: not yet. Hint: "), printed
    leaked = sorted(shown for shown in giveaways(expected) if shown in printed)
    assert not leaked, f"the message gives away {leaked}: {printed}"
    return printed


def table_tests(module, right, mistakes, expected):
    """The tests of a chapter's tables (see the module docstring)."""
    exercises_of_module = registered(module)
    bank = collections.defaultdict(list)
    for case in mistakes:
        exercise_id, answer, name = case.values if hasattr(case, "values") else case
        bank[exercise_id].append((answer, name, getattr(case, "id", None)))

    @pytest.mark.parametrize("exercise_id, answer", right)
    def test_right_answer_is_accepted(exercise_id, answer):
        assert_accepted(exercise_id, answer)

    @pytest.mark.parametrize("exercise_id, answer, mistake", mistakes)
    def test_known_mistake_is_rejected_without_giving_the_answer_away(exercise_id, answer,
                                                                      mistake):
        assert_rejected_without_giveaway(exercise_id, answer, expected[exercise_id])

    @pytest.mark.parametrize("exercise_id", sorted(exercises_of_module))
    def test_most_of_the_bank_gets_its_own_hint(exercise_id):
        entry = exercises_of_module[exercise_id]
        cases = bank[exercise_id]
        missed = []
        for answer, name, case_id in cases:
            assert name in entry.mistakes, f"{case_id}: no mistake {name!r} in {exercise_id}"
            printed = feedback(exercise_id, answer)
            if diagnosis(exercise_id, answer) != name or entry.mistakes[name] not in printed:
                missed.append((case_id or name, diagnosis(exercise_id, answer)))
        diagnosed = 1 - len(missed) / len(cases)
        assert diagnosed >= DIAGNOSED, f"{diagnosed:.0%} diagnosed; missed: {missed}"

    @pytest.mark.parametrize("exercise_id", sorted(exercises_of_module))
    def test_no_hint_gives_the_answer_away(exercise_id):
        entry = exercises_of_module[exercise_id]
        for hint in [entry.hint, *entry.mistakes.values()]:
            leaked = sorted(s for s in giveaways(expected[exercise_id]) if s in hint)
            assert not leaked, f"hint gives away {leaked}: {hint}"

    def test_tables_cover_every_exercise_of_the_chapter():
        assert exercises_of_module, f"{module} registers no exercise"
        right_count = collections.Counter(
            (case.values if hasattr(case, "values") else case)[0] for case in right)
        for exercise_id, entry in exercises_of_module.items():
            assert right_count[exercise_id] >= 3, f"{exercise_id}: fewer than 3 right forms"
            assert len(bank[exercise_id]) >= 5, f"{exercise_id}: fewer than 5 known mistakes"
            named = {name for _, name, _ in bank[exercise_id]}
            unused = set(entry.mistakes) - named
            assert not unused, f"{exercise_id}: hints no known mistake gets: {sorted(unused)}"
            if entry.implements:
                assert LIBRARY in named, f"{exercise_id}: no answer that calls the library"

    return (test_right_answer_is_accepted,
            test_known_mistake_is_rejected_without_giving_the_answer_away,
            test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
            test_tables_cover_every_exercise_of_the_chapter)
