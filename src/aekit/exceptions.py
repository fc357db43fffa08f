"""Exception hierarchy.

Every error aekit raises on purpose derives from :class:`AekitError`, so the CLI can turn it
into a one-line message and exit code 2. Each also derives from the builtin a caller would
expect (``ValueError`` for bad data or parameters), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class AekitError(Exception):
    """Base class of every error aekit raises deliberately."""


class DataError(AekitError, ValueError):
    """Input data cannot be used: wrong type, shape, values, or columns.

    The message names what is wrong, where (file, column, row) and how to fix it.
    """


class ParameterError(AekitError, ValueError):
    """An estimator or command parameter has an invalid value."""


class NotFittedError(AekitError, _SklearnNotFittedError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(AekitError, ValueError):
    """A saved model directory is missing, damaged, foreign, or from a newer format."""


class CheckpointError(AekitError, ValueError):
    """A training checkpoint cannot be used to resume."""
