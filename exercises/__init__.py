"""Quizzes, exercises and strategy challenges: the data, and the code that shows and grades them.

    from exercises import show_quiz, grade
    show_quiz("ch02")                       # an interactive quiz (works in the static book, no kernel)
    grade("ch03_tiering", my_strategy)      # run a strategy against a challenge's simulated customers

Names are loaded on first use, so importing the package stays cheap.
"""

from importlib import import_module

_HOMES = {
    "show_quiz": "quizzes", "load_quiz": "quizzes", "validate_quiz": "quizzes", "list_quizzes": "quizzes",
    "grade": "challenges", "load_challenge": "challenges", "list_challenges": "challenges", "GradeResult": "challenges",
    "challenge_form": "challenges",
}

__all__ = sorted(_HOMES)


def __getattr__(name):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'exercises' has no attribute {name!r}")
