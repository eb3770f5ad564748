"""The exercise registry; each chapter's checks are tested beside its chapter."""

import pytest

from attn_lib import exercises
from attn_lib.exercises import check, exercise, is_correct


@pytest.fixture
def registered():
    exercise("0.99", hint="think of the number of the beast")(lambda answer: answer == 666)
    yield "0.99"
    exercises._CHECKS.pop("0.99")


def test_check_says_correct_without_printing_the_answer(registered, capsys):
    check(registered, 666)
    out = capsys.readouterr().out
    assert "correct" in out and "666" not in out


def test_check_gives_the_hint_for_a_wrong_answer(registered, capsys):
    check(registered, 1)
    assert "not yet" in capsys.readouterr().out
    assert not is_correct(registered, 1)


def test_placeholder_answer_prints_a_reminder(registered, capsys):
    check(registered, None)
    assert "no answer yet" in capsys.readouterr().out


def test_a_check_that_raises_counts_as_wrong(registered, capsys):
    exercises._CHECKS["0.99"] = (lambda answer: answer.shape == (2,), "a hint")
    check(registered, 5)
    assert "not yet" in capsys.readouterr().out


def test_unknown_exercise_and_double_registration_are_errors(registered):
    with pytest.raises(KeyError, match="No exercise '9.9'"):
        check("9.9", 1)
    with pytest.raises(ValueError, match="registered twice"):
        exercise("0.99", hint="")(lambda answer: True)


def all_exercise_ids():
    exercises._load_all()
    return sorted(exercises._CHECKS)


@pytest.mark.parametrize("exercise_id", all_exercise_ids())
@pytest.mark.parametrize("junk", [0, "an answer", [1.0, 2.0], object()],
                         ids=["zero", "text", "list", "object"])
def test_no_check_accepts_a_junk_answer(exercise_id, junk, capsys):
    check(exercise_id, junk)
    assert "not yet" in capsys.readouterr().out


def test_every_chapter_registers_at_least_three_exercises():
    chapters = {}
    for exercise_id in all_exercise_ids():
        chapter = exercise_id.split(".")[0]
        chapters[chapter] = chapters.get(chapter, 0) + 1
    assert sorted(chapters) == [str(n) for n in range(1, 9)]
    assert min(chapters.values()) >= 3
