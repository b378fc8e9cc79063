"""The model index: the metafiles list every config once, hold the papers'
numbers with their sources (the demo's results apart), give the figures
get_flops measures in the papers' FLOP convention, and generate the
per-family READMEs; tools/misc/update_model_index.py keeps the hand-written
fields and regenerates the rest."""
import os.path as osp

import pytest
import torch
import yaml

from mmplug.apis.analysis import _DummyRoIHeads, flop_analyzer
from mmplug.apis.config import load_config
from mmplug.apis.model_index import (DEMO_RESULTS, METRIC_TASKS,
                                     ModelIndexError, check_model_index,
                                     index_files, list_configs, load_models,
                                     measure_config, metafile_paths,
                                     paper_metrics, render_family,
                                     update_metafiles, write_index)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
INDEX = osp.join(REPO, 'model-index.yml')
MODELS = {m['Config']: m for m in load_models(INDEX)}
DEMO = {m['Config']: m for m in load_models(osp.join(REPO, DEMO_RESULTS))}
#: Cheap configs whose figures are measured again here: a two-stage and a
#: one-stage detector (the segmentors run at 512x2048 and cost more).
SAMPLE = ['configs/demo/mask-rcnn_r18_fpn_demo.py',
          'configs/mobilenext/retinanet_mobilenext_fpn_1x_coco.py']


def test_every_config_is_listed_once_and_the_readmes_are_current():
    assert len(MODELS) + len(DEMO) == len(list_configs(REPO)) > 50
    assert check_model_index(REPO) == []


def test_demo_results_live_apart_from_the_papers_numbers():
    with open(INDEX) as f:
        imports = yaml.safe_load(f)['Import']
    assert DEMO_RESULTS not in imports
    assert sorted(imports) == [p for p in metafile_paths(REPO)
                               if p != DEMO_RESULTS]
    assert set(DEMO) == {f'configs/{c}' for c in list_configs(REPO)
                         if c.startswith('demo/')}
    assert not any(c.startswith('configs/demo/') for c in MODELS)


def test_results_have_sources_and_known_metrics():
    for model in list(MODELS.values()) + list(DEMO.values()):
        source = model['Results Source']
        metrics = paper_metrics(model)
        assert set(metrics) <= set(METRIC_TASKS), model['Name']
        if not metrics:
            no_result = model['_collection']['No Result']
            assert source == no_result or 'no official number' in source, \
                model['Name']
            continue
        assert source != model['_collection']['No Result'], model['Name']
        for result in model['Results']:
            assert result['Dataset'] == model['Metadata']['Training Data']
        complexity = model.get('Paper Complexity')
        if complexity:
            assert set(complexity) == {'Parameters', 'FLOPs', 'Source'}


def test_collections_cite_their_papers():
    for rel in metafile_paths(REPO):
        with open(osp.join(REPO, rel)) as f:
            collection = yaml.safe_load(f)['Collections'][0]
        assert collection['README'] == f'{osp.dirname(rel)}/README.md'
        assert collection['Summary']
        if rel != DEMO_RESULTS:
            assert collection['Citation'].lstrip().startswith('@'), rel
            assert collection['Citation'].count('{') == \
                collection['Citation'].count('}'), rel


@pytest.mark.parametrize('config', SAMPLE)
def test_measured_figures_equal_get_flops(config):
    measured = measure_config(osp.join(REPO, config))
    metadata = {**MODELS, **DEMO}[config]['Metadata']
    assert {key: metadata[key] for key in measured} == measured
    if 'retinanet' in config:  # one stage: only the attention products
        assert measured['FLOPs'] == measured['FLOPs (full count)'] - \
            measured['Attention FLOPs']


