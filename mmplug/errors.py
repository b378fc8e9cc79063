"""The errors mmplug raises for what a user gave it.

Every class here derives from :class:`UserError`: the tools print such an
error as one line, ``tool: error: <message>``, and exit with status 2
(:func:`mmplug.apis.cli.exit_on_user_error`; ``MMPLUG_DEBUG=1`` shows the
traceback). Each also derives from the builtin exception a caller would
expect (``ValueError``, ``FileNotFoundError``, ...), so ``except ValueError``
keeps working. The message names the problem and, where there is one, the
file.

This module imports nothing heavy: anything may raise these.
"""
import pickle


class UserError(Exception):
    """Something the user gave (a config, option, file or dataset) cannot
    work as given."""


class ConfigError(UserError, ValueError):
    """A config or a tool option that cannot work as given."""


class ChannelMismatchError(ConfigError):
    """Parts of a model config that disagree on their channels (a neck's
    ``in_channels`` against the backbone's outputs, a head's against the
    neck's)."""


class DatasetError(UserError, ValueError):
    """A dataset that cannot be used as it is (unknown class names, a
    malformed annotation file, a corrupt image, labels out of range)."""


class DatasetNotFoundError(UserError, FileNotFoundError):
    """A path a config's dataset needs does not exist."""


class PretrainedNotFoundError(UserError, FileNotFoundError):
    """A local checkpoint a config's ``init_cfg`` names does not exist."""


class CheckpointError(UserError, ValueError):
    """A file that is not a usable checkpoint: not a checkpoint at all,
    truncated, without model weights, or not resumable."""


class CheckpointNotFoundError(UserError, FileNotFoundError):
    """A checkpoint file that does not exist."""


class UnsafeCheckpointError(UserError, pickle.UnpicklingError):
    """A checkpoint pickles objects that an mmengine checkpoint never has."""


class CheckpointMismatchError(UserError, ValueError):
    """Weights whose keys do not fit the model."""


class WorkDirError(UserError, OSError):
    """The work directory (or a file in it) cannot be written."""


class TrainingDivergedError(UserError, RuntimeError):
    """A training run whose loss or gradients diverged (stopped before its
    diverged weights were saved)."""


class WorkDirBusyError(UserError, RuntimeError):
    """Another run is training in the same work directory."""
