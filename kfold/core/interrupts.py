"""Ctrl-C honoured at any moment of a run, never swallowed.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the program happens to
be. When that is inside a weak-reference callback or a ``__del__`` (garbage
collection, ``keras.backend.clear_session``), Python prints "Exception ignored
in ..." and goes on: the interrupt is lost. Two tools prevent that:

* :func:`catching_interrupts` (around a whole run) remembers every SIGINT, so an
  interrupt swallowed somewhere is raised again at the next checkpoint
  (:func:`check_interrupt`, and the end of every :func:`deferring_interrupts`).
* :func:`deferring_interrupts` (around short critical sections: clearing the
  Keras session, saving a fold) holds SIGINT back and raises it once the
  section is over, so a fold is never half saved.

Both only act in the main thread while Python's default SIGINT handler is in
place; a handler the user installed is left alone. :class:`StopAfterEpoch` (fused
training) turns the first Ctrl-C into a request to stop after the epoch in progress.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

__all__ = ["catching_interrupts", "deferring_interrupts", "check_interrupt", "StopAfterEpoch"]

_state = {"pending": False, "deferring": 0}


def _handler(signum: int, frame: Any) -> None:
    _state["pending"] = True  # remembered, in case the KeyboardInterrupt below is swallowed
    if not _state["deferring"]:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _handling() -> Iterator[bool]:
    """Install kfold's SIGINT handler for the block where possible; yield whether it is in place."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is _handler:
        yield True
        return
    if previous is not signal.default_int_handler:
        yield False
        return
    signal.signal(signal.SIGINT, _handler)
    try:
        yield True
    finally:
        signal.signal(signal.SIGINT, previous)


def check_interrupt() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C arrived that has not been raised yet.

    Examples
    --------
    >>> check_interrupt()  # nothing pending: returns
    """
    if _state["pending"] and not _state["deferring"]:
        _state["pending"] = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def catching_interrupts() -> Iterator[None]:
    """Run the block so that no Ctrl-C in it is lost (raised again if it was swallowed).

    Examples
    --------
    >>> with catching_interrupts():
    ...     total = sum(range(10))
    >>> total
    45
    """
    with _handling():
        _state["pending"] = False
        try:
            yield
            check_interrupt()
        finally:
            _state["pending"] = False


@contextlib.contextmanager
def deferring_interrupts() -> Iterator[None]:
    """Hold Ctrl-C back during the block, then raise it (``KeyboardInterrupt``) once the block is done.

    Examples
    --------
    >>> with deferring_interrupts():
    ...     saved = "a fold, saved whole"
    >>> saved
    'a fold, saved whole'
    """
    with _handling():
        _state["deferring"] += 1
        try:
            yield
        finally:
            _state["deferring"] -= 1
        check_interrupt()


class StopAfterEpoch:
    """Ctrl-C (SIGINT) during the block only asks to stop after the epoch in progress; a second one stops at once.

    What fused training wraps around its epochs (:mod:`kfold.train.fused.runner`):
    ``requested`` turns true at the first SIGINT, which the loop reads between
    epochs; a second SIGINT raises ``KeyboardInterrupt``. Only in the main thread.

    Examples
    --------
    >>> with StopAfterEpoch() as interrupt:
    ...     interrupt.requested
    False
    """

    def __init__(self) -> None:
        self.requested, self._previous = False, None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "StopAfterEpoch":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
