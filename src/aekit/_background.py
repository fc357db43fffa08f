"""Run a producer (reading and decoding files) on a background thread.

Parquet/CSV decoding and NumPy conversions release the GIL, so while the main thread
trains or scores one chunk, the next chunks are read on another core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def read_ahead(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Yield ``items`` in order, produced up to ``depth`` ahead on a background thread.

    An exception in the producer is raised in the consumer. Closing the returned generator
    (a loop that stops early, an error downstream) stops the producer and joins it.
    """
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as err:  # handed to the consumer, raised there
            put(err)

    thread = threading.Thread(target=produce, name="aekit-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
