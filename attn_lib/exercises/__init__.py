"""Self-checks for the exercises: say whether an answer is right, never what it is.

Each chapter registers its checks in a module ``attn_lib.exercises.chNN`` with the
:func:`exercise` decorator; a notebook calls ``check("3.2", answer)``.

A check returns ``True`` for a right answer. For a wrong one it returns the name of the
mistake it recognises (a key of the exercise's `mistakes`, whose hint names the mistake
without giving the answer away), or ``False`` when it recognises none (the exercise's
general `hint` is shown). An exercise that asks for an implementation of a library function
lists that function in `implements`: an answer that calls it is not an implementation.
"""

import contextlib
import dataclasses
import functools
import importlib
import pkgutil
import sys

_CHECKS = {}

#: The mistake name of an answer that calls a function it was asked to implement.
LIBRARY = "library"
#: The mistake name of an answer that is what a function returns, not the function.
NOT_FUNCTION = "not_function"


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One registered exercise: its check, its hints and what it asks to implement."""

    check: object
    hint: str
    mistakes: dict
    implements: tuple
    takes_function: bool

    def hint_for(self, verdict):
        """The hint for a wrong verdict: a mistake's own hint, else the general one."""
        if isinstance(verdict, str):
            return self.mistakes[verdict]
        return self.hint


def exercise(exercise_id, hint, mistakes=None, implements=(), takes_function=False):
    """Register `function(answer) -> True | False | mistake name` as the check of `exercise_id`.

    `hint` is shown for a wrong answer whose mistake the check does not name; `mistakes`
    maps the names a check may return to their hints. No hint may give the answer away.
    `implements` lists the library functions the exercise asks the reader to write: an
    answer that calls one of them gets the mistake :data:`LIBRARY`. When the answer is a
    function (`takes_function`, implied by `implements`), an answer that is not one gets
    the mistake :data:`NOT_FUNCTION` before the check runs.
    """
    mistakes = dict(mistakes or {})
    implements = tuple(implements)
    takes_function = takes_function or bool(implements)
    if takes_function:
        mistakes.setdefault(NOT_FUNCTION, "Pass the function itself (answer = your_function), "
                                          "not what it returns: the check runs it on cases of "
                                          "its own.")
    if implements:
        public = dict.fromkeys(f.__name__ for f in implements if not f.__name__.startswith("_"))
        names = ", ".join(f"`{name}`" for name in public)
        mistakes.setdefault(LIBRARY, f"Your function calls attn_lib's {names}, the function "
                                     "this exercise asks you to write. Build it from NumPy "
                                     "(or TensorFlow) operations instead.")

    def register(function):
        if exercise_id in _CHECKS:
            raise ValueError(f"Exercise {exercise_id!r} is registered twice.")
        _CHECKS[exercise_id] = Exercise(function, hint, mistakes, implements, takes_function)
        return function

    return register


def _load_all():
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


class _CalledLibrary(Exception):
    """Raised when an answer calls a function it was asked to implement."""


@contextlib.contextmanager
def _spying(functions, namespaces, cells=()):
    """Replace every binding of `functions` in `namespaces` (dicts) and `cells` (closure
    cells) by a spy; yield the list of calls."""
    calls = []
    patched, patched_cells = [], []
    for function in functions:

        def spy(*args, _function=function, **kwargs):
            calls.append(_function.__name__)
            return _function(*args, **kwargs)

        for namespace in namespaces:
            for name, value in list(namespace.items()):
                if value is function:
                    namespace[name] = spy
                    patched.append((namespace, name, function))
        for cell in cells:
            if cell.cell_contents is function:
                cell.cell_contents = spy
                patched_cells.append((cell, function))
    try:
        yield calls
    finally:
        for namespace, name, function in patched:
            namespace[name] = function
        for cell, function in patched_cells:
            cell.cell_contents = function


def _closure_cells(function):
    """The closure cells of `function` that hold a value."""
    cells = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            cell.cell_contents  # noqa: B018 (an empty cell raises ValueError)
        except ValueError:
            continue
        cells.append(cell)
    return cells


def _guarded(answer, functions):
    """`answer`, made to raise `_CalledLibrary` when it calls one of `functions`.

    The spies sit in every `attn_lib` module, in the answer's own globals (a notebook's
    namespace) and in its closure, so ``attn_lib.masked_softmax(...)``, a name imported
    with ``from attn_lib import masked_softmax`` and a call through another library
    function are all seen.
    """

    @functools.wraps(answer)
    def guarded(*args, **kwargs):
        namespaces = [vars(module) for name, module in list(sys.modules.items())
                      if name.split(".")[0] == "attn_lib" and module is not None]
        namespaces.append(getattr(answer, "__globals__", {}))
        with _spying(functions, namespaces, _closure_cells(answer)) as calls:
            result = answer(*args, **kwargs)
        if calls:
            raise _CalledLibrary(calls[0])
        return result

    return guarded


def _verdict(exercise_id, answer):
    """``(True | False | mistake name, message of the error the check raised or None)``."""
    _load_all()
    if exercise_id not in _CHECKS:
        known = ", ".join(sorted(_CHECKS)) or "none"
        raise KeyError(f"No exercise {exercise_id!r}. Known exercises: {known}")
    registered = _CHECKS[exercise_id]
    if registered.takes_function and not callable(answer):
        return NOT_FUNCTION, None
    if registered.implements:
        answer = _guarded(answer, registered.implements)
    try:
        verdict = registered.check(answer)
    except _CalledLibrary:
        return LIBRARY, None
    except Exception as error:  # a wrong shape or type is a wrong answer, said kindly
        return False, f"{type(error).__name__}: {error}"
    if isinstance(verdict, str):
        if verdict not in registered.mistakes:
            raise KeyError(f"Exercise {exercise_id!r} returned the unknown mistake {verdict!r}")
        return verdict, None
    return bool(verdict), None


def check(exercise_id, answer):
    """Print whether `answer` solves exercise `exercise_id`; return nothing.

    ``None`` (the placeholder in every exercise cell) prints a reminder. A wrong answer gets
    the hint of the mistake the check recognises, or the exercise's general hint. The
    return value is ``None`` on purpose, so a notebook never shows the answer.

    Raises:
        KeyError: no exercise has that id.
    """
    if answer is None:
        _load_all()
        if exercise_id not in _CHECKS:
            _verdict(exercise_id, answer)  # raises the KeyError
        print(f"Exercise {exercise_id}: no answer yet. Replace `None` with yours.")
        return
    verdict, error = _verdict(exercise_id, answer)
    if verdict is True:
        print(f"Exercise {exercise_id}: correct. Well done!")
        return
    hint = _CHECKS[exercise_id].hint_for(verdict)
    if error is not None:
        hint = f"{hint} (Checking raised {error})"
    print(f"Exercise {exercise_id}: not yet. Hint: {hint}")


def diagnosis(exercise_id, answer):
    """The name of the mistake the check sees in `answer`: ``None`` when it is right,
    ``False`` when the check recognises no particular mistake."""
    verdict, _ = _verdict(exercise_id, answer)
    return None if verdict is True else verdict


def is_correct(exercise_id, answer):
    """``True`` when `answer` passes the check (``False`` when the check rejects its shape)."""
    return _verdict(exercise_id, answer)[0] is True


__all__ = ["LIBRARY", "NOT_FUNCTION", "Exercise", "check", "diagnosis", "exercise", "is_correct"]
