"""Exception hierarchy.

Every error aekit raises on purpose derives from :class:`AekitError`, so the CLI can turn it
into a one-line message and exit code 2. Each also derives from the builtin a caller would
expect (``ValueError`` for bad data or parameters), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import Any


class AekitError(Exception):
    """Base class of every error aekit raises deliberately."""


class DataError(AekitError, ValueError):
    """Input data cannot be used: wrong type, shape, values, or columns.

    The message names what is wrong, where (file, column, row) and how to fix it.
    """


class ParameterError(AekitError, ValueError):
    """An estimator or command parameter has an invalid value."""


def _not_fitted_error() -> type:
    # Built on first use: it derives from scikit-learn's NotFittedError (so sklearn's own
    # checks recognise it), and importing scikit-learn is slow.
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(AekitError, SklearnNotFittedError):
        """A method that needs a fitted model was called before ``fit``."""

    NotFittedError.__module__, NotFittedError.__qualname__ = __name__, "NotFittedError"
    return NotFittedError


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        globals()[name] = cls = _not_fitted_error()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ModelFileError(AekitError, ValueError):
    """A saved model directory is missing, damaged, foreign, or from a newer format."""


class CheckpointError(AekitError, ValueError):
    """A training checkpoint cannot be used to resume."""
