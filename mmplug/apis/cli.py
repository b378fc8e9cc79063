"""Helpers for the command-line tools."""
import contextlib
import os
import sys
import warnings
from typing import Iterator

from mmplug.apis.config import DatasetNotFoundError
from mmplug.checkpoint import UnsafeCheckpointError

# mmengine 0.10.7 resolves `mmdet::`/`mmseg::` bases through pkg_resources,
# whose deprecation warning would open every tool's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

#: Errors caused by the user's input, shown as one clear line, no traceback.
USER_ERRORS = (DatasetNotFoundError, UnsafeCheckpointError, FileNotFoundError,
               ValueError, RuntimeError)


@contextlib.contextmanager
def exit_on_user_error(tool: str) -> Iterator[None]:
    """Turn the errors in :data:`USER_ERRORS` into ``tool: error: ...`` on
    stderr and exit status 2. Set ``MMPLUG_DEBUG=1`` for the traceback."""
    try:
        yield
    except USER_ERRORS as err:
        if os.environ.get('MMPLUG_DEBUG'):
            raise
        print(f'{tool}: error: {err}', file=sys.stderr)
        sys.exit(2)
