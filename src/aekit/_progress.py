"""Progress output that fits where it goes.

On a terminal: a live tqdm bar. Anywhere else (a log file, CI, a pipe) a bar's carriage
returns would pile up as one endless line, so progress becomes plain lines instead, at
most one every ``LOG_INTERVAL`` seconds (and one per epoch where an epoch reports its loss).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL = 10.0  # seconds between progress lines when stderr is not a terminal
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Lines:
    """A text stream for tqdm that turns each refresh into one finished line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        line = _ESCAPES.sub("", text).replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress(iterable: Iterable | None = None, *, enabled: bool = True, **options: Any) -> tqdm:
    """A tqdm bar on stderr (``options`` as tqdm's), or line-based progress off a terminal."""
    stream = sys.stderr
    options.setdefault("leave", False)
    if _is_terminal(stream):
        return tqdm(iterable, file=stream, disable=not enabled, dynamic_ncols=True, **options)
    return tqdm(iterable, file=_Lines(stream), disable=not enabled, mininterval=LOG_INTERVAL,
                ascii=True, ncols=100, **options)


__all__ = ["LOG_INTERVAL", "progress"]
