"""Training hooks."""
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class FCMAEReconstructionHook(Hook):
    """Save a reconstruction grid (original / masked / reconstruction) of the first training
    images every ``interval`` iterations and at the end of training.

    Args:
        interval (int): Iterations between pictures; 0 draws only at the end. Defaults to 0.
        num_images (int): Images per picture. Defaults to 4.
        out_dir (str): Folder under the work dir. Defaults to 'reconstructions'.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 0, num_images: int = 4, out_dir: str = 'reconstructions'):
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir
        self.saved = []

    def _draw(self, runner, name: str):
        from ..visualization import reconstruction_grid, save_png
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        data = next(iter(runner.train_dataloader))
        data = model.data_preprocessor(data, False)
        imgs = data['inputs']
        imgs = (imgs[0] if isinstance(imgs, (list, tuple)) else imgs)[:self.num_images]
        prep = model.data_preprocessor
        mean, std = prep.mean.flatten().tolist(), prep.std.flatten().tolist()
        was_training = model.training
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the same masks in every picture
            grid = reconstruction_grid(model, imgs, mean, std)
        model.train(was_training)
        path = osp.join(runner.work_dir, self.out_dir, f'{name}.png')
        self.saved.append(save_png(grid, path))
        runner.logger.info(f'FCMAE reconstructions saved to {path}')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self._draw(runner, f'iter_{runner.iter + 1}')

    def after_train(self, runner):
        self._draw(runner, 'final')
