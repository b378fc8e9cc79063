"""Tests of the deterministic synthetic demo-data generator."""
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmplug.datasets import (DEMO_ADE_CLASSES, DEMO_ADE_LABEL_IDS,
                             DEMO_COCO_CLASSES, make_demo_data)

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'misc' / 'make_demo_data.py'
NUM_TRAIN, NUM_VAL = 20, 4
ADE_ROOT = Path('ade') / 'ADEChallengeData2016'


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """A dataset large enough to contain polygon and RLE masks."""
    root = tmp_path_factory.mktemp('demo')
    summary = make_demo_data(root, num_train=NUM_TRAIN, num_val=NUM_VAL)
    return root, summary


def _load_coco(root: Path, split: str) -> COCO:
    return COCO(str(root / 'coco' / 'annotations' /
                    f'instances_{split}2017.json'))


def _ade_pairs(root: Path, split: str):
    folder = 'training' if split == 'train' else 'validation'
    imgs = sorted((root / ADE_ROOT / 'images' / folder).glob('*.jpg'))
    return [(p, root / ADE_ROOT / 'annotations' / folder / f'{p.stem}.png')
            for p in imgs]


def _boxes_overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return (min(ax + aw, bx + bw) > max(ax, bx)
            and min(ay + ah, by + bh) > max(ay, by))


def test_layout_and_summary(demo):
    root, summary = demo
    assert summary['skipped'] is False
    assert (root / 'demo_meta.json').is_file()
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        ann_file = (root / 'coco' / 'annotations' /
                    f'instances_{split}2017.json')
        assert ann_file.is_file()
        assert summary['coco'][split]['ann_file'] == str(ann_file)
        jpgs = sorted((root / 'coco' / f'{split}2017').glob('*.jpg'))
        assert len(jpgs) == num == summary['coco'][split]['num_images']
        pairs = _ade_pairs(root, split)
        assert len(pairs) == num == summary['ade'][split]['num_images']
        assert all(png.is_file() for _, png in pairs)
        folder = 'training' if split == 'train' else 'validation'
        assert len(list((root / ADE_ROOT / 'annotations' /
                         folder).glob('*.png'))) == num
    assert summary['coco']['data_root'] == str(root / 'coco')
    assert summary['ade']['data_root'] == str(root / ADE_ROOT)


def test_coco_annotations_match_masks(demo):
    root, summary = demo
    for split in ('train', 'val'):
        coco = _load_coco(root, split)
        cats = coco.loadCats(coco.getCatIds())
        assert [(c['id'], c['name']) for c in cats] == list(
            enumerate(DEMO_COCO_CLASSES, start=1))
        assert len(coco.getAnnIds()) == summary['coco'][split][
            'num_instances']
        for img_id, info in coco.imgs.items():
            h, w = info['height'], info['width']
            assert 256 <= h <= 320 and 256 <= w <= 320
            assert h % 8 == 0 and w % 8 == 0
            img = cv2.imread(
                str(root / 'coco' / f'{split}2017' / info['file_name']))
            assert img.shape == (h, w, 3)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            assert 1 <= len(anns) <= 5
            for ann in anns:
                assert ann['iscrowd'] == 0
                assert 1 <= ann['category_id'] <= len(DEMO_COCO_CLASSES)
                mask = coco.annToMask(ann)
                assert mask.shape == (h, w)
                assert mask.sum() >= 32
                assert ann['area'] == pytest.approx(float(mask.sum()))
                ys, xs = np.nonzero(mask)
                x, y, bw, bh = ann['bbox']
                assert all(isinstance(v, float) for v in ann['bbox'])
                assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
                extent = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
                np.testing.assert_allclose((x, y, x + bw, y + bh),
                                           extent,
                                           atol=1)
                seg = ann['segmentation']
                if isinstance(seg, list):
                    assert seg and all(
                        len(p) >= 6 and len(p) % 2 == 0 for p in seg)
                else:
                    assert seg['size'] == [h, w]
                    assert isinstance(seg['counts'], str)


def test_polygon_and_rle_masks_present(demo):
    root, summary = demo
    anns = _load_coco(root, 'train').dataset['annotations']
    num_poly = sum(isinstance(a['segmentation'], list) for a in anns)
    num_rle = sum(isinstance(a['segmentation'], dict) for a in anns)
    assert num_poly > 0 and num_rle > 0
    assert summary['coco']['train']['num_polygon'] == num_poly
    assert summary['coco']['train']['num_rle'] == num_rle


def test_occlusion_happens(demo):
    root, _ = demo
    coco = _load_coco(root, 'train')
    per_image = defaultdict(list)
    for ann in coco.dataset['annotations']:
        per_image[ann['image_id']].append(ann)
    overlapping_images = 0
    for anns in per_image.values():
        pairs = [(a, b) for i, a in enumerate(anns) for b in anns[i + 1:]
                 if _boxes_overlap(a['bbox'], b['bbox'])]
        overlapping_images += bool(pairs)
        # an RLE (occluded) instance must overlap some other instance
        for ann in anns:
            if isinstance(ann['segmentation'], dict):
                assert any(
                    _boxes_overlap(ann['bbox'], other['bbox'])
                    for other in anns if other is not ann)
        # visible masks of one image never overlap each other
        masks = np.stack([coco.annToMask(a) for a in anns])
        assert masks.sum(axis=0).max() == 1
    assert overlapping_images >= 2


