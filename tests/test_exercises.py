"""The exercise framework (`attn_lib/exercises/__init__.py`): registry, `check`, `is_correct`.

Each chapter's checks are tested in `test_exercises_chNN.py`, one table of right answers and
one of typical mistakes per chapter, with the helpers of `exercise_tables.py`.
"""

import collections
import contextlib
import dataclasses
import io
import pathlib

import numpy as np
import pytest
from exercise_tables import feedback, giveaways

from attn_lib import exercises
from attn_lib.exercises import LIBRARY, NOT_FUNCTION, check, diagnosis, exercise, is_correct

# ---------------------------------------------------------------------------------------------
# The framework


@pytest.fixture
def registered():
    exercise("0.99", hint="think of the number of the beast",
             mistakes={"upside_down": "you turned it upside down"})(
        lambda answer: True if answer == 666 else "upside_down" if answer == 999 else False)
    yield "0.99"
    exercises._CHECKS.pop("0.99")


@pytest.fixture
def implement_softmax():
    """An exercise that asks for a masked softmax, which attn_lib has."""
    from attn_lib import masking, reference

    def check_it(answer):
        scores = np.array([[0.0, 1.0, 2.0]])
        return bool(np.allclose(answer(scores), reference.softmax(scores)))

    exercise("0.98", hint="exponentiate, then normalise",
             implements=(masking.masked_softmax, reference.masked_softmax))(check_it)
    yield "0.98"
    exercises._CHECKS.pop("0.98")


def test_check_says_correct_without_printing_the_answer(registered):
    assert feedback(registered, 666) == "Exercise 0.99: correct. Well done!\n"
    assert is_correct(registered, 666) and diagnosis(registered, 666) is None


def test_check_gives_the_general_hint_for_an_unrecognised_mistake(registered):
    printed = feedback(registered, 1)
    assert printed == "Exercise 0.99: not yet. Hint: think of the number of the beast\n"
    assert "666" not in printed
    assert not is_correct(registered, 1) and diagnosis(registered, 1) is False


def test_check_names_a_recognised_mistake_with_its_own_hint(registered):
    assert feedback(registered, 999) == "Exercise 0.99: not yet. Hint: you turned it upside down\n"
    assert diagnosis(registered, 999) == "upside_down"


def test_a_mistake_name_without_a_hint_is_a_bug_of_the_check(registered):
    exercises._CHECKS["0.99"] = dataclasses.replace(exercises._CHECKS["0.99"],
                                                    check=lambda answer: "typo")
    with pytest.raises(KeyError, match="unknown mistake 'typo'"):
        check(registered, 1)


def test_placeholder_answer_prints_a_reminder(registered):
    assert "no answer yet" in feedback(registered, None)


def test_a_check_that_raises_counts_as_wrong_and_says_why(registered):
    exercises._CHECKS["0.99"] = dataclasses.replace(
        exercises._CHECKS["0.99"], check=lambda answer: answer.shape == (2,), hint="a hint")
    assert feedback(registered, 5) == (
        "Exercise 0.99: not yet. Hint: a hint "
        "(Checking raised AttributeError: 'int' object has no attribute 'shape')\n")


def test_check_returns_nothing_so_a_notebook_shows_no_answer(registered):
    with contextlib.redirect_stdout(io.StringIO()):
        assert check(registered, 666) is None


def test_unknown_exercise_and_double_registration_are_errors(registered):
    with pytest.raises(KeyError, match="No exercise '9.9'. Known exercises: .*0.99"):
        check("9.9", 1)
    with pytest.raises(KeyError, match="No exercise '9.9'"):
        check("9.9", None)
    with pytest.raises(ValueError, match="registered twice"):
        exercise("0.99", hint="")(lambda answer: True)


def own_softmax(scores):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_an_answer_that_is_not_a_function_is_named_as_such(implement_softmax):
    assert diagnosis(implement_softmax, np.zeros((1, 3))) == NOT_FUNCTION
    assert "Pass the function itself" in feedback(implement_softmax, np.zeros((1, 3)))


def test_an_implementation_of_its_own_is_accepted(implement_softmax):
    assert is_correct(implement_softmax, own_softmax)


@pytest.mark.parametrize("call", ["module attribute", "imported name", "through a helper"])
def test_an_answer_that_calls_the_function_it_should_implement_is_not_accepted(
        implement_softmax, call):
    import attn_lib
    from attn_lib import masked_softmax

    def helper(scores):
        return attn_lib.reference.masked_softmax(scores)

    answer = {"module attribute": lambda scores: attn_lib.masked_softmax(scores),
              "imported name": lambda scores: masked_softmax(scores),
              "through a helper": helper}[call]
    assert diagnosis(implement_softmax, answer) == LIBRARY
    assert "`masked_softmax`" in feedback(implement_softmax, answer)
    assert attn_lib.masked_softmax is masked_softmax  # the spies are gone afterwards


def all_exercise_ids():
    exercises._load_all()
    return sorted(exercises._CHECKS)


@pytest.mark.parametrize("exercise_id", all_exercise_ids())
@pytest.mark.parametrize("junk", [0, "an answer", [1.0, 2.0], object()],
                         ids=["zero", "text", "list", "object"])
def test_no_check_accepts_a_junk_answer(exercise_id, junk):
    assert "not yet" in feedback(exercise_id, junk)


def test_every_chapter_registers_at_least_three_exercises():
    chapters = collections.Counter(exercise_id.split(".")[0] for exercise_id in
                                   all_exercise_ids())
    notebooks = pathlib.Path(__file__).parent.parent / "notebooks"
    numbered = {str(int(path.name[:2])) for path in notebooks.glob("[0-9][0-9]_*.ipynb")}
    assert set(chapters) == numbered and len(numbered) >= 11
    assert chapters.pop("0") >= 1  # chapter 0 is an overview with one exercise
    assert min(chapters.values()) >= 3


def test_giveaways_name_an_answer_and_its_fractional_values():
    assert {"1024", "1,024"} <= giveaways(1024) and "2" not in giveaways(2)
    shown = giveaways(np.array([0.25, 2.0, 12.0]))
    assert {"0.25", "0.250", "[0.25, 2.0, 12.0]"} <= shown
    assert not {"2", "2.00", "12"} & shown
    assert "[2, 1, 0]" in giveaways([2, 1, 0])
