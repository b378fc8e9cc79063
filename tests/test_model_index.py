"""model-index.yml and the metafiles: complete, pointing at real configs,
readable by mmengine, and with the figures get_flops measures."""
import os.path as osp

import pytest

from mmplug.apis import paper_results
from mmplug.apis.model_index import (check_model_index, check_table,
                                     folder_of, list_configs, load_models,
                                     measure_config, paper_metrics)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = {m['Config']: m for m in load_models(osp.join(REPO,
                                                         'model-index.yml'))}
#: Cheap configs whose figures are measured again here: a two-stage and a
#: one-stage detector (the segmentors run at 512x2048 and cost more).
SAMPLE = ['configs/demo/mask-rcnn_r18_fpn_demo.py',
          'configs/mobilenext/retinanet_mobilenext_fpn_1x_coco.py']


def test_every_config_is_indexed_and_every_entry_exists():
    assert len(MODELS) == len(list_configs(REPO)) > 50
    assert check_model_index(REPO) == []


def test_paper_table_names_existing_configs():
    check_table(list_configs(REPO))  # raises on a stale (renamed) config


@pytest.mark.parametrize('config', sorted(paper_results.RESULTS))
def test_metafile_holds_the_table(config):
    entry = paper_results.RESULTS[config]
    model = MODELS[f'configs/{config}']
    assert paper_metrics(model) == (entry.get('metrics') or {})
    collection = paper_results.COLLECTIONS[folder_of(config)]
    assert model['Results Source'] == entry.get('source', collection['none'])


def test_entries_without_official_number_say_so():
    for model in MODELS.values():
        if not model.get('Results'):
            assert 'no official number' in model['Results Source'] or \
                model['Config'].startswith('configs/demo/'), model['Name']


@pytest.mark.parametrize('config', SAMPLE)
def test_measured_figures_equal_get_flops(config):
    measured = measure_config(osp.join(REPO, config))
    metadata = MODELS[config]['Metadata']
    assert {key: metadata[key] for key in measured} == measured


def test_mmengine_reads_the_index():
    """mmengine's own reader of ``<package>/.mim/model-index.yml`` (used for
    ``mmplug::`` names and mmengine.hub) finds our entries."""
    from mmengine.config.utils import _get_cfg_metainfo

    from mmplug.mim import PACKAGE_DIR
    entry = _get_cfg_metainfo(PACKAGE_DIR, 'demo/mask-rcnn_r18_fpn_demo.py')
    assert entry['Name'] == 'mask-rcnn_r18_fpn_demo'
    assert paper_metrics(entry) == {'box AP': 41.8, 'mask AP': 57.9}
