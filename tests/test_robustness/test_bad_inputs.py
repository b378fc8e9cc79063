"""Bad inputs to the tools, each with its exact outcome: a clear one-line
error naming the problem (exit status 2, no traceback), or a correct result.

The cases run the tools' ``main`` in this process on the tiny configs of
``conftest.py``; ``test_faults.py`` kills real training processes.
"""
import json
import os
import os.path as osp
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

pytestmark = pytest.mark.e2e

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

    def no_images(d):
        d['images'], d['annotations'] = [], []

    def no_annotations(d):
        d['annotations'] = []

    def skipped(d):  # four annotations mmdet's parsing drops silently
        anns = d['annotations']
        anns[0]['category_id'], anns[1]['category_id'] = 99, 77
        anns[2]['bbox'][3] = 0.5
        anns[3]['bbox'][0] = 5000

    path = osp.join(ctx.coco, 'train2017', img0)
    with open(path, 'rb') as f:
        jpeg = f.read()

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
        'no_images': dict(mutate=no_images),
        'no_annotations': dict(mutate=no_annotations),
        'skipped': dict(mutate=skipped),
        'truncated_image': dict(files={
            f'train2017/{img0}': jpeg[:len(jpeg) // 2]}),
        # a complete JPEG with data after its end (as some cameras write)
        'trailing_data': dict(files={
            f'train2017/{img0}': jpeg + b'\x00\x01' * 200}),
    }


def det_variant(ctx, name):
    return ctx.coco_variant(name, **_mutations(ctx)[name])


def val_without_annotations(ctx):
    """The tiny det config on a copy of the demo data whose val (= test)
    annotation file has images but no annotations."""
    config = ctx.coco_variant('val_no_annotations')
    path = osp.join(ctx.root, 'variants', 'val_no_annotations',
                    'annotations', 'instances_val2017.json')
    with open(path) as f:
        data = json.load(f)
    if data['annotations']:
        data['annotations'] = []
        with open(path, 'w') as f:
            json.dump(data, f)
    return config


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


def _relabel(convert, suffix='.png'):
    """An edit saving every label map as ``convert(label array)`` (an
    image or an array), with ``suffix``."""

    def edit(root):
        for split in ('training', 'validation'):
            folder = osp.join(root, 'annotations', split)
            for name in os.listdir(folder):
                path = osp.join(folder, name)
                label = np.array(Image.open(path))
                image = convert(label)
                if isinstance(image, np.ndarray):
                    image = Image.fromarray(image)
                os.remove(path)
                image.save(path[:-4] + suffix, quality=95)

    return edit


def _palette(label):
    image = Image.fromarray(label, 'L').convert('P')
    image.putpalette([(i * 37 + c * 91) % 256 for i in range(256)
                      for c in range(3)])
    return image


ADE_EDITS = dict(
    label_199=_ade_label_199, missing_label=_ade_missing_label,
    label_size=_ade_label_size, corrupt_image=_ade_corrupt_image,
    # label maps in other encodings: mmseg reads palette PNGs and 16-bit
    # values up to 255 as they are; RGB(A), grey + alpha, JPEG and 16-bit
    # values above 255 it would misread
    rgb=_relabel(lambda lab: np.stack([lab] * 3, -1)),
    rgba=_relabel(lambda lab: np.stack([lab] * 3 + [lab * 0 + 255], -1)),
    grey_alpha=_relabel(lambda lab: Image.fromarray(
        np.stack([lab, lab * 0 + 255], -1), 'LA')),
    palette=_relabel(_palette),
    i16=_relabel(lambda lab: lab.astype(np.uint16)),
    i16_300=_relabel(lambda lab: np.where(lab == 4, 300,
                                          lab.astype(np.uint16))),
    jpeg=_relabel(lambda lab: lab, suffix='.jpg'),
)


def seg_variant(ctx, name):
    config = ctx.ade_variant(name, ADE_EDITS[name])
    if name != 'jpeg':
        return config
    suffixes = ''.join(
        f'{split}_dataloader = dict(dataset=dict(seg_map_suffix=".jpg"))\n'
        for split in ('train', 'val', 'test'))
    return ctx.config('seg_jpeg_labels.py',
                      f'_base_ = [{config!r}]\n{suffixes}')


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


def _model(name, model):
    """train.py on the tiny det config with ``model`` merged in."""
    return lambda c, f, t: [c.config(
        name, f'_base_ = [{c.det!r}]\nmodel = dict({model})\n'),
        '--work-dir', t]


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
                                         'shape mismatch, not loaded (',
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
    # models (mmplug's backbones and necks in the tiny detector)
    ('train.py', _model('smt_no_outputs.py', "backbone=dict(_delete_=True, "
                        "type='mmplug.SMT', arch='tiny', out_indices=())"),
     ['cannot build SMT from the config', 'out_indices is empty']),
    ('train.py', _model('smt_arch.py', "backbone=dict(_delete_=True, "
                        "type='mmplug.SMT', arch='huge')"),
     ['cannot build SMT from the config', "'huge'", 'tiny']),
    ('train.py', _model('smt_channels.py', "backbone=dict(_delete_=True, "
                        "type='mmplug.SMT', arch='tiny', in_channels=4), "
                        "neck=dict(in_channels=[64, 128, 256, 512])"),
     ['SMT was built for in_channels=4', 'an input with 3 channels']),
    ('train.py', _model('neck_empty.py', "neck=dict(_delete_=True, "
                        "type='mmplug.DCAFPN', in_channels=[], "
                        "out_channels=32, num_outs=5)"),
     ['cannot build DCAFPN from the config', 'in_channels is empty']),
    ('train.py', _model('neck_level.py', "neck=dict(_delete_=True, "
                        "type='mmplug.FPT', in_channels=[16, 32, 64, 128], "
                        "out_channels=32, num_outs=5, start_level=7)"),
     ['cannot build FPT from the config', 'start_level=7 is out of range']),
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
    ('train.py', _variant('no_images'),
     ['train data: the annotation file', 'lists no images']),
    ('train.py', _variant('no_annotations'),
     ['has no annotations, so there is nothing to learn']),
    ('test.py', lambda c, f, t: [val_without_annotations(c), f['det.pth'],
                                 '--work-dir', t],
     ['test data:', 'has no annotations, so every COCO mAP would be -1',
      'test_evaluator.format_only=True']),
    ('train.py', _variant('truncated_image'),
     ['train2017/', 'cannot be decoded (a truncated or corrupt file)',
      'check_dataset.py CONFIG --deep']),
    # label maps mmseg would misread
    ('train.py', _seg_variant('rgb'),
     ['annotations/training/', '.png: a 3-channel (RGB) label map',
      'one channel of class indices']),
    ('test.py', _seg_variant('rgb', 'seg.pth'),
     ['annotations/validation/', 'a 3-channel (RGB) label map']),
    # channels that do not fit: found before anything is loaded
    ('train.py', _model('neck_channels.py',
                        'neck=dict(in_channels=[64, 128, 256, 512])'),
     ["model.neck.in_channels=[64, 128, 256, 512] does not fit the "
      "backbone's outputs (ResNet): 4 maps of [16, 32, 64, 128] channels",
      'set model.neck.in_channels=[16, 32, 64, 128]']),
    ('test.py', lambda c, f, t: [c.config(
        'neck_levels.py', f'_base_ = [{c.det!r}]\nmodel = dict(neck=dict('
        'in_channels=[16, 32, 64]))\n'), f['det.pth'], '--work-dir', t],
     ['set model.neck.in_channels=[16, 32, 64, 128] (or give the backbone '
      'out_indices that select 3 levels)']),
    ('train.py', _model('rpn_channels.py', 'rpn_head=dict(in_channels=256)'),
     ["model.rpn_head.in_channels=256 does not fit the neck's outputs "
      '(FPN): 5 maps of 32 channels; set model.rpn_head.in_channels=32']),
    ('train.py', _model('fpt_channels.py', "neck=dict(_delete_=True, "
                        "type='mmplug.FPT', in_channels=[64, 128, 256, 512],"
                        " out_channels=32, num_outs=5)"),
     ['set model.neck.in_channels=[16, 32, 64, 128]']),
    ('train.py', lambda c, f, t: [c.config(
        'uper_channels.py', f'_base_ = [{c.seg!r}]\nmodel = dict('
        'decode_head=dict(in_channels=[64, 128, 256, 512]))\n'),
        '--work-dir', t],
     ['set model.decode_head.in_channels=[16, 32, 64, 128]']),
    # a directory where a checkpoint file is expected
    ('test.py', lambda c, f, t: [c.det, t, '--work-dir', t],
     ['is a directory, not a checkpoint file; it holds no .pth file']),
    ('train.py', lambda c, f, t: [c.det, '--work-dir', t, '--resume',
                                  osp.dirname(f['det.pth'])],
     ['--resume: checkpoint', 'is a directory, not a checkpoint file; its '
      'newest checkpoint is', '--work-dir DIR --resume']),
    # a text with a comma in --cfg-options
    ('train.py', _opts('train_dataloader.dataset.data_root=/data/a,b/'),
     ['the comma made the value a list',
      'train_dataloader.dataset.data_root="\'/data/a,b/\'"']),
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


# ------------------------------------------------- tools/misc/check_dataset
# (config from ctx, problem kind reported, fragment of its line)
CHECKS = [
    (lambda c: det_variant(c, 'dup_image_id'), 'duplicate image id', ''),
    (lambda c: det_variant(c, 'dup_ann_id'), 'duplicate annotation id', ''),
    (lambda c: det_variant(c, 'unknown_category'),
     'annotation of an unknown category', 'category_id 99'),
    (lambda c: det_variant(c, 'unknown_image'),
     'annotation of an unknown image', 'image_id 12345'),
    (lambda c: det_variant(c, 'zero_box'), 'bad box', 'box of 0 x'),
    (lambda c: det_variant(c, 'outside_box'), 'bad box', 'outside the'),
    (lambda c: det_variant(c, 'empty_segmentation'), 'bad mask',
     'empty segmentation'),
    (lambda c: det_variant(c, 'degenerate_polygon'), 'bad mask',
     'degenerate polygon(s) of [4] coordinates'),
    (lambda c: det_variant(c, 'rle_size'), 'bad mask', 'RLE of size [7, 7]'),
    (lambda c: det_variant(c, 'wrong_size'), 'image size mismatch',
     'in the file'),
    (lambda c: det_variant(c, 'missing_image'), 'missing image', '.jpg'),
    (lambda c: det_variant(c, 'corrupt_image'), 'unreadable image', '.jpg'),
    (lambda c: det_variant(c, 'malformed_json'), 'unreadable annotation file',
     'malformed JSON at line 1'),
    (lambda c: c.config('hexagon_check.py', "_base_ = [%r]\n"
                        "train_dataloader = dict(dataset=dict(metainfo=dict("
                        "classes=('circle', 'hexagon'))))\n" % c.det),
     'unknown class name', "'hexagon'"),
    (lambda c: seg_variant(c, 'label_199'), 'label value out of range',
     'values [199]'),
    (lambda c: seg_variant(c, 'missing_label'), 'missing label map', '.png'),
    (lambda c: seg_variant(c, 'label_size'), 'image/label size mismatch',
     'label 10x10'),
    (lambda c: seg_variant(c, 'corrupt_image'), 'unreadable image', '.jpg'),
    (lambda c: det_variant(c, 'no_images'), 'no images', 'the file lists '
     'none'),
    (lambda c: det_variant(c, 'no_annotations'), 'no annotations',
     'filter_empty_gt'),
    (lambda c: det_variant(c, 'truncated_image'), 'unreadable image',
     'image file is truncated'),
    (lambda c: seg_variant(c, 'rgb'), 'label map with several channels',
     'a 3-channel (RGB) label map'),
    (lambda c: seg_variant(c, 'grey_alpha'),
     'label map with several channels', 'a 2-channel (LA) label map'),
    (lambda c: seg_variant(c, 'jpeg'), 'lossy (JPEG) label map',
     'a JPEG label map'),
    (lambda c: seg_variant(c, 'i16_300'), 'label values above 255',
     'where 300 becomes 44'),
]


@pytest.mark.parametrize('config, kind, fragment', CHECKS,
                         ids=[f'{k}:{f}' for _, k, f in CHECKS])
def test_check_dataset_reports(config, kind, fragment, ctx, run_tool):
    code, out, err = run_tool('misc/check_dataset.py',
                              [config(ctx), '--split', 'train', '--deep'])
    assert code == 1, out + err
    header = next(line for line in out.splitlines()
                  if line.startswith(f'[train] {kind}: '))
    cases = out.split(header, 1)[1]
    assert fragment in cases.split('[train]')[0], out


@pytest.mark.parametrize('config', ['det', 'seg'])
def test_check_dataset_clean(config, ctx, run_tool):
    code, out, err = run_tool('misc/check_dataset.py',
                              [getattr(ctx, config), '--deep'])
    assert code == 0, out + err
    assert out.strip().endswith('dataset is clean')
    assert '[val] same data as' in out or '[test] same data as' in out


# found from the files' headers and ends, without --deep (split, kind,
# fragment)
SHALLOW_CHECKS = [
    (lambda c: det_variant(c, 'truncated_image'), 'train', 'unreadable image',
     'image file is truncated'),
    (lambda c: seg_variant(c, 'rgb'), 'train',
     'label map with several channels', '3-channel (RGB)'),
    (lambda c: seg_variant(c, 'jpeg'), 'val', 'lossy (JPEG) label map',
     'JPEG compression'),
    (val_without_annotations, 'val', 'no annotations',
     'every COCO mAP would be -1'),
]


@pytest.mark.parametrize('config, split, kind, fragment', SHALLOW_CHECKS,
                         ids=[c[2] for c in SHALLOW_CHECKS])
def test_check_dataset_without_deep(config, split, kind, fragment, ctx,
                                    run_tool):
    code, out, err = run_tool('misc/check_dataset.py',
                              [config(ctx), '--split', split])
    assert code == 1, out + err
    header = next(line for line in out.splitlines()
                  if line.startswith(f'[{split}] {kind}: '))
    assert fragment in out.split(header, 1)[1], out


@pytest.mark.parametrize('config', [
    lambda c: det_variant(c, 'trailing_data'),
    lambda c: seg_variant(c, 'palette'),
    lambda c: seg_variant(c, 'i16'),
], ids=['jpeg with trailing data', 'palette labels', '16-bit labels'])
@pytest.mark.parametrize('deep', [False, True])
def test_check_dataset_clean_encodings(config, deep, ctx, run_tool):
    """Files mmdet and mmseg read correctly are not reported."""
    code, out, err = run_tool('misc/check_dataset.py', [config(ctx)] + (
        ['--deep'] if deep else []))
    assert code == 0, out + err
    assert out.strip().endswith('dataset is clean')


def test_check_dataset_missing_data(ctx, run_tool, tmp_path):
    config = ctx.det_config(str(tmp_path / 'nothing') + '/', 'det_none.py')
    code, out, err = run_tool('misc/check_dataset.py', [config])
    assert code == 2 and 'Traceback' not in err
    assert 'train data not found' in err and 'nothing/annotations' in err


# ------------------------------------------------------ correct results


def _runner(config, tmp_path, **options):
    from mmplug.apis.runner import _build_runner, build_train_cfg
    cfg = build_train_cfg(config, work_dir=str(tmp_path), **options)
    return _build_runner(cfg)


def _built(config, split='train'):
    """The guarded dataset of a split of a config file."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmplug.datasets import GuardedDataset
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return GuardedDataset(cfg[f'{split}_dataloader'].dataset)


def test_skipped_annotations_are_counted(ctx, monkeypatch):
    """Unknown category ids, an empty box and a box outside its image:
    mmdet drops them without a word; the warning counts exactly those."""
    from mmplug.datasets import wrappers
    logged = []
    monkeypatch.setattr(wrappers, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    config = det_variant(ctx, 'skipped')
    dataset = _built(config)
    ann_file = osp.join(ctx.root, 'variants', 'skipped', 'annotations',
                        'instances_train2017.json')
    with open(ann_file) as f:
        total = len(json.load(f)['annotations'])
    assert logged == [
        f'{ann_file}: mmdet skips 4 of its {total} annotations without a '
        "word: 1 with a box outside its image (annotation 4); 1 with an "
        'empty box (width or height under 1 pixel, or area 0) (annotation '
        "3); 2 with a category_id that is not among the file's categories "
        '(annotations 1, 2; category_id 77, 99) (tools/misc/check_dataset.py '
        'CONFIG --deep lists every problem)']
    kept = sum(len(dataset.get_data_info(i)['instances'])
               for i in range(len(dataset)))
    assert kept == total - 4
    # categories the config leaves out on purpose are not warned about
    logged.clear()
    _built(ctx.config('two_classes.py', f'_base_ = [{ctx.det!r}]\n'
                      'train_dataloader = dict(dataset=dict(metainfo=dict('
                      "classes=('circle', 'square'))))\n"))
    assert logged == []


@pytest.mark.parametrize('name, message', [
    ('rgba', 'a 4-channel (RGBA) label map: label maps must hold one '
     'channel of class indices'),
    ('grey_alpha', 'a 2-channel (LA) label map'),
    ('i16_300', 'a 16-bit label map with values up to 300: mmseg reads '
     'label maps as 8-bit, where 300 becomes 44'),
    ('jpeg', 'a JPEG label map: JPEG compression changes the label values '
     'along every region boundary; label maps must be saved losslessly, '
     'as PNG'),
])
def test_label_maps_mmseg_would_misread(name, message, ctx):
    """The rest of the family of RGB label maps (refused through the tools
    above): the first sample's label map is named with what is wrong."""
    from mmplug.errors import DatasetError
    dataset = _built(seg_variant(ctx, name))
    with pytest.raises(DatasetError) as err:
        dataset[0]
    label = dataset.get_data_info(0)['seg_map_path']
    assert str(err.value).startswith(f'{label}: {message}')


@pytest.mark.parametrize('name', ['palette', 'i16'])
def test_label_map_encodings_mmseg_reads(name, ctx):
    """A palette PNG (mmseg reads its indices, not its colours) and a
    16-bit PNG with values up to 255 give the labels of the 8-bit PNG."""
    config = seg_variant(ctx, name)
    label = _first_label(osp.join(ctx.root, 'variants', f'ade_{name}'),
                         'validation')
    assert Image.open(label).mode == {'palette': 'P', 'i16': 'I;16'}[name]
    got, expected = (_built(c, 'val')[0]['data_samples'].gt_sem_seg.data
                     for c in (config, ctx.seg))
    assert torch.equal(got, expected)


def _tuple_values(node, path=''):
    """(path, value) of every key of TUPLE_KEYS or TUPLE_LIST_KEYS under a
    config dict."""
    from mmplug.apis.config import TUPLE_KEYS, TUPLE_LIST_KEYS
    items = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, (list, tuple)) else ()
    found = []
    for key, value in items:
        if key in TUPLE_KEYS | TUPLE_LIST_KEYS:
            found.append((f'{path}{key}', value))
        else:
            found += _tuple_values(value, f'{path}{key}.')
    return found


@pytest.mark.parametrize('config', ['det', 'seg'])
def test_config_saved_as_json_runs(config, ctx, tmp_path):
    """JSON has no tuples: the transforms' sizes come back as lists, which
    mmcv's Resize refused at the first image ("Scale must be a number or
    tuple of int"). They are read as the tuples they were."""
    from mmplug.apis.config import load_config
    original = load_config(getattr(ctx, config))
    path = str(tmp_path / f'{config}.json')
    original.dump(path)
    with open(path) as f:
        assert '"scale": [' in f.read()
    loaded = load_config(path)
    expected = _tuple_values(original.to_dict())
    assert len(expected) >= 3
    assert _tuple_values(loaded.to_dict()) == expected
    sample = _built(loaded)[0]
    assert sample['inputs'].shape[0] == 3


def test_cfg_options_keep_spaces(ctx, run_tool):
    """A data root with a space given in --cfg-options is used as it is
    (mmengine's DictAction removed every space)."""
    root = osp.join(ctx.root, 'with space', 'coco')
    if not osp.isdir(root):
        shutil.copytree(ctx.coco, root)
    code, out, err = run_tool('misc/check_dataset.py', [
        ctx.det, '--split', 'train', '--cfg-options',
        f'train_dataloader.dataset.data_root={root}/'])
    assert code == 0, out + err
    assert f'{root}/annotations/instances_train2017.json: 8 images' in out


def test_degenerate_polygon_trains_with_a_warning(ctx, run_tool, tmp_path):
    config = det_variant(ctx, 'degenerate_polygon')
    code, out, err = run_tool('train.py', [
        config, '--work-dir', tmp_path, '--cfg-options',
        'train_cfg.max_epochs=1', 'train_cfg.val_begin=2'])
    assert code == 0, err[-2000:]
    assert 'polygon(s) with fewer than 3 points' in out + err
    assert 'train2017/' in out + err


def test_ddp_prefixed_checkpoint_loads(ctx, files, tmp_path):
    runner = _runner(ctx.det, tmp_path)
    runner.load_checkpoint(files['det_module.pth'])
    expected = torch.load(files['det_sd.pth'])
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_partial_load_on_purpose(ctx, files, tmp_path):
    runner = _runner(ctx.det, tmp_path, partial_load=True)
    before = runner.model.state_dict()
    runner.load_checkpoint(files['det_classes.pth'])
    other = torch.load(files['det_classes.pth'])['state_dict']
    after = runner.model.state_dict()
    fc = 'roi_head.bbox_head.fc_cls.weight'
    assert torch.equal(after[fc], before[fc])  # wrong shape: kept
    shared = 'backbone.layer1.0.conv1.weight'
    assert torch.equal(after[shared], other[shared])  # the rest: loaded


def test_loader_log_names_the_backend(ctx, files, tmp_path, capsys):
    from mmengine.logging import MMLogger
    from mmengine.runner.checkpoint import CheckpointLoader
    import mmplug.models  # noqa: F401
    MMLogger.get_instance('loader-log')
    CheckpointLoader.load_checkpoint(files['det.pth'])
    captured = capsys.readouterr()
    assert 'Loads checkpoint by local backend' in captured.out + captured.err


def test_resume_finds_the_newest_complete_checkpoint(tmp_path):
    from mmplug.engine.runner import latest_checkpoint
    for i, name in enumerate(('epoch_1.pth', 'epoch_2.pth')):
        (tmp_path / name).write_bytes(b'x')
        os.utime(tmp_path / name, (1000 + i, 1000 + i))
    (tmp_path / 'epoch_3.pth.tmp999999').write_bytes(b'half')
    (tmp_path / 'last_checkpoint').write_text('')  # killed while writing it
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')


def test_stale_temporaries_go_live_ones_stay(tmp_path):
    from mmplug.checkpoint import remove_stale_temporaries
    dead = tmp_path / 'epoch_2.pth.tmp999999'
    mine = tmp_path / f'epoch_3.pth.tmp{os.getpid()}'
    dead.write_bytes(b'half')
    mine.write_bytes(b'being written')
    assert remove_stale_temporaries(str(tmp_path)) == [str(dead)]
    assert mine.exists() and not dead.exists()


def test_pretrained_that_matches_only_counters_is_refused(tmp_path):
    from mmplug.checkpoint import CheckpointMismatchError, load_pretrained
    from mmplug.models import SCSCResNet
    model = SCSCResNet(depth=50)
    # a ResNet-50 shares only BatchNorm counters' names with SCSC-ResNet
    state = {k: v for k, v in model.state_dict().items()
             if k.endswith('num_batches_tracked')}
    state.update({'layer1.0.conv1.weight': torch.zeros(64, 64, 1, 1),
                  'fc.weight': torch.zeros(1000, 2048)})
    path = tmp_path / 'r50.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointMismatchError,
                       match='none of its keys match'):
        load_pretrained(model, str(path))
    with pytest.raises(CheckpointMismatchError,
                       match="starts with prefix 'backbone.'"):
        load_pretrained(model, str(path), prefix='backbone')


