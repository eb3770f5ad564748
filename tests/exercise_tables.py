"""The table tests of the exercise checks, shared by every `test_exercises_chNN.py`.

A chapter's file defines its tables, `RIGHT` (exercise id, answer), `WRONG` (exercise id,
answer, the diagnosis `check` must print) and `EXPECTED` (exercise id -> the answer, or
None), then takes its three tests from :func:`table_tests`. What `check` prints is all a
learner sees, so the tests read that.
"""

import collections
import contextlib
import io

import numpy as np
import pytest

from attn_lib import exercises
from attn_lib.exercises import check, is_correct


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


def assert_accepted(exercise_id, answer):
    """`check` says only "correct", and `is_correct` agrees."""
    assert feedback(exercise_id, answer) == f"Exercise {exercise_id}: correct. Well done!\n"
    assert is_correct(exercise_id, answer)


def assert_diagnosed(exercise_id, answer, diagnosis, expected=None):
    """`check` says "not yet", with `diagnosis` in its message and nothing of `expected`."""
    printed = feedback(exercise_id, answer)
    assert printed.startswith(f"Exercise {exercise_id}: not yet. Hint: "), printed
    assert diagnosis in printed, f"missing diagnosis {diagnosis!r} in: {printed}"
    leaked = sorted(shown for shown in giveaways(expected) if shown in printed)
    assert not leaked, f"the message gives away {leaked}: {printed}"


def assert_tables_cover(module, right, wrong):
    """Every exercise that `module` registers has two right answers and two mistakes."""
    exercises._load_all()
    registered = {exercise_id for exercise_id, (function, _) in exercises._CHECKS.items()
                  if function.__module__ == module}
    counts = {name: collections.Counter(case.values[0] for case in table)
              for name, table in (("right", right), ("wrong", wrong))}
    assert registered, f"{module} registers no exercise"
    for name, count in counts.items():
        assert set(count) == registered, f"{name} answers for {sorted(count)}"
        assert min(count.values()) >= 2, f"fewer than two {name} answers: {count}"


def table_tests(module, right, wrong, expected):
    """The three tests of a chapter's tables: right answers pass, mistakes get their
    diagnosis without the answer, and every exercise of `module` has both tables."""

    @pytest.mark.parametrize("exercise_id, answer", right)
    def test_right_answer_is_accepted(exercise_id, answer):
        assert_accepted(exercise_id, answer)

    @pytest.mark.parametrize("exercise_id, answer, diagnosis", wrong)
    def test_typical_mistake_gets_its_diagnosis(exercise_id, answer, diagnosis):
        assert_diagnosed(exercise_id, answer, diagnosis, expected[exercise_id])

    def test_tables_cover_every_exercise_of_the_chapter():
        assert_tables_cover(module, right, wrong)

    return (test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
            test_tables_cover_every_exercise_of_the_chapter)
