"""Training hooks."""
import math
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS as ROOT_HOOKS
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


@ROOT_HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run continue exactly where the interrupted one stopped.

    mmengine restores the model, optimizer, schedulers and counters, but not the random
    state: after a resume the model's draws (FCMAE masks, drop path) would restart from the
    seed. This hook stores torch's generators (CPU and CUDA) in every checkpoint and puts them
    back right before the first iteration after the resume, the point of the run at which
    they were saved. Two things keep that point the same in both runs: the data loader draws
    its per-epoch worker seed from a generator of its own (so starting an epoch consumes no
    global draw), and the data pipeline's numpy/random draws are replayed, from the same
    seed, by the loop's advance over the batches it skips.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None

    def before_train(self, runner) -> None:
        loader = getattr(runner.train_loop, 'dataloader', None)
        if loader is not None and getattr(loader, 'generator', None) is None:
            seed = runner.seed if runner.seed is not None else 0
            loader.generator = torch.Generator().manual_seed(seed)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        torch.set_rng_state(self._pending['torch'])
        if 'cuda' in self._pending and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._pending['cuda'])
        self._pending = None


@ROOT_HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first non-finite loss, naming the iteration and the loss terms.

    It runs before the checkpoint hook of the same iteration, so the last checkpoint written is
    the last good one and stays in place.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        bad = {k: v for k, v in (outputs or {}).items()
               if 'loss' in k and isinstance(v, (int, float, torch.Tensor))
               and not math.isfinite(float(v))}
        if bad:
            raise FloatingPointError(
                f'non-finite loss at iteration {runner.iter + 1}: '
                + ', '.join(f'{k}={float(v)}' for k, v in bad.items())
                + f'; training stopped, the last good checkpoint in {runner.work_dir} is kept')