def test_tta_model_loads_its_checkpoint(ctx, files, tmp_path):
    """mmseg's TTA wrapper holds the model as ``module``: the key check
    looks through it, as mmengine's loading does."""
    from mmplug.apis.runner import _build_runner, build_test_cfg
    runner = _build_runner(build_test_cfg(ctx.seg, files['seg.pth'],
                                          work_dir=str(tmp_path), tta=True))
    assert type(runner.model).__name__ == 'SegTTAModel'
    runner.load_checkpoint(files['seg.pth'])
    expected = torch.load(files['seg.pth'])['state_dict']
    loaded = runner.model.module.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())


@pytest.mark.parametrize('neck', ['FPT', 'DCAFPN'])
def test_necks_on_an_empty_batch(neck):
    """The backbones return empty maps for N = 0; so do the necks."""
    from mmplug.registry import MODELS
    import mmplug.models  # noqa: F401
    model = MODELS.build(dict(type=f'mmplug.{neck}',
                              in_channels=[16, 32, 64, 128],
                              out_channels=16, num_outs=5)).eval()
    feats = [torch.rand(0, c, 64 // 2**i, 80 // 2**i)
             for i, c in enumerate([16, 32, 64, 128])]
    with torch.no_grad():
        outs = model(feats)
    assert [tuple(o.shape) for o in outs] == [
        (0, 16, 64, 80), (0, 16, 32, 40), (0, 16, 16, 20), (0, 16, 8, 10),
        (0, 16, 4, 5)]
