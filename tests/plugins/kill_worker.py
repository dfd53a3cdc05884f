"""A test-only plugin whose import kills the Dask worker process importing it, once.

Armed by a file ``arm-kill`` next to this module that holds the driver's PID: imported inside a
task on a Dask worker (not in the driver), the first importer creates ``killed-once`` (O_EXCL,
so exactly one process wins) and SIGKILLs itself :data:`DELAY` seconds later, while its task
is still loading or running. Later imports, in the restarted worker or elsewhere, find the
marker and do nothing. The fit is :func:`slow_fit.slow_mle` (copy ``slow_fit.py`` alongside).
"""

import os
import signal
import threading
from pathlib import Path

from slow_fit import slow_mle

__all__ = ["slow_mle"]

#: Seconds from the import to the kill.
DELAY = 0.3


def _arm() -> None:
    here = Path(__file__).resolve().parent
    arm = here / "arm-kill"
    if not arm.is_file() or arm.read_text().strip() == str(os.getpid()):
        return
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return
    try:
        fd = os.open(here / "killed-once", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    threading.Timer(DELAY, os.kill, (os.getpid(), signal.SIGKILL)).start()


_arm()
