"""benchmarks/gpu_check.py: its CPU mode runs every case for every backbone
and both references (without mmcv's compiled ops), its time guard skips
and says what, and without CUDA it asks for a GPU or --cpu-smoke."""
import json
import os.path as osp
import sys

import pytest

from mmplug.testing import registered_backbones, run_tool

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'benchmarks', 'gpu_check.py')
CASES = ['fp32', 'fp16', 'bf16', 'cl-fp32', 'cl-bf16', 'compiled']
REFERENCES = ['ResNet-50 (mmdet)', 'Swin-T (mmdet)']
#: run the script with mmcv's compiled ops and mmdet's models package
#: unimportable, as on a machine with mmcv's Python part only
NO_OPS = '''
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[:2] in (['mmcv', 'ops'], ['mmcv', '_ext'],
                                   ['mmdet', 'models']):
            raise ModuleNotFoundError(name, name=name)
sys.meta_path.insert(0, Block())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp('gpu_check') / 'results.json'
    res = run_tool(sys.executable, '-c', NO_OPS, SCRIPT, '--cpu-smoke',
                   '--out', str(out), cwd=REPO)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    with open(out) as f:
        return res.stdout, json.load(f)


def test_every_case_of_every_model_runs_and_checks(smoke):
    stdout, results = smoke
    names = REFERENCES + registered_backbones()
    assert results['references'] == REFERENCES
    assert not results['skipped']
    done = {(r['model'], r['case']): r for r in results['results']}
    assert set(done) == {(n, c) for n in names for c in CASES}
    for (name, case), r in done.items():
        assert r['status'] == 'ok' and not r['failures'], r
        assert r['finite'] and r['img_s'] > 0
        # eager fp32 on the CPU computes the reference step exactly
        if case == 'fp32':
            assert r['out_err_u'] == 0 and r['grad_err_u'] == 0, r
        # mixed precision differs from fp32, within the rule's bounds
        if case in ('fp16', 'bf16', 'cl-bf16'):
            assert 0 < r['out_err_u'] <= 8 and 0 < r['grad_err_u'] <= 128
        if case in ('fp16', 'bf16'):
            assert r['train_finite']
        assert ('compile_s' in r) == (case == 'compiled')
    assert results['params']['ResNet-50 (mmdet)'] == pytest.approx(
        23.508 / 16, rel=0.02)  # a quarter of the widths: 1/16 of conv
    # the per-case lines and the markdown table, one row per model
    table = stdout[stdout.index('| model |'):].splitlines()
    assert table[0].startswith('| model | params (M) | fp32 img/s |')
    rows = {line.split(' | ')[0][2:]: line for line in table[2:]
            if line.startswith('| ')}
    assert set(rows) == {n.replace('mmplug.', '') for n in names}
    assert all(line.endswith('| ok |') for line in rows.values())
    assert f'{len(names) * len(CASES)} cases ok, 0 failed, 0 skipped' \
        in stdout


def test_budget_skips_and_says_what(tmp_path):
    res = run_tool(SCRIPT, '--cpu-smoke', '--budget', '0', '--only',
                   'SMT,mmplug.MobileNeXt', '--cases', 'bf16,compiled',
                   cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'SMT                    setup     skipped (budget)' in res.stdout
    assert ('run them with: python benchmarks/gpu_check.py --cases '
            'bf16,compiled --only MobileNeXt,SMT --cpu-smoke') in res.stdout
    assert '| skipped | skipped | - | - | - | not run |' in res.stdout
    assert '0 cases ok, 0 failed, 4 skipped' in res.stdout


def test_clear_errors():
    res = run_tool(SCRIPT, cwd=REPO, env=dict(CUDA_VISIBLE_DEVICES=''))
    assert res.returncode == 2
    assert res.stderr.strip() == (
        'gpu_check.py: no CUDA device here; run it on a CUDA machine, or '
        'with --cpu-smoke for the tiny CPU run')
    res = run_tool(SCRIPT, '--cpu-smoke', '--only', 'ResNet', cwd=REPO)
    assert res.returncode == 2
    assert "--only: 'ResNet' is not a registered backbone; they are " \
        'DCAResNet, ' in res.stderr
    res = run_tool(SCRIPT, '--cpu-smoke', '--cases', 'fp8', cwd=REPO)
    assert res.returncode == 2 and 'unknown case(s) fp8' in res.stderr
