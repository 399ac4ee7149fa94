"""Training hooks."""
import math
import os.path as osp
from typing import List, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS as ROOT_HOOKS
from mmpretrain.registry import HOOKS

from ..utils.atomic_io import write_atomic


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

    In a distributed run every process has a random state of its own (with
    ``randomness.diff_rank_seed``, or when the processes draw different amounts, as Mask R-CNN's
    RoI samplers do). The checkpoint is written by the main process only, so the states are
    gathered from all processes first, in ``gather_checkpoint_state``, which
    ``AtomicCheckpointHook`` calls on every process before it saves; each process of the
    resumed run takes its own. A checkpoint written by another number of processes cannot
    give each process its state: the resumed run then keeps its seeded state and says so.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._all_ranks = None

    @staticmethod
    def _state() -> dict:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    def before_train(self, runner) -> None:
        loader = getattr(runner.train_loop, 'dataloader', None)
        if loader is not None and getattr(loader, 'generator', None) is None:
            seed = runner.seed if runner.seed is not None else 0
            loader.generator = torch.Generator().manual_seed(seed)

    def gather_checkpoint_state(self, runner) -> None:
        """Collect every process's state (a collective: called on all processes)."""
        if get_world_size() > 1:
            self._all_ranks = all_gather_object(self._state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = self._state()
        if self._all_ranks is not None:
            state['ranks'] = self._all_ranks
            self._all_ranks = None
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        ranks = (state or {}).get('ranks')
        world_size = get_world_size()
        if ranks is not None and len(ranks) == world_size:
            state = ranks[get_rank()]
        elif ranks is not None or (state is not None and world_size > 1):
            runner.logger.warning(
                f'the checkpoint holds the random state of {len(ranks or [None])} '
                f'process(es) and this run has {world_size}: the random state is not restored, '
                'so the continued run draws other random numbers than an uninterrupted one')
            state = None
        self._pending = state

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
        values = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v)
                  for k, v in (outputs or {}).items()
                  if 'loss' in k and isinstance(v, (int, float, torch.Tensor))}
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            raise FloatingPointError(
                f'non-finite loss at iteration {runner.iter + 1}: '
                + ', '.join(f'{k}={v}' for k, v in bad.items())
                + f'; training stopped, the last good checkpoint in {runner.work_dir} is kept')


@ROOT_HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never leaves a run without a complete checkpoint.

    mmengine deletes the oldest checkpoint (``max_keep_ckpts``) before writing the new one and
    writes ``last_checkpoint`` in place: a run killed in between has one checkpoint fewer than
    it should (none, with ``max_keep_ckpts=1``) and possibly an empty ``last_checkpoint``. This
    hook writes the new checkpoint (atomically, through the local file backend), then
    ``last_checkpoint`` (atomically), and only then deletes the old checkpoint. Its arguments
    are ``CheckpointHook``'s.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # saved inside the new checkpoint, so a resume prunes the right files
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        # runner.save_checkpoint and its before_save_checkpoint stage run on the main
        # process only: hooks that need every process's state (RNGStateHook) collect it here
        runner.call_hook('gather_checkpoint_state')
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)


def _heads_with_classes(model) -> List[Tuple[str, int]]:
    """(name, num_classes) of the model's classifying heads (region proposal heads, which
    score objectness, left out)."""
    heads = []
    for name, module in model.named_modules():
        if not name:  # the model itself (mmseg copies its decode head's number)
            continue
        num = getattr(module, 'num_classes', None)
        if isinstance(num, int) and not isinstance(num, bool) and 'rpn' not in name.lower() \
                and 'RPN' not in type(module).__name__:
            heads.append((name, num))
    return heads


@ROOT_HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Stop before training or testing when the model's heads and the dataset disagree.

    Each head with a ``num_classes`` (mmpretrain classifier heads, mmdet box and mask heads,
    mmseg decode and auxiliary heads) must have as many classes as the dataset's
    ``metainfo['classes']``, and a classification dataset's labels must lie in
    ``0 .. num_classes - 1``. The error names the head, both numbers and the dataset.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._checked = set()

    def _check(self, runner, loop_name: str) -> None:
        loop = getattr(runner, loop_name, None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is None or id(dataset) in self._checked:
            return
        self._checked.add(id(dataset))
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        heads = _heads_with_classes(model)
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        what = f'{type(dataset).__name__} ({loop_name.replace("_loop", "")} dataset)'
        if classes is not None:
            wrong = [(name, num) for name, num in heads
                     if num != len(classes) and not (num == 1 and len(classes) == 2)]
            if wrong:
                raise ValueError(
                    ', '.join(f'model.{name}.num_classes is {num}' for name, num in wrong)
                    + f' but the {what} has {len(classes)} classes {tuple(classes)[:10]}; set '
                    f'num_classes to {len(classes)} or the dataset metainfo classes to match')
        if heads and hasattr(dataset, 'get_gt_labels'):
            num = min(n for _, n in heads)
            labels = np.asarray(dataset.get_gt_labels())
            bad = np.flatnonzero((labels < 0) | (labels >= num)) if labels.size else []
            if len(bad):
                info = dataset.get_data_info(int(bad[0]))
                raise ValueError(
                    f'{what}: {len(bad)} sample(s) have labels outside 0..{num - 1}, the first '
                    f"{info.get('img_path', bad[0])} with label {int(labels[bad[0]])}")

    def before_train(self, runner) -> None:
        self._check(runner, 'train_loop')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_loop')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_loop')
