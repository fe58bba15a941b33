"""``import mmseg_pixcon`` (a config's custom_imports) registers every module and loads nothing
else: not the data tools' package with its synthetic-image drawing code."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGISTERED = {'MODELS': ['PixelContrastLoss', 'ContrastHead', 'ContrastASPPHead',
                         'ContrastDepthwiseSeparableASPPHead', 'ContrastPSPHead',
                         'ContrastFCNHead', 'PixConDataPreProcessor'],
              'HOOKS': ['LoadStageOneHook', 'PrototypeHook', 'RandomStateHook'],
              'METRICS': ['PrototypeIoUMetric']}
PROBE = '''
import json, sys
import mmseg_pixcon
from mmengine.registry import MODEL_WRAPPERS, OPTIM_WRAPPERS
from mmseg import registry
found = {name: [key for key in keys if getattr(registry, name).get(key) is not None]
         for name, keys in json.loads(sys.argv[1]).items()}
found['MODEL_WRAPPERS'] = [k for k in ['CPUDistributedDataParallel'] if MODEL_WRAPPERS.get(k)]
found['OPTIM_WRAPPERS'] = [k for k in ['CPUAmpOptimWrapper'] if OPTIM_WRAPPERS.get(k)]
print(json.dumps(dict(found=found, modules=sorted(m for m in sys.modules
                                                  if m.startswith('mmseg_pixcon')))))
'''


def test_the_plugin_import_registers_everything_and_draws_nothing():
    # The timeout only guards against a hang: a fresh interpreter importing mmseg took over
    # 120 s on the 2 shared cores while a training sweep ran.
    run = subprocess.run([sys.executable, '-c', PROBE, json.dumps(REGISTERED)], cwd=REPO,
                         capture_output=True, text=True, timeout=600,
                         env={'PYTHONPATH': str(REPO), 'PATH': '/usr/bin:/bin'})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result['found'] == dict(REGISTERED, MODEL_WRAPPERS=['CPUDistributedDataParallel'],
                                   OPTIM_WRAPPERS=['CPUAmpOptimWrapper'])
    assert 'mmseg_pixcon.models.losses' in result['modules']
    assert not [m for m in result['modules'] if m.startswith('mmseg_pixcon.datasets')]


def test_the_data_tools_import_everything_from_one_place():
    from mmseg_pixcon import datasets
    for name in ('generate_cityscapes', 'generate_voc', 'make_split', 'write_split',
                 'default_split_path'):
        assert callable(getattr(datasets, name)), name
    assert datasets.generate_cityscapes.__module__ == 'mmseg_pixcon.datasets.synthetic.cityscapes'
