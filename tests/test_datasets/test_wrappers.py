"""What GuardedDataset says about the annotations mmdet's COCO parsing skips
without a word: exactly those mmdet skips, each with its reason."""
import json

import pytest
from mmengine.registry import DefaultScope

from mmplug.datasets import wrappers
from mmplug.datasets.wrappers import GuardedDataset

IMAGE = dict(id=1, file_name='a.jpg', width=100, height=80)

# (bbox, extra keys, the reason mmdet skips it or None: kept)
ANNOTATIONS = [
    ([10, 10, 20, 20], {}, None),
    ([90, 70, 30, 30], {}, None),                 # partly outside: kept
    ([-5, -5, 10, 10], {}, None),
    ([10, 10, 0.5, 20], {}, 'empty'),             # under a pixel wide
    ([10, 10, 20, 0], {}, 'empty'),
    ([10, 10, 20, 20], dict(area=0), 'empty'),
    ([150, 10, 20, 20], {}, 'outside'),           # right of the image
    ([-30, 10, 20, 20], {}, 'outside'),           # left of it
    ([10, 10, 20, 20], dict(category_id=9), 'category'),
    ([10, 10, 20, 20], dict(ignore=True), None),  # skipped on purpose
    ([10, 10, 20, 20], dict(category_id=2), None),  # a class left out
]


@pytest.fixture
def ann_file(tmp_path):
    anns = []
    for i, (bbox, extra, _) in enumerate(ANNOTATIONS):
        ann = dict(id=i + 1, image_id=1, category_id=1, bbox=bbox,
                   area=bbox[2] * bbox[3], iscrowd=0)
        ann.update(extra)
        anns.append(ann)
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(dict(
        images=[IMAGE], annotations=anns,
        categories=[dict(id=1, name='a'), dict(id=2, name='b')])))
    return str(path)


def test_skipped_annotations_are_mmdets(ann_file, monkeypatch):
    logged = []
    monkeypatch.setattr(wrappers, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = GuardedDataset(dict(
            type='CocoDataset', ann_file=ann_file, data_prefix=dict(img=''),
            metainfo=dict(classes=('a', )), pipeline=[]))
    kept = dataset.get_data_info(0)['instances']
    expected = [a for a in ANNOTATIONS if a[2] is None]
    # what mmdet kept: the annotations of class 'a', not ignored, not
    # skipped (the ignored one and class 'b' are left out on purpose)
    assert len(kept) == len(expected) - 2
    [message] = logged
    reasons = [a[2] for a in ANNOTATIONS if a[2]]
    assert f'mmdet skips {len(reasons)} of its {len(ANNOTATIONS)} ' \
        'annotations without a word' in message
    assert '2 with a box outside its image (annotations 7, 8)' in message
    assert '3 with an empty box (width or height under 1 pixel, or area ' \
        '0) (annotations 4, 5, 6)' in message
    assert "1 with a category_id that is not among the file's categories " \
        '(annotation 9; category_id 9)' in message


def test_parsing_is_restored_after_the_build(ann_file):
    from mmdet.datasets import CocoDataset
    before = CocoDataset.parse_data_info
    with DefaultScope.overwrite_default_scope('mmdet'):
        GuardedDataset(dict(type='CocoDataset', ann_file=ann_file,
                            data_prefix=dict(img=''), pipeline=[]))
    assert CocoDataset.parse_data_info is before
    assert 'parse_data_info' in CocoDataset.__dict__
