"""Worker slots: the k-th worker to start on a machine claims slot k (a pid file), freed when it dies.

A worker pinned to a GPU takes ``devices[slot % len(devices)]``
(:func:`kfold.executors.setup.worker_env`); a worker that dies frees its slot for
the one that replaces it.
"""
from __future__ import annotations

import os

__all__ = ["claim_slot"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_slot(folder: str, pid: int | None = None) -> int:
    """Claim the lowest free slot number in ``folder`` for process ``pid``.

    A slot is free when no file holds it, or when the process holding it has died.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> claim_slot(folder, pid=os.getpid()), claim_slot(folder, pid=os.getpid())
    (0, 1)
    """
    pid = os.getpid() if pid is None else pid
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "lock"), "a+") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: no lock; slots may then collide
            pass
        slot = 0
        while True:
            path = os.path.join(folder, f"slot-{slot}")
            holder = _read_pid(path)
            if holder is None or not _alive(holder):
                with open(path, "w") as file:
                    file.write(str(pid))
                return slot
            slot += 1


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as file:
            return int(file.read().strip() or -1)
    except (OSError, ValueError):
        return None
