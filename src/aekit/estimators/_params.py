"""Parameter validation from a table, reporting every problem at once (sklearn's grammar)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from aekit.exceptions import ParameterError

Constraint = tuple[Callable[[Any], bool], str]


def is_int(lo: int | None = None, hi: int | None = None) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        return (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                and (lo is None or v >= lo) and (hi is None or v <= hi))
    return check


def is_float(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
             hi_open: bool = False) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or v != v:
            return False
        if lo is not None and (v <= lo if lo_open else v < lo):
            return False
        if hi is not None and (v >= hi if hi_open else v > hi):
            return False
        return True
    return check


def one_of(*choices: Any) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in choices


def int_sequence(v: Any) -> bool:
    try:
        return all(is_int(1)(w) for w in v) and not isinstance(v, str)
    except TypeError:
        return False


def random_state_like(v: Any) -> bool:
    import numpy as np

    return v is None or is_int(0)(v) or isinstance(v, (np.random.RandomState, np.random.Generator))


def validate_params(estimator: Any, constraints: dict[str, Constraint]) -> None:
    """Raise one ParameterError listing every parameter whose value breaks its constraint."""
    problems = []
    for name, (check, expected) in constraints.items():
        value = getattr(estimator, name)
        if not check(value):
            problems.append(
                f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
                f"Got {value!r} instead."
            )
    if problems:
        raise ParameterError("\n".join(problems))