def test_papers_flops_run_1000_proposals_and_100_masks(tmp_path):
    """mmdet 2.x's forward_dummy on a Cascade Mask R-CNN: every stage's box
    head on the same 1000 proposals, every mask head on the first 100 (an
    mmdet 3.x Cascade forward runs the masks on all proposals)."""
    path = tmp_path / 'cascade.py'
    path.write_text("""\
_base_ = ['mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py']
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=16),
        bbox_head=[dict(type='Shared2FCBBoxHead', in_channels=16,
                        fc_out_channels=32, num_classes=80)] * 3,
        mask_roi_extractor=dict(out_channels=16),
        mask_head=dict(in_channels=16, conv_out_channels=8)))
""")
    cfg = load_config(str(path))
    from mmplug.apis.analysis import build_model
    model = build_model(cfg)
    feats = tuple(model.extract_feat(torch.rand(1, 3, 64, 96)))
    heads = _DummyRoIHeads(model.roi_head, (64, 96)).eval()
    analyzer = flop_analyzer(heads, feats)
    with torch.no_grad():
        by_module = analyzer.by_module()
    for stage in range(3):
        head = f'roi_head.bbox_head.{stage}'
        # shared fc 16*7*7 -> 32 on each of the 1000 proposals
        assert by_module[f'{head}.shared_fcs.0'] == 1000 * 16 * 49 * 32
        mask = f'roi_head.mask_head.{stage}'
        # 1x1 logits 8 -> 80 classes on 28x28 for each of 100 proposals
        assert by_module[f'{mask}.conv_logits'] == 100 * 8 * 80 * 28 * 28


def test_mmengine_reads_the_index():
    """mmengine's own reader of ``<package>/.mim/model-index.yml`` (used for
    ``mmplug::`` names and mmengine.hub) finds our entries."""
    from mmengine.config.utils import _get_cfg_metainfo

    from mmplug.mim import PACKAGE_DIR
    rel = 'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
    entry = _get_cfg_metainfo(PACKAGE_DIR, rel)
    assert entry['Name'] == 'mask-rcnn_r50_fpn_1x_coco'
    assert paper_metrics(entry) == paper_metrics(MODELS[f'configs/{rel}'])


# --------------------------------------------------------------------------
# update_model_index on a small repository
# --------------------------------------------------------------------------
CONFIG = """\
default_scope = 'mmdet'
model = dict(type='MaskRCNN', backbone=dict(type='ResNet', init_cfg=None),
             roi_head=dict(mask_head=dict(type='FCNMaskHead')))
train_dataloader = dict(batch_size=2,
                        dataset=dict(type='CocoDataset', data_root='x'))
train_cfg = dict(max_epochs=12)
auto_scale_lr = dict(base_batch_size=16)
"""
METAFILE = """\
Collections:
  - Name: Toy
    Paper: {Title: Toy, URL: 'https://example.org'}
    Summary: A toy family.
    No Result: no official number for this config
    Citation: |-
      @article{toy, title = {Toy}}
Models:
  - Name: old-name
    In Collection: Toy
    Config: configs/toy/a_coco.py
    Results:
      - Task: Object Detection
        Dataset: COCO
        Metrics: {box AP: 40.1}
    Results Source: the Toy paper, Table 3
    Paper Complexity: {Parameters: 40M, FLOPs: 200G, Source: Table 3}
"""


def fake_measure(path):
    return {'Parameters': 1, 'FLOPs': 2, 'FLOPs (full count)': 3,
            'Attention FLOPs': 1, 'FLOPs Input Shape': '1x3x800x1280'}


@pytest.fixture
def toy_repo(tmp_path):
    (tmp_path / 'configs' / 'toy').mkdir(parents=True)
    (tmp_path / 'configs' / 'toy' / 'a_coco.py').write_text(CONFIG)
    (tmp_path / 'configs' / 'toy' / 'metafile.yml').write_text(METAFILE)
    return tmp_path


