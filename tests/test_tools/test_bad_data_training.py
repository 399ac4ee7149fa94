"""tools/train.py on messy data: checked loading is swapped into every config, a bad image
stops the run naming the file, and ``--skip-bad-samples`` logs it and trains on."""
import os
import re
import subprocess
import sys

import pytest
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.datasets.loading import BadImageError
from tests.conftest import ROOT
from tests.helpers import FCMAE_ATTO_CONFIG, tiny_fcmae_options, write_image_folder

DEMO = os.path.join(ROOT, 'configs', 'demo')


def pipeline_types(cfg, split):
    return [step['type'] for step in cfg[f'{split}_dataloader']['dataset']['pipeline']]


def test_load_config_swaps_in_checked_loading():
    det = load_config(os.path.join(DEMO, 'mask-rcnn_convnextv2-atto_fpn_demo.py'))
    assert det.train_dataloader.dataset.type == 'CheckedCocoDataset'
    assert det.val_dataloader.dataset.type == 'CheckedCocoDataset'
    assert pipeline_types(det, 'train')[:2] == ['CheckedLoadImageFromFile', 'LoadAnnotations']
    assert 'mmconvnextv2.datasets.coco' in det.custom_imports['imports']

    seg = load_config(os.path.join(DEMO, 'upernet_convnextv2-atto_demo.py'),
                      skip_bad_samples=True)
    load, labels = seg.train_dataloader.dataset.pipeline[:2]
    assert (load.type, load.on_error) == ('CheckedLoadImageFromFile', 'skip')
    assert (labels.type, labels.on_error, labels.num_classes, labels.ignore_index) == (
        'CheckedLoadSegAnnotations', 'skip', 3, 255)
    # only training skips: an evaluation must see every sample
    assert [s.get('on_error') for s in seg.val_dataloader.dataset.pipeline[:2]] == ['raise'] * 2

    # test-time augmentation nests its transforms; the model is wrapped
    ms = load_config(os.path.join(
        ROOT, 'configs/upernet/upernet_convnextv2-tiny_8xb2-160k_ade20k-512x512_ms.py'))
    nested = ms.test_dataloader.dataset.pipeline[1]['transforms'][2][0]
    assert (nested['type'], nested['num_classes']) == ('CheckedLoadSegAnnotations', 150)

    plain = load_config(os.path.join(DEMO, 'upernet_convnextv2-atto_demo.py'),
                        cfg_options={'data_checks': False})
    assert pipeline_types(plain, 'train')[:2] == ['LoadImageFromFile', 'LoadAnnotations']


def corrupt(data, names=('class1/2.png', )):
    """Truncate images of ``data`` to half their size; returns their paths."""
    paths = [os.path.join(data, 'train', name) for name in names]
    for path in paths:
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) // 2)
    return paths


def test_a_bad_image_stops_training_naming_the_file(tmp_path):
    data = write_image_folder(str(tmp_path / 'data'), per_class=4)
    bad, = corrupt(data)
    cfg = load_config(os.path.join(ROOT, FCMAE_ATTO_CONFIG), work_dir=str(tmp_path / 'work'),
                      cfg_options=tiny_fcmae_options(data, 4, 2, log_level='WARNING'))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(BadImageError, match=re.escape(bad) + ': cannot decode the image .*'
                       'verify_dataset.py lists every such file; tools/train.py '
                       '--skip-bad-samples skips them'):
        runner.train()


@pytest.mark.slow
def test_skip_bad_samples_logs_each_file_and_trains_on(tmp_path):
    data = write_image_folder(str(tmp_path / 'data'), per_class=4)
    bad = corrupt(data, ('class0/1.png', 'class1/2.png'))
    work = tmp_path / 'work'
    options = [f'{k}={v}' for k, v in tiny_fcmae_options(data, 4, 4).items()
               if k not in ('train_cfg', 'param_scheduler', 'default_hooks.checkpoint')]
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'train.py'),
         os.path.join(ROOT, FCMAE_ATTO_CONFIG), '--work-dir', str(work), '--skip-bad-samples',
         '--cfg-options', 'train_cfg.max_epochs=2', 'param_scheduler=[]', *options],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    log = next(work.glob('*/*.log')).read_text()
    skipped = [line for line in log.splitlines() if 'skipped an image' in line]
    # each bad file once (mmengine's logger drops a repeated warning: not once per epoch)
    assert len(skipped) == 2, skipped
    for path in bad:
        assert sum(f'{path}: cannot decode the image' in line for line in skipped) == 1
    assert (work / 'epoch_2.pth').exists()
