"""Bad inputs to the tools, each with its exact outcome: a clear one-line
error naming the problem (exit status 2, no traceback), or a correct result.

The cases run the tools' ``main`` in this process on the tiny configs of
``conftest.py``; ``test_faults.py`` kills real training processes.
"""
import os
import os.path as osp
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

# ------------------------------------------------------------------ files


@pytest.fixture(scope='session')
def files(ctx):
    """Checkpoint-like files, good and bad, for the tiny configs."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    import mmplug.models  # noqa: F401  (safe loading)

    root = osp.join(ctx.root, 'files')
    os.makedirs(root, exist_ok=True)
    path = {k: osp.join(root, k) for k in (
        'jpeg.pth', 'empty.pth', 'text.pth', 'truncated.pth', 'tensor.pth',
        'list.pth', 'notensor.pth', 'evil.pth', 'other.pth', 'det.pth',
        'det_sd.pth', 'det_classes.pth', 'det_module.pth', 'seg.pth',
        'zip.pth', 'other_resume.pth')}
    shutil.copy(osp.join(ctx.coco, 'train2017',
                         sorted(os.listdir(osp.join(ctx.coco,
                                                    'train2017')))[0]),
                path['jpeg.pth'])
    open(path['empty.pth'], 'wb').close()
    shutil.copy(osp.join(osp.dirname(ctx.coco), 'demo_meta.json'),
                path['text.pth'])
    with zipfile.ZipFile(path['zip.pth'], 'w') as zf:
        zf.writestr('notes.txt', 'not weights')
    torch.save(torch.zeros(3), path['tensor.pth'])
    torch.save([1, 2, 3], path['list.pth'])
    torch.save({'epoch': 3, 'note': 'no weights'}, path['notensor.pth'])
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': os.system},
               path['evil.pth'])
    # a ResNet-50-like state dict: none of its keys is the detector's
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7),
                'bn1.weight': torch.ones(64),
                'bn1.num_batches_tracked': torch.tensor(0),
                'fc.weight': torch.zeros(1000, 2048)}, path['other.pth'])
    torch.save({'meta': {'epoch': 1, 'iter': 4},
                'state_dict': torch.load(path['other.pth']),
                'optimizer': {'state': {}, 'param_groups': []}},
               path['other_resume.pth'])
    init_default_scope('mmdet')
    det = MODELS.build(Config.fromfile(ctx.det).model)
    sd = det.state_dict()
    torch.save({'meta': {}, 'state_dict': sd}, path['det.pth'])
    torch.save(sd, path['det_sd.pth'])
    torch.save({'state_dict': {'module.' + k: v for k, v in sd.items()}},
               path['det_module.pth'])
    fewer = Config.fromfile(ctx.det)
    fewer.model.roi_head.bbox_head.num_classes = 2
    fewer.model.roi_head.mask_head.num_classes = 2
    torch.save({'state_dict': MODELS.build(fewer.model).state_dict()},
               path['det_classes.pth'])
    with open(path['det.pth'], 'rb') as f:
        data = f.read()
    with open(path['truncated.pth'], 'wb') as f:
        f.write(data[:len(data) // 2])
    init_default_scope('mmseg')
    seg = MODELS.build(Config.fromfile(ctx.seg).model)
    torch.save({'state_dict': seg.state_dict()}, path['seg.pth'])
    return path


# ------------------------------------------------------- data variants


def _first_image(data):
    return data['images'][0]


def _mutations(ctx):
    """name -> det config on demo data with that one fault."""
    img0 = sorted(os.listdir(osp.join(ctx.coco, 'train2017')))[0]

    def dup_image_id(d):
        d['images'][1]['id'] = d['images'][0]['id']

    def dup_ann_id(d):
        d['annotations'][1]['id'] = d['annotations'][0]['id']

    def unknown_category(d):
        d['annotations'][0]['category_id'] = 99

    def unknown_image(d):
        d['annotations'][0]['image_id'] = 12345

    def zero_box(d):
        d['annotations'][0]['bbox'][2] = 0

    def outside_box(d):
        d['annotations'][0]['bbox'][0] = 5000

    def empty_segmentation(d):
        d['annotations'][0]['segmentation'] = []

    def degenerate_polygon(d):
        ann = next(a for a in d['annotations']
                   if isinstance(a['segmentation'], list))
        ann['segmentation'] = [[10.0, 10.0, 20.0, 20.0]]

    def rle_size(d):
        ann = next(a for a in d['annotations']
                   if isinstance(a['segmentation'], dict))
        ann['segmentation']['size'] = [7, 7]

    def wrong_size(d):
        _first_image(d)['width'] += 10

    def missing_image(d):
        pass

    return {
        'dup_image_id': dict(mutate=dup_image_id),
        'dup_ann_id': dict(mutate=dup_ann_id),
        'unknown_category': dict(mutate=unknown_category),
        'unknown_image': dict(mutate=unknown_image),
        'zero_box': dict(mutate=zero_box),
        'outside_box': dict(mutate=outside_box),
        'empty_segmentation': dict(mutate=empty_segmentation),
        'degenerate_polygon': dict(mutate=degenerate_polygon),
        'rle_size': dict(mutate=rle_size),
        'wrong_size': dict(mutate=wrong_size),
        'missing_image': dict(files={f'train2017/{img0}': None}),
        'corrupt_image': dict(files={f'train2017/{img0}': b'\xff\xd8\xff' +
                                     b'\0' * 64}),
        'malformed_json': dict(files={
            'annotations/instances_train2017.json': b'{"images": [1, 2,'}),
    }


def det_variant(ctx, name):
    return ctx.coco_variant(name, **_mutations(ctx)[name])


def _first_label(root, split='training'):
    folder = osp.join(root, 'annotations', split)
    return osp.join(folder, sorted(os.listdir(folder))[0])


def _ade_label_199(root):
    # 199 is no ADE20K class id (150 classes): training would die with
    # "Target 199 is out of bounds", testing would lower mIoU silently
    for split in ('training', 'validation'):
        path = _first_label(root, split)
        label = np.array(Image.open(path))
        Image.fromarray(np.full_like(label, 199)).save(path)


def _ade_missing_label(root):
    os.remove(_first_label(root))


def _ade_label_size(root):
    path = _first_label(root)
    Image.open(path).resize((10, 10), Image.NEAREST).save(path)


def _ade_corrupt_image(root):
    folder = osp.join(root, 'images', 'training')
    with open(osp.join(folder, sorted(os.listdir(folder))[0]), 'wb') as f:
        f.write(b'\xff\xd8\xff' + b'\0' * 64)


ADE_EDITS = dict(label_199=_ade_label_199, missing_label=_ade_missing_label,
                 label_size=_ade_label_size,
                 corrupt_image=_ade_corrupt_image)


def seg_variant(ctx, name):
    return ctx.ade_variant(name, ADE_EDITS[name])


# ------------------------------------------------------------- the table
# (tool, argv from (ctx, files, tmp), fragments the one-line error holds)

def _ck(name, *extra):
    """tools/test.py on the tiny det config with checkpoint ``name``."""
    return lambda c, f, t: [c.det, f[name], '--work-dir', t, *extra]


def _resume(name):
    return lambda c, f, t: [c.det, '--work-dir', t, '--resume', f[name]]


def _opts(*options, config='det'):
    return lambda c, f, t: [getattr(c, config), '--work-dir', t,
                            '--cfg-options', *options]


def _variant(name, tool_args=()):
    return lambda c, f, t: [det_variant(c, name), '--work-dir', t,
                            *tool_args]


def _seg_variant(name, *extra):
    return lambda c, f, t: [seg_variant(c, name), *[
        f[e] if e in f else e for e in extra], '--work-dir', t]


def _config_text(name, text):
    return lambda c, f, t: [c.config(name, text.format(det=c.det, **f)),
                            '--work-dir', t]


def _pretrained(name):
    return lambda c, f, t: [c.config(
        f'pretrained_{name}.py', f"_base_ = [{c.det!r}]\nmodel = dict("
        f"backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', "
        f"checkpoint={f[name]!r})))\n"), '--work-dir', t]


ERRORS = [
    # checkpoints given to tools/test.py
    ('test.py', _ck('jpeg.pth'), ['is not a PyTorch checkpoint: it is a '
                                  'JPEG image']),
    ('test.py', _ck('empty.pth'), ['is empty (0 bytes)']),
    ('test.py', _ck('text.pth'), ['is not a PyTorch checkpoint: it is a '
                                  'text file']),
    ('test.py', _ck('zip.pth'), ['a zip archive, but not a PyTorch '
                                 'checkpoint']),
    ('test.py', _ck('truncated.pth'), ['is truncated or corrupt',
                                       'central directory']),
    ('test.py', lambda c, f, t: [c.det, osp.join(t, 'nope.pth')],
     ['checkpoint not found', 'nope.pth']),
    ('test.py', _ck('tensor.pth'), ['has no model weights in it',
                                    'Tensor']),
    ('test.py', _ck('list.pth'), ['has no model weights in it', 'list']),
    ('test.py', _ck('notensor.pth'), ['has no model weights in it',
                                      'keys epoch, note']),
    ('test.py', _ck('evil.pth'), ['Refused to load', '`posix.system`',
                                  '--trust-checkpoint']),
    ('test.py', _ck('other.pth'), ['does not fit MaskRCNN', 'matched: 0',
                                   'missing in checkpoint', '--partial-load']),
    ('test.py', _ck('det_classes.pth'), ['does not fit MaskRCNN',
                                         'shape mismatch (',
                                         'fc_cls.weight']),
    ('test.py', lambda c, f, t: [c.det, f['jpeg.pth'], '--trust-checkpoint',
                                 f['jpeg.pth']],
     ['it is a JPEG image']),  # trusted or not: not a checkpoint
    ('test.py', lambda c, f, t: [seg_variant(c, 'label_199'), f['seg.pth'],
                                 '--work-dir', t],
     ['label values [199]', 'outside the 5 classes']),
    # --resume and load_from
    ('train.py', _resume('det_sd.pth'), ['cannot resume from',
                                         'model weights only', 'load_from']),
    ('train.py', _resume('other_resume.pth'), [
        'does not fit MaskRCNN', '--resume needs a checkpoint of this same '
        'config']),
    ('train.py', _resume('jpeg.pth'), ['it is a JPEG image']),
    ('train.py', lambda c, f, t: [c.det, '--resume',
                                  osp.join(t, 'gone.pth')],
     ['--resume: checkpoint not found', 'gone.pth']),
    ('train.py', lambda c, f, t: [c.det, '--work-dir', t, '--cfg-options',
                                  f'load_from={f["other.pth"]}'],
     ['does not fit MaskRCNN', 'matched: 0']),
    ('train.py', lambda c, f, t: [c.det, '--work-dir', t, '--cfg-options',
                                  f'load_from={f["truncated.pth"]}'],
     ['is truncated or corrupt']),
    # pretrained weights of the backbone (init_cfg)
    ('train.py', _pretrained('jpeg.pth'), ['pretrained weights',
                                           'it is a JPEG image']),
    ('train.py', _pretrained('tensor.pth'), ['has no model weights in it']),
    ('train.py', _pretrained('list.pth'), ['has no model weights in it']),
    ('train.py', _pretrained('empty.pth'), ['pretrained weights',
                                            'is empty (0 bytes)']),
    ('train.py', _config_text(
        'pretrained_missing.py', "_base_ = [{det!r}]\nmodel = dict(backbone="
        "dict(init_cfg=dict(_delete_=True, type='Pretrained', "
        "checkpoint='no/such.pth')))\n"),
     ['pretrained weights not found', "'no/such.pth'"]),
    # configs and options
    ('train.py', _config_text('syntax.py',
                              "_base_ = [{det!r}]\nx = 1\ny = = 2\n"),
     ['syntax error in config', 'syntax.py, line 3']),
    ('train.py', lambda c, f, t: [osp.join(t, 'nope.py')],
     ['config file not found', 'nope.py']),
    ('train.py', _opts('model.backbone.depthh=18'),
     ['cannot build', "unexpected keyword argument 'depthh'"]),
    ('train.py', _opts('model.backbone.type=ResNett'),
     ['ResNett', 'not in the', 'registry']),
    ('train.py', _opts('train_cfg.max_epochs=abc'),
     ['train_cfg.max_epochs=abc: expected a number', 'the config has 3']),
    ('train.py', _opts('train_cfg.max_epoch=3'),
     ['cannot build', "'max_epoch'"]),
    ('train.py', _opts('data_root=/elsewhere/'),
     ["'data_root' is a variable of the config",
      'train_dataloader.dataset.data_root', 'val_evaluator.ann_file']),
    ('train.py', _opts('max_epochs=2'),
     ["'max_epochs' is a variable", 'train_cfg.max_epochs']),
    ('train.py', _opts('lod_from=x.pth'),
     ["the config has no key 'lod_from'", 'did you mean load_from']),
    ('train.py', _opts('model.backbone=3'),
     ['model.backbone is a dict in the config', 'depth']),
    ('train.py', lambda c, f, t: [c.det, '--cfg-options', 'max_epochs'],
     ['--cfg-options takes key=value pairs', "'max_epochs'"]),
    ('train.py', lambda c, f, t: [c.det, '--launcher', 'pytorch'],
     ['--launcher pytorch needs the environment', 'torchrun']),
    ('train.py', lambda c, f, t: [c.det, '--launcher', 'slurm'],
     ['--launcher slurm needs', 'SLURM_PROCID']),
    ('train.py', lambda c, f, t: [c.det, '--amp'], ['--amp needs a GPU']),
    ('train.py', lambda c, f, t: [
        c.config('no_scale.py', "_base_ = [%r]\nauto_scale_lr = None\n"
                 % c.det), '--work-dir', t, '--auto-scale-lr'],
     ['--auto-scale-lr needs']),
    ('train.py', _config_text('scope.py', "_base_ = [{det!r}]\n"
                              "default_scope = 'mmpretrain'\n"),
     ["default_scope='mmpretrain'"]),
    ('train.py', lambda c, f, t: [c.det, '--work-dir', f['jpeg.pth']],
     ['cannot write', 'jpeg.pth']),  # the work dir is a file
    ('test.py', lambda c, f, t: [c.det, f['det.pth'], '--out', 'res.txt'],
     ['--out must be a .pkl file']),
    ('test.py', lambda c, f, t: [c.det, f['det.pth'], '--tta'],
     ['does not support instance segmentation']),
    # data
    ('train.py', lambda c, f, t: [c.det_config('/no/such/coco/',
                                               'nodata.py')],
     ['train data not found', '/no/such/coco/annotations/']),
    ('train.py', _config_text('hexagon.py', "_base_ = [{det!r}]\n"
                              "train_dataloader = dict(dataset=dict("
                              "metainfo=dict(classes=('circle', 'hexagon'))))"
                              "\n"),
     ["class names not in the annotation file", "'hexagon'",
      "Its classes: 'circle', 'square', 'triangle', 'star'"]),
    ('train.py', _config_text('upper.py', "_base_ = [{det!r}]\n"
                              "train_dataloader = dict(dataset=dict("
                              "metainfo=dict(classes=('Circle', 'square'))))"
                              "\n"),
     ["'Circle'", "did you mean 'Circle' -> 'circle'?"]),
    ('test.py', lambda c, f, t: [
        c.config('upper_test.py', "_base_ = [%r]\ntest_dataloader = dict("
                 "dataset=dict(metainfo=dict(classes=('circle', 'Star'))))\n"
                 % c.det), f['det.pth'], '--work-dir', t],
     ["test data: class names not in", "'Star' -> 'star'"]),
    ('train.py', _variant('malformed_json'),
     ['instances_train2017.json', 'malformed JSON at line 1']),
    ('train.py', _variant('missing_image'),
     ['train2017/', '.jpg', 'FileNotFoundError']),
    ('train.py', _variant('corrupt_image'),
     ['train2017/', '.jpg', 'check_dataset.py']),
    ('train.py', _variant('empty_segmentation'),
     ['.jpg', 'an instance has no segmentation']),
    ('train.py', _seg_variant('label_199'),
     ['annotations/training', 'label values [199]',
      'outside the 5 classes']),
    ('train.py', lambda c, f, t: [c.config(
        'seg_hexagon.py', f"_base_ = [{c.seg!r}]\ntrain_dataloader = dict("
        "dataset=dict(metainfo=dict(classes=('wall', 'hexagon'))))\n"),
        '--work-dir', t],
     ["class names not in ADE20KDataset", "'hexagon'"]),
]


def _error_id(case):
    tool, _, fragments = case
    return f'{tool}:{fragments[0][:40]}'


@pytest.mark.parametrize('tool, argv, fragments', ERRORS,
                         ids=[_error_id(c) for c in ERRORS])
def test_user_error_is_one_clear_line(tool, argv, fragments, ctx, files,
                                      run_tool, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ('RANK', 'WORLD_SIZE', 'SLURM_PROCID', 'MASTER_ADDR'):
        monkeypatch.delenv(var, raising=False)
    code, out, err = run_tool(tool, argv(ctx, files, str(tmp_path)))
    assert code == 2, out[-2000:] + err[-2000:]
    assert "Traceback" not in err, err
    message = err.strip().splitlines()
    assert message[0].startswith(f'{tool}: error:') or (
        message[0].startswith('usage:') and ': error: ' in message[-1]), err
    for fragment in fragments:
        assert fragment in err, err
