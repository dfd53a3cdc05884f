"""A test-only plugin whose import kills the Dask worker process importing it, once.

Armed by a file ``arm-kill`` next to this module that holds the driver's PID: imported inside a
task on a Dask worker (not in the driver), the first importer creates ``killed-once`` (O_EXCL,
so exactly one process wins) and SIGKILLs itself :data:`DELAY` seconds later, while its task
is still loading or running. Later imports, in the restarted worker or elsewhere, find the
marker and do nothing. The fit is a deliberately slow exponential-rate MLE.
"""

import os
import signal
import threading
from pathlib import Path

import numba
import numpy as np

#: Seconds from the import to the kill.
DELAY = 0.3
#: Busy-loop length per fit: ~10 ms.
SPIN = 5_000_000


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


@numba.njit(cache=True)
def slow_mle(x, out_theta, out_se):
    """The exponential-rate MLE, after a fixed amount of arithmetic."""
    acc = 0.0
    for i in range(SPIN):
        acc += np.sqrt(i + x[0])
    out_theta[0] = x.size / x.sum()
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (0, int(acc) % 7)
