"""Config loading, det/seg dispatch and the missing-dataset check."""
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict

from mmplug.apis import (DatasetNotFoundError, check_datasets, load_config,
                         task_of)
from mmplug.apis.config import dataset_paths

DET = 'configs/mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py'
SEG = 'configs/upernet/upernet_r18_4xb4-160k_ade20k-512x512.py'


@pytest.fixture(autouse=True)
def _in_repo(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)


def test_task_from_default_scope():
    assert task_of(load_config(DET)) == 'det'
    assert task_of(load_config(SEG)) == 'seg'
    with pytest.raises(ValueError, match="default_scope='mmpretrain'"):
        task_of(Config(dict(default_scope='mmpretrain')))


def test_missing_config_file():
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config('configs/nope.py')


def test_cfg_options_are_applied():
    cfg = load_config(DET, {'train_dataloader.batch_size': 7})
    assert cfg.train_dataloader.batch_size == 7


def test_dataset_paths_follow_wrappers():
    coco = ConfigDict(data_root='d/', ann_file='a.json',
                      data_prefix=dict(img='imgs/'))
    ade = ConfigDict(data_root='ade', data_prefix=dict(
        img_path='images', seg_map_path='annotations'))
    assert dataset_paths(coco) == ['d/a.json', 'd/imgs/']
    assert dataset_paths(ConfigDict(dataset=coco)) == ['d/a.json', 'd/imgs/']
    assert dataset_paths(ConfigDict(datasets=[coco, ade])) == [
        'd/a.json', 'd/imgs/', 'ade/images', 'ade/annotations'
    ]


@pytest.mark.parametrize('config, missing', [
    (DET, 'data/coco/annotations/instances_train2017.json'),
    (SEG, 'data/ade/ADEChallengeData2016/images/training'),
])
def test_missing_dataset_names_path_and_docs(config, missing):
    cfg = load_config(config)
    with pytest.raises(DatasetNotFoundError) as err:
        check_datasets(cfg)
    assert repr(missing) in str(err.value)
    assert "section 'Dataset preparation'" in str(err.value)


def test_present_dataset_passes(demo_root):
    cfg = load_config('configs/demo/mask-rcnn_r18_fpn_demo.py')
    root = osp.join(demo_root, 'coco/')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = osp.join(
        root, 'annotations/instances_val2017.json')
    check_datasets(cfg, ('train', 'val', 'test'))


def test_readme_has_the_section_the_message_names(repo_root):
    with open(osp.join(repo_root, 'README.md')) as f:
        assert '## Dataset preparation' in f.read()


def test_config_outside_repo_inherits_ours(repo_root, tmp_path):
    """A user's project config inherits an mmplug config by path."""
    from mmengine.registry import MODELS, init_default_scope
    own = tmp_path / 'my_project' / 'my_maskrcnn.py'
    own.parent.mkdir()
    base = osp.join(repo_root, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
    own.write_text(f'_base_ = [{base!r}]\n'
                   'model = dict(roi_head=dict(bbox_head=dict(num_classes=2),'
                   ' mask_head=dict(num_classes=2)))\n')
    cfg = Config.fromfile(str(own))
    assert cfg.custom_imports.imports == ['mmplug.models']
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert model.roi_head.bbox_head.num_classes == 2
    assert model.neck.out_channels == 128  # from our demo config


def test_missing_pretrained_weights_are_named(tmp_path):
    from mmplug.apis import PretrainedNotFoundError, check_pretrained
    cfg = load_config('configs/smt_maskrcnn_1x.py')
    with pytest.raises(PretrainedNotFoundError) as err:
        check_pretrained(cfg)
    assert "'checkpoints/smt_small.pth'" in str(err.value)
    assert "section 'Pretrained weights'" in str(err.value)
    cfg.model.backbone.init_cfg = None
    check_pretrained(cfg)  # from scratch: nothing to check
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint='https://x/y.pth')
    check_pretrained(cfg)  # URLs are left to the loader
