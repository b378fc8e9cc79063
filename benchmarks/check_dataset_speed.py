"""How long the dataset checks take on a COCO-sized dataset.

Writes a synthetic COCO train2017-sized annotation file (118,287 images,
860,001 polygon annotations of 16 points, 80 categories: about the real
file's size) whose images are hard links to one small JPEG, then times:

- the cheap check ``tools/train.py`` runs before training (paths and class
  names: only the file's ``categories`` are read), and
- ``check_dataset`` (the whole file parsed and checked, every image header
  read), as ``tools/misc/check_dataset.py CONFIG --split train`` runs it.

    python benchmarks/check_dataset_speed.py [--scale 1.0] [--keep DIR]
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402

from mmplug.datasets.check import (check_config_data,  # noqa: E402
                                   check_dataset)

IMAGES, ANNOTATIONS, CATEGORIES = 118_287, 860_001, 80


def make(root: str, scale: float) -> str:
    """Write the dataset under ``root``; return its config file."""
    from PIL import Image
    rng = random.Random(0)
    images = int(IMAGES * scale)
    annotations = int(ANNOTATIONS * scale)
    img_dir = osp.join(root, 'train2017')
    os.makedirs(img_dir)
    os.makedirs(osp.join(root, 'annotations'))
    picture = Image.new('RGB', (640, 480), (90, 120, 150))
    data = dict(images=[], annotations=[], categories=[
        dict(id=i + 1, name=f'class{i}', supercategory='x')
        for i in range(CATEGORIES)])
    for i in range(images):
        name = f'{i:012d}.jpg'
        source = osp.join(root, f'source{i // 60000}.jpg')  # links per file
        if i % 60000 == 0:  # are limited (ext4: 65000)
            picture.save(source)
        os.link(source, osp.join(img_dir, name))
        data['images'].append(dict(id=i, file_name=name, width=640,
                                   height=480))
    for i in range(annotations):
        x, y = rng.uniform(0, 500), rng.uniform(0, 350)
        w, h = rng.uniform(5, 130), rng.uniform(5, 120)
        poly = [round(v, 2) for k in range(16) for v in (
            x + w * rng.random(), y + h * rng.random())]
        data['annotations'].append(dict(
            id=i + 1, image_id=rng.randrange(images),
            category_id=rng.randint(1, CATEGORIES), iscrowd=0,
            area=round(w * h, 2), bbox=[round(x, 2), round(y, 2),
                                        round(w, 2), round(h, 2)],
            segmentation=[poly]))
    ann = osp.join(root, 'annotations', 'instances_train2017.json')
    with open(ann, 'w') as f:
        json.dump(data, f)
    config = osp.join(root, 'config.py')
    classes = tuple(c['name'] for c in data['categories'])
    with open(config, 'w') as f:
        f.write(
            "default_scope = 'mmdet'\n"
            "custom_imports = dict(imports=['mmdet.datasets'], "
            'allow_failed_imports=False)\n'
            'train_dataloader = dict(dataset=dict(type="CocoDataset", '
            f'data_root={root + "/"!r}, '
            "ann_file='annotations/instances_train2017.json', "
            "data_prefix=dict(img='train2017/'), "
            f'metainfo=dict(classes={classes!r})))\n')
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=1.0,
                        help='fraction of COCO train2017 to synthesise')
    parser.add_argument('--keep', help='write the dataset here and keep it')
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix='coco_sized_')
    start = time.perf_counter()
    config = make(osp.join(root, 'coco'), args.scale)
    ann = osp.join(root, 'coco', 'annotations', 'instances_train2017.json')
    print(f'wrote {ann}: {osp.getsize(ann) / 2**20:.0f} MiB in '
          f'{time.perf_counter() - start:.1f} s')
    cfg = Config.fromfile(config)
    start = time.perf_counter()
    check_config_data(cfg, ['train'])
    print(f'cheap check (paths, class names): '
          f'{time.perf_counter() - start:.2f} s')
    start = time.perf_counter()
    report = check_dataset(cfg, 'train')
    print(f'check_dataset (whole file, image headers): '
          f'{time.perf_counter() - start:.1f} s, '
          f'{len(report.problems)} problem(s)')
    print(report.format(3))
    if not args.keep:
        import shutil
        shutil.rmtree(root)


if __name__ == '__main__':
    main()
