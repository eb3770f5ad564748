"""Self-checks for the exercises: say whether an answer is right, never what it is.

Each chapter registers its checks in a module ``attn_lib.exercises.chNN`` with the
:func:`exercise` decorator; a notebook calls ``check("3.2", answer)``.
"""

import importlib
import pkgutil

_CHECKS = {}


def exercise(exercise_id, hint):
    """Register `function(answer) -> bool` as the check of `exercise_id` (e.g. ``"3.2"``).

    `hint` is shown when the answer is wrong; it must not give the answer away.
    """

    def register(function):
        if exercise_id in _CHECKS:
            raise ValueError(f"Exercise {exercise_id!r} is registered twice.")
        _CHECKS[exercise_id] = (function, hint)
        return function

    return register


def _load_all():
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def check(exercise_id, answer):
    """Print whether `answer` solves exercise `exercise_id`; return nothing.

    ``None`` (the placeholder in every exercise cell) prints a reminder. The
    return value is ``None`` on purpose, so a notebook never shows the answer.

    Raises:
        KeyError: no exercise has that id.
    """
    _load_all()
    if exercise_id not in _CHECKS:
        known = ", ".join(sorted(_CHECKS)) or "none"
        raise KeyError(f"No exercise {exercise_id!r}. Known exercises: {known}")
    function, hint = _CHECKS[exercise_id]
    if answer is None:
        print(f"Exercise {exercise_id}: no answer yet. Replace `None` with yours.")
        return
    try:
        correct = bool(function(answer))
    except Exception as error:  # a wrong shape or type is a wrong answer, said kindly
        correct = False
        hint = f"{hint} (Checking raised {type(error).__name__}: {error})"
    if correct:
        print(f"Exercise {exercise_id}: correct. Well done!")
    else:
        print(f"Exercise {exercise_id}: not yet. Hint: {hint}")


def is_correct(exercise_id, answer):
    """``True`` when `answer` passes the check (``False`` when the check rejects its shape)."""
    _load_all()
    try:
        return bool(_CHECKS[exercise_id][0](answer))
    except (TypeError, ValueError):
        return False


__all__ = ["check", "exercise", "is_correct"]
