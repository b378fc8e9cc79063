"""What the tools do, importable and testable: config loading with dataset
checks, det/seg dispatch, training, testing, FLOPs and benchmarks."""
from mmplug.apis.cli import exit_on_user_error
from mmplug.apis.config import (DatasetNotFoundError, PretrainedNotFoundError,
                                check_datasets, check_pretrained, load_config,
                                task_of)
from mmplug.apis.runner import build_test_cfg, build_train_cfg, test, train
from mmplug.datasets.check import check_dataset

__all__ = [
    'DatasetNotFoundError', 'PretrainedNotFoundError', 'build_test_cfg',
    'build_train_cfg', 'check_dataset', 'check_datasets', 'check_pretrained',
    'exit_on_user_error', 'load_config', 'task_of', 'test', 'train'
]
