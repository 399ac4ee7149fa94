"""A pretraining config trains on tiny data, and its checkpoint becomes a backbone."""
import os
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.models import random_patch_mask
from tests.conftest import ROOT
from tests.helpers import FCMAE_ATTO_CONFIG, tiny_fcmae_options, write_image_folder

CONFIG = os.path.join(ROOT, FCMAE_ATTO_CONFIG)


def tiny_options(data_root, work_dir, iters):
    return tiny_fcmae_options(
        data_root, iters, iters, work_dir=str(work_dir),
        custom_hooks=[dict(type='FCMAEReconstructionHook', num_images=2)])


ITERS = 30


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('fcmae')
    data = write_image_folder(str(tmp / 'data'))
    cfg = load_config(CONFIG, cfg_options=tiny_options(data, tmp / 'work', ITERS))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return tmp, cfg, runner


def fixed_batch_loss(model, data_root, preprocessor):
    """The loss on all the training images, each with a fixed mask: deterministic."""
    import glob

    import numpy as np
    from PIL import Image
    files = sorted(glob.glob(os.path.join(data_root, 'train', '*', '*.png')))
    imgs = torch.stack([torch.from_numpy(np.asarray(Image.open(f))).permute(2, 0, 1)
                        for f in files]).float()
    # PIL reads RGB, which is what the preprocessor produces from the BGR loader
    imgs = (imgs - preprocessor.mean) / preprocessor.std
    mask = random_patch_mask(len(files), 2, 2, 0.6,
                             generator=torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        return model.reconstruct(imgs, mask)['loss'].item()


def test_pretraining_loss_goes_down(pretrained):
    tmp, cfg, runner = pretrained
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == ITERS
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    untrained = MODELS.build(cfg.model)
    untrained.init_weights()
    preprocessor = runner.model.data_preprocessor
    before = fixed_batch_loss(untrained, tmp / 'data', preprocessor)
    after = fixed_batch_loss(runner.model, tmp / 'data', preprocessor)
    assert after < 0.9 * before, f'loss did not go down: {before:.3f} -> {after:.3f}'


def test_checkpoint_converts_to_a_backbone_and_fine_tunes_from_it(pretrained):
    tmp, _, _ = pretrained
    ckpt = tmp / 'work' / f'iter_{ITERS}.pth'
    out = tmp / 'backbone.pth'
    tool = os.path.join(ROOT, 'tools', 'model_converters', 'fcmae_to_backbone.py')
    result = subprocess.run([sys.executable, tool, str(ckpt), str(out)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    encoder = {k: v for k, v in torch.load(ckpt)['state_dict'].items()
               if k.startswith('backbone.')}
    converted = torch.load(out)['state_dict']
    assert converted.keys() == encoder.keys()
    assert all(torch.equal(converted[k], encoder[k]) for k in encoder)
    # the classifier config picks it up through `pretrained`
    cls_cfg = os.path.join(ROOT, 'configs', 'convnextv2', 'convnextv2-atto_32xb32_in1k.py')
    cfg = load_config(cls_cfg, cfg_options={'pretrained': str(out)})
    from mmpretrain.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    for k, v in encoder.items():
        torch.testing.assert_close(model.state_dict()[k], v, rtol=0, atol=0)


def test_reconstruction_pictures(pretrained):
    tmp, _, _ = pretrained
    from PIL import Image
    hook_png = tmp / 'work' / 'reconstructions' / 'final.png'
    assert Image.open(hook_png).size == (3 * 68 + 4, 2 * 68 + 4)
    tool = os.path.join(ROOT, 'tools', 'analysis', 'visualize_reconstruction.py')
    images = sorted((tmp / 'data' / 'train' / 'class0').glob('*.png'))[:3]
    out = tmp / 'recon.png'
    result = subprocess.run([sys.executable, tool, CONFIG, str(tmp / 'work' / f'iter_{ITERS}.pth'),
                             *map(str, images), '--size', '64', '--out', str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (3 * 68 + 4, 3 * 68 + 4)


def test_missing_pretrained_file_is_named(tmp_path):
    cls_cfg = os.path.join(ROOT, 'configs', 'convnextv2', 'convnextv2-atto_32xb32_in1k.py')
    with pytest.raises(FileNotFoundError, match='pretrained checkpoint not found: .*nope.pth'):
        load_config(cls_cfg, cfg_options={'pretrained': str(tmp_path / 'nope.pth')})
