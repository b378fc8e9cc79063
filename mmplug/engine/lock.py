"""One training run per work directory."""
import contextlib
import fcntl
import os
import os.path as osp
import sys
import time
from typing import Dict, Iterator

from mmplug.errors import WorkDirBusyError

#: the lock file in a work directory while a run trains there
LOCK_NAME = '.mmplug-train.lock'

#: real path of each work directory this process holds -> (fd, depth)
_HELD: Dict[str, list] = {}


def _rank() -> int:
    """This process's global rank, from the launcher's environment (before
    any process group exists)."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return 0


@contextlib.contextmanager
def train_lock(work_dir: str) -> Iterator[None]:
    """Hold the work directory's training lock for the block.

    The lock is an advisory ``flock`` on ``work_dir/.mmplug-train.lock``:
    the kernel drops it when the process ends, however it ends (``kill
    -9`` included), so a killed run never leaves it stuck. Only the
    process of rank 0 takes it (the other ranks of a distributed run
    belong to the same run); taking it again in the same process is
    allowed.

    Raises:
        WorkDirBusyError: another process holds it; the message names that
            run (its process id, start time and command line).
    """
    if _rank() != 0:
        yield
        return
    os.makedirs(work_dir, exist_ok=True)
    key = osp.realpath(work_dir)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    path = osp.join(work_dir, LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 4096).decode(errors='replace').strip()
        os.close(fd)
        raise WorkDirBusyError(
            f'{work_dir} is in use by another training run ('
            f'{holder or "its details are unreadable"}): wait for it to '
            'finish or stop it, or give this run another --work-dir') from None
    os.ftruncate(fd, 0)
    os.write(fd, (f'process {os.getpid()}, started '
                  f'{time.strftime("%Y-%m-%d %H:%M:%S")}: '
                  f'{" ".join(sys.argv)}').encode())
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        _HELD[key][1] -= 1
        if _HELD[key][1] == 0:
            del _HELD[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