def _mask_box(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return (xs.min(), ys.min(), xs.max() - xs.min() + 1,
            ys.max() - ys.min() + 1)


def test_annotations_follow_visible_masks(demo):
    """Re-draw the shapes with the generator internals and compare."""
    from mmplug.datasets import demo as demo_module

    root, _ = demo
    coco = _load_coco(root, 'train')
    full_box_overlaps = 0
    for index in range(NUM_TRAIN):
        rng = demo_module._image_rng(0, 'coco', 'train', index)
        h, w = demo_module._draw_image_size(rng, (256, 320))
        _, instances = demo_module._make_instance_image(rng, h, w)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=index + 1))
        assert len(anns) == len(instances)
        for ann, inst in zip(anns, instances):
            assert ann['category_id'] == inst.category_id
            fraction = inst.visible_area / inst.full_area
            assert fraction >= 0.3 and inst.visible_area >= 64
            mask = coco.annToMask(ann).astype(bool)
            if isinstance(ann['segmentation'], dict):
                np.testing.assert_array_equal(mask, inst.visible)
            else:
                assert fraction >= 0.95
                iou = (mask & inst.visible).sum() / (mask | inst.visible).sum()
                assert iou > 0.97
                np.testing.assert_allclose(
                    ann['bbox'], _mask_box(inst.visible), atol=1)
        full_boxes = [_mask_box(inst.full) for inst in instances]
        full_box_overlaps += sum(
            _boxes_overlap(a, b) for i, a in enumerate(full_boxes)
            for b in full_boxes[i + 1:])
    assert full_box_overlaps > 0


def test_deterministic(tmp_path):
    kwargs = dict(num_train=6, num_val=3, seed=3)
    make_demo_data(tmp_path / 'a', **kwargs)
    make_demo_data(tmp_path / 'b', **kwargs)
    files_a = sorted(p.relative_to(tmp_path / 'a')
                     for p in (tmp_path / 'a').rglob('*') if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / 'b')
                     for p in (tmp_path / 'b').rglob('*') if p.is_file())
    assert files_a == files_b
    # coco: 9 jpg + 2 json, ade: 9 jpg + 9 png, demo_meta.json
    assert len(files_a) == (6 + 3) + 2 + 2 * (6 + 3) + 1
    for rel in files_a:
        assert (tmp_path / 'a' / rel).read_bytes() == (tmp_path / 'b' /
                                                       rel).read_bytes(), rel

    # another seed gives other data
    make_demo_data(tmp_path / 'c', num_train=6, num_val=3, seed=4)
    rel = Path('coco/annotations/instances_train2017.json')
    assert (tmp_path / 'a' / rel).read_bytes() != (tmp_path / 'c' /
                                                   rel).read_bytes()


def test_ade_labels(demo):
    root, _ = demo
    allowed = {0, *DEMO_ADE_LABEL_IDS}
    seen = set()
    for split in ('train', 'val'):
        for img_path, png_path in _ade_pairs(root, split):
            img = cv2.imread(str(img_path))
            label = cv2.imread(str(png_path), cv2.IMREAD_UNCHANGED)
            assert label.ndim == 2 and label.dtype == np.uint8
            assert label.shape == img.shape[:2]
            values = set(np.unique(label).tolist())
            assert values <= allowed
            assert np.count_nonzero(label) / label.size > 0.85
            seen |= values
    assert seen == allowed  # every class appears somewhere


def test_ade_label_ids_match_mmseg():
    from mmseg.datasets import ADE20KDataset
    ade_classes = list(ADE20KDataset.METAINFO['classes'])
    assert len(DEMO_ADE_CLASSES) == len(DEMO_ADE_LABEL_IDS) == 5
    for name, label_id in zip(DEMO_ADE_CLASSES, DEMO_ADE_LABEL_IDS):
        assert ade_classes.index(name) + 1 == label_id


def test_mmdet_coco_dataset_loads(demo):
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets import CocoDataset
    from mmdet.datasets.transforms import LoadAnnotations

    root, _ = demo
    coco = _load_coco(root, 'train')
    dataset = CocoDataset(
        data_root=str(root / 'coco'),
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=DEMO_COCO_CLASSES),
        pipeline=[
            LoadImageFromFile(),
            LoadAnnotations(with_bbox=True, with_mask=True)
        ])
    assert len(dataset) == NUM_TRAIN
    assert tuple(dataset.metainfo['classes']) == DEMO_COCO_CLASSES
    assert dataset.cat_ids == [1, 2, 3, 4]
    for idx in (0, 1, NUM_TRAIN - 1):
        results = dataset[idx]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=results['img_id']))
        assert results['img'].shape[:2] == (results['height'],
                                            results['width'])
        assert len(results['gt_bboxes']) == len(anns)
        assert not results['gt_ignore_flags'].any()
        np.testing.assert_array_equal(results['gt_bboxes_labels'],
                                      [a['category_id'] - 1 for a in anns])
        np.testing.assert_allclose(results['gt_masks'].areas,
                                   [a['area'] for a in anns])
        expected_boxes = [[x, y, x + w, y + h]
                          for x, y, w, h in (a['bbox'] for a in anns)]
        np.testing.assert_allclose(
            results['gt_bboxes'].numpy(), expected_boxes, atol=1e-4)