def test_update_keeps_hand_fields_and_adds_new_configs(toy_repo):
    (toy_repo / 'configs' / 'toy' / 'b_8xb4-1x_coco.py').write_text(CONFIG)
    logged = []
    files = update_metafiles(str(toy_repo), measure=fake_measure,
                             log=logged.append)
    assert logged == ['added configs/toy/b_8xb4-1x_coco.py to '
                      'configs/toy/metafile.yml: check its Results',
                      'measuring configs/toy/a_coco.py',
                      'measuring configs/toy/b_8xb4-1x_coco.py']
    data = files['configs/toy/metafile.yml']
    first, second = data['Models']
    assert first['Name'] == 'a_coco'  # the config's name
    assert first['Results'][0]['Metrics'] == {'box AP': 40.1}
    assert first['Results Source'] == 'the Toy paper, Table 3'
    assert first['Paper Complexity']['FLOPs'] == '200G'
    assert first['Metadata'] == {
        'Training Data': 'COCO', 'Training Resources': '8 GPUs x 2 images',
        'Batch Size': 16, 'Epochs': 12, 'Pretrained': 'none (from scratch)',
        **fake_measure('')}
    assert second['Results Source'] == 'no official number for this config'
    assert second['Metadata']['Training Resources'] == '8 GPUs x 4 images'
    assert data['Collections'][0]['Metadata'] == {'Training Data': ['COCO']}
    written = index_files(str(toy_repo), files)
    write_index(str(toy_repo), written)
    assert yaml.safe_load(written['model-index.yml']) == {
        'Import': ['configs/toy/metafile.yml']}
    readme = (toy_repo / 'configs' / 'toy' / 'README.md').read_text()
    assert '| `configs/toy/a_coco.py` | COCO, 8 GPUs x 2 images | 12 ' \
        'epochs | 0.00M | 0.0G | box AP 40.1 | 40M / 200G |' in readme
    assert '```bibtex\n@article{toy, title = {Toy}}\n```' in readme
    assert check_model_index(str(toy_repo)) == []
    # reusing the written figures measures nothing
    from mmplug.apis.model_index import previous_measurements
    again = update_metafiles(str(toy_repo),
                             reuse=previous_measurements(str(toy_repo)),
                             measure=None)
    assert again == files


def test_update_refuses_entries_of_missing_configs(toy_repo):
    (toy_repo / 'configs' / 'toy' / 'a_coco.py').rename(
        toy_repo / 'configs' / 'toy' / 'renamed_coco.py')
    with pytest.raises(ModelIndexError, match='configs/toy/a_coco.py'):
        update_metafiles(str(toy_repo), measure=fake_measure)


def test_update_refuses_unknown_metrics_and_folders(toy_repo):
    path = toy_repo / 'configs' / 'toy' / 'metafile.yml'
    path.write_text(METAFILE.replace('box AP', 'AP50'))
    with pytest.raises(ModelIndexError, match="unknown metrics.*'AP50'"):
        update_metafiles(str(toy_repo), measure=fake_measure)
    path.write_text(METAFILE)
    (toy_repo / 'configs' / 'other').mkdir()
    (toy_repo / 'configs' / 'other' / 'c.py').write_text(CONFIG)
    with pytest.raises(ModelIndexError, match='configs/other/c.py: its '
                       'folder has no metafile.yml'):
        update_metafiles(str(toy_repo), measure=fake_measure)


def test_check_finds_stale_readmes_and_unlisted_configs(toy_repo):
    write_index(str(toy_repo), index_files(
        str(toy_repo), update_metafiles(str(toy_repo),
                                        measure=fake_measure)))
    readme = toy_repo / 'configs' / 'toy' / 'README.md'
    readme.write_text(readme.read_text() + 'edited by hand\n')
    (toy_repo / 'configs' / 'toy' / 'new.py').write_text(CONFIG)
    problems = check_model_index(str(toy_repo))
    assert problems == [
        'configs/toy/README.md is not the one configs/toy/metafile.yml '
        'gives: run tools/misc/update_model_index.py --reuse',
        'configs/toy/new.py is listed 0 times in the metafiles (once '
        'expected)']


def test_render_family_of_the_demo_says_ours():
    with open(osp.join(REPO, DEMO_RESULTS)) as f:
        text = render_family(yaml.safe_load(f))
    assert '## Results (ours, on the demo data)' in text
    assert '| result (ours) |' in text
    assert 'Citation' not in text
