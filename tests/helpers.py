"""Helpers shared by the tests."""
import torch


def randomize_(module: torch.nn.Module, std: float = 0.1) -> torch.nn.Module:
    """Give every parameter random values (GRN gamma/beta and norms included), so that parity
    tests exercise every weight rather than identity-initialized ones."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.normal_(1.0 if name.endswith('norm.weight') else 0.0, std)
    return module


def write_image_folder(root, classes=2, per_class=4, size=64, seed=0):
    """A tiny ImageNet-layout folder (``root/train/<class>/*.png``) of structured images:
    smooth colour gradients with a bright square, different per image."""
    import os

    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for c in range(classes):
        folder = os.path.join(root, 'train', f'class{c}')
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            a, b = rng.uniform(0.2, 1.0, 2)
            img = np.stack([a * yy, b * xx, 0.5 * (yy + xx) * (c + 1) / classes], -1)
            s = rng.integers(size // 6, size // 3)
            y0, x0 = rng.integers(0, size - s, 2)
            img[y0:y0 + s, x0:x0 + s] = rng.uniform(0.5, 1.0, 3)
            Image.fromarray((img * 255).astype(np.uint8)).save(
                os.path.join(folder, f'{i}.png'))
    return root


FCMAE_ATTO_CONFIG = 'configs/fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py'


def tiny_fcmae_options(data_root, iters, checkpoint_interval, **extra):
    """``--cfg-options`` that shrink the atto FCMAE config to a few 64-px iterations on a
    tiny image folder (see :func:`write_image_folder`)."""
    options = {
        'train_dataloader.dataset.data_root': str(data_root),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.pipeline.1.scale': 64,
        'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop', max_iters=iters),
        'param_scheduler': [],
        'optim_wrapper.optimizer.lr': 1e-3,
        'default_hooks.checkpoint': dict(type='CheckpointHook', interval=checkpoint_interval,
                                         by_epoch=False),
        'default_hooks.logger.interval': 1,
    }
    options.update(extra)
    return options