@pytest.mark.filterwarnings(
    "ignore:`reduce_zero_label` will be deprecated:UserWarning")
def test_mmseg_ade_dataset_loads(demo):
    from mmcv.transforms import LoadImageFromFile
    from mmseg.datasets import ADE20KDataset
    from mmseg.datasets.transforms import LoadAnnotations

    root, _ = demo
    dataset = ADE20KDataset(
        data_root=str(root / ADE_ROOT),
        data_prefix=dict(
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        metainfo=dict(classes=DEMO_ADE_CLASSES),
        pipeline=[LoadImageFromFile(),
                  LoadAnnotations(reduce_zero_label=True)])
    assert len(dataset) == NUM_VAL
    assert tuple(dataset.metainfo['classes']) == DEMO_ADE_CLASSES
    # expected training labels: class i of DEMO_ADE_CLASSES -> i, else 255
    lut = np.full(256, 255, np.uint8)
    for i, label_id in enumerate(DEMO_ADE_LABEL_IDS):
        lut[label_id] = i
    for idx in range(len(dataset)):
        results = dataset[idx]
        seg = results['gt_seg_map']
        assert set(np.unique(seg).tolist()) <= {255, *range(5)}
        raw = cv2.imread(results['seg_map_path'], cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(seg, lut[raw])
        assert results['img'].shape[:2] == seg.shape
        assert np.mean(seg != 255) > 0.85


def test_existing_output(tmp_path):
    root = tmp_path / 'out'
    first = make_demo_data(root, num_train=2, num_val=1)
    assert first['skipped'] is False
    ann_file = root / 'coco' / 'annotations' / 'instances_train2017.json'
    mtime = ann_file.stat().st_mtime_ns

    # same arguments: nothing is regenerated
    again = make_demo_data(root, num_train=2, num_val=1)
    assert again['skipped'] is True
    assert again['coco']['train']['num_instances'] == first['coco']['train'][
        'num_instances']
    assert ann_file.stat().st_mtime_ns == mtime

    # other arguments without overwrite: clear error
    with pytest.raises(FileExistsError, match='overwrite') as err:
        make_demo_data(root, num_train=3, num_val=1)
    assert str(root) in str(err.value)

    # overwrite regenerates our folders only
    (root / 'keep.txt').write_text('user file')
    third = make_demo_data(root, num_train=3, num_val=1, overwrite=True)
    assert third['skipped'] is False
    assert third['coco']['train']['num_images'] == 3
    assert len(list((root / 'coco' / 'train2017').glob('*.jpg'))) == 3
    assert (root / 'keep.txt').read_text() == 'user file'
    meta = json.loads((root / 'demo_meta.json').read_text())
    assert meta['args']['num_train'] == 3

    # foreign content in coco/ without a matching meta file is not touched
    other = tmp_path / 'other'
    (other / 'coco').mkdir(parents=True)
    (other / 'coco' / 'mine.json').write_text('{}')
    with pytest.raises(FileExistsError):
        make_demo_data(other, num_train=2, num_val=1)
    assert (other / 'coco' / 'mine.json').read_text() == '{}'


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        make_demo_data(tmp_path / 'x', num_train=-1)
    with pytest.raises(ValueError):
        make_demo_data(tmp_path / 'x', img_size=(300, 200))


def _run_cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    return subprocess.run([sys.executable, str(CLI), *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)


@pytest.mark.e2e
def test_cli_help():
    proc = _run_cli('--help', cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    for option in ('--out', '--num-train', '--num-val', '--seed', '--size',
                   '--overwrite'):
        assert option in proc.stdout


@pytest.mark.e2e
def test_cli_generates(tmp_path):
    # run from another folder: the script must find mmplug by itself
    out = tmp_path / 'cli_out'
    proc = _run_cli('--out', str(out), '--num-train', '2', '--num-val', '1',
                    '--size', '64', '96', cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'train: 2 images' in proc.stdout
    assert str(out / 'coco' / 'annotations' /
               'instances_train2017.json') in proc.stdout
    coco = json.loads((out / 'coco' / 'annotations' /
                       'instances_val2017.json').read_text())
    assert len(coco['images']) == 1
    assert all(64 <= im['height'] <= 96 for im in coco['images'])

    # different arguments without --overwrite: error exit status
    proc = _run_cli('--out', str(out), '--num-train', '3', cwd=tmp_path)
    assert proc.returncode != 0
    assert '--overwrite' in proc.stderr
