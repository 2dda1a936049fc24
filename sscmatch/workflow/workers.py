"""Which process computes a background job (a match run, a calibration), and whether it is gone.

A job computed in a background thread dies with its process (a restart, a crash, a recycled
worker). The job records ``host:pid`` when it starts; a reader that finds it still "running"
asks :func:`process_gone` and marks it failed rather than showing it running forever.
"""

from __future__ import annotations

import os
import socket


def this_worker() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(worker: str) -> bool:
    """True when ``worker`` (``host:pid``) names a process of this host that no longer exists
    (a process of another host cannot be checked: False)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists, but not ours to signal
        return False
    return False
