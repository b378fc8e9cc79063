"""Config loading, det/seg dispatch and the missing-dataset check."""
import os
import os.path as osp
from unittest import mock

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


def test_present_dataset_passes(demo_root, tmp_path):
    cfg = load_config('configs/demo/mask-rcnn_r18_fpn_demo.py')
    root = osp.join(demo_root, 'coco/')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = osp.join(
        root, 'annotations/instances_val2017.json')
    checked = []
    with mock.patch('os.path.exists', side_effect=lambda p: checked.append(
            p) or os.path.lexists(p)):
        check_datasets(cfg, ('train', 'val', 'test'))
    # every split's annotations and images were looked for, and found
    for name in ('annotations/instances_train2017.json', 'train2017/',
                 'annotations/instances_val2017.json', 'val2017/'):
        assert osp.join(root, name) in checked, name
    # the same check on one missing image folder fails
    cfg.train_dataloader.dataset.data_prefix = dict(img='nothing/')
    with pytest.raises(DatasetNotFoundError, match='nothing/'):
        check_datasets(cfg, ('train', ))


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


@pytest.mark.parametrize('text, value', [
    # as mmengine's DictAction reads them
    ('3', 3), ('0.5', 0.5), ('True', True), ('None', None), ('abc', 'abc'),
    ('1,2', [1, 2]), ('[1, 2]', [1, 2]), ('(1333, 800)', (1333, 800)),
    ('[(1, 2), [a, b], c]', [(1, 2), ['a', 'b'], 'c']), ('[]', []),
    ("['a', 'b']", ['a', 'b']),
    # spaces inside a value are kept; a quoted value is one text
    ('/data/my set/', '/data/my set/'), ('[a b, c]', ['a b', 'c']),
    ("'/data/a,b/'", '/data/a,b/'), ('"[x]"', '[x]'),
    ("/data/o'brien/", "/data/o'brien/"), ("['a,b', c]", ['a,b', 'c']),
])
def test_option_values(text, value):
    from mmengine.config import DictAction
    from mmplug.apis.cli import parse_option_value
    parsed = parse_option_value(text)
    assert parsed == value and type(parsed) is type(value)
    if ' ' not in str(value) and text[0] not in '"\'':
        assert DictAction._parse_iterable(text) == parsed


def test_option_values_through_the_parser():
    import argparse
    from mmplug.apis.cli import add_config_args
    parser = argparse.ArgumentParser()
    add_config_args(parser)
    args = parser.parse_args(['x.py', '--cfg-options',
                              'train_dataloader.dataset.data_root=/a b/',
                              'model.neck.in_channels=[1, 2]'])
    assert args.cfg_options == {
        'train_dataloader.dataset.data_root': '/a b/',
        'model.neck.in_channels': [1, 2]}
    with pytest.raises(SystemExit):
        parser.parse_args(['x.py', '--cfg-options', 'a=[1,2'])


def test_text_option_split_by_a_comma_is_refused():
    from mmplug.errors import ConfigError
    with pytest.raises(ConfigError, match='the comma made the value a list'):
        load_config(DET, {'train_dataloader.dataset.data_root':
                          ['/data/a', 'b/']})
    cfg = load_config(DET, {'train_dataloader.dataset.data_root':
                            '/data/a,b/'})
    assert cfg.train_dataloader.dataset.data_root == '/data/a,b/'


def test_transform_sizes_become_tuples():
    from mmplug.apis.config import restore_tuples
    cfg = dict(pipeline=[
        dict(type='Resize', scale=[1333, 800], keep_ratio=True),
        dict(type='RandomResize', scale=[[2048, 512], [2048, 1024]],
             ratio_range=[0.5, 2.0]),
        dict(type='RandomChoiceResize', scales=[[1333, 640], [1333, 800]]),
        dict(type='RandomFlip', prob=[0.3, 0.3],
             direction=['horizontal', 'vertical']),
        dict(type='PackSegInputs', meta_keys=['img_path'])],
        data_preprocessor=dict(size=[512, 512], mean=[1.0, 2.0, 3.0]),
        neck=dict(in_channels=[256, 512]),
        rpn_head=dict(anchor_generator=dict(scales=[8], ratios=[0.5, 1.0])))
    restore_tuples(cfg)
    resize, random_resize, choice, flip, pack = cfg['pipeline']
    assert resize['scale'] == (1333, 800)
    assert random_resize['scale'] == [(2048, 512), (2048, 1024)]
    assert random_resize['ratio_range'] == (0.5, 2.0)
    assert choice['scales'] == [(1333, 640), (1333, 800)]
    assert cfg['data_preprocessor']['size'] == (512, 512)
    # what mmcv, mmdet and mmseg take as lists stays a list
    assert flip['prob'] == [0.3, 0.3] and pack['meta_keys'] == ['img_path']
    assert cfg['data_preprocessor']['mean'] == [1.0, 2.0, 3.0]
    assert cfg['neck']['in_channels'] == [256, 512]
    assert cfg['rpn_head']['anchor_generator'] == dict(scales=[8],
                                                       ratios=[0.5, 1.0])


def _coco_copy(demo_root, tmp_path, edit):
    """The demo COCO data with its val annotation file changed by
    ``edit(dict)``; returns the demo det config on it."""
    import json
    import shutil
    root = tmp_path / 'coco'
    shutil.copytree(osp.join(demo_root, 'coco'), root)
    ann = root / 'annotations' / 'instances_val2017.json'
    data = json.loads(ann.read_text())
    edit(data)
    ann.write_text(json.dumps(data))
    cfg = load_config('configs/demo/mask-rcnn_r18_fpn_demo.py')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = f'{root}/'
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = str(ann)
    return cfg


def test_annotation_files_without_what_a_run_needs(demo_root, tmp_path):
    from mmplug.errors import DatasetError
    cfg = _coco_copy(demo_root, tmp_path,
                     lambda d: d.update(annotations=[]))
    check_datasets(cfg, ('train', ))
    with pytest.raises(DatasetError, match='every COCO mAP would be -1'):
        check_datasets(cfg, ('test', ))
    cfg.test_evaluator.format_only = True  # predictions only (test-dev)
    cfg.test_evaluator.outfile_prefix = str(tmp_path / 'results')
    check_datasets(cfg, ('test', ))
    cfg = _coco_copy(demo_root, tmp_path / 'b',
                     lambda d: d.update(images=[], annotations=[]))
    with pytest.raises(DatasetError, match='lists no images'):
        check_datasets(cfg, ('test', ))


def test_list_state_reads_the_key_not_a_text(tmp_path):
    from mmplug.datasets.check import list_state
    path = tmp_path / 'a.json'
    path.write_text('{"info": {"description": "annotations"}, '
                    '"images": [ ], "annotations" :\n [\n {"id": 1}]}')
    assert list_state(str(path), 'images') == 'empty'
    assert list_state(str(path), 'annotations') == 'items'
    assert list_state(str(path), 'categories') == 'absent'
