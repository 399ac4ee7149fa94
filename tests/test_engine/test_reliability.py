"""Killed runs resume exactly; non-finite losses stop training; checkpoints are written
atomically."""
import os

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.utils import AtomicLocalBackend
from tests.conftest import ROOT
from tests.helpers import FCMAE_ATTO_CONFIG, tiny_fcmae_options, write_image_folder


class Killed(Exception):
    pass


@HOOKS.register_module()
class KillAfterIter(Hook):
    """Stands for a SIGKILL right after iteration ``iters`` (and its checkpoint)."""

    priority = 'LOWEST'

    def __init__(self, iters):
        self.iters = iters

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.iters:
            raise Killed(f'killed after iteration {self.iters}')


CONFIG = os.path.join(ROOT, FCMAE_ATTO_CONFIG)


def fcmae_runner(data_root, work_dir, iters, resume=False, **extra):
    options = tiny_fcmae_options(
        data_root, iters, 3,
        param_scheduler=[dict(type='CosineAnnealingLR', by_epoch=False, T_max=8)],
        # a random draw in the model besides the mask
        **{'model.backbone.drop_path_rate': 0.1, 'log_level': 'WARNING'})
    options.update(extra)
    cfg = load_config(CONFIG, work_dir=str(work_dir), cfg_options=options,
                      resume='auto' if resume else None)
    return Runner.from_cfg(cfg)


def losses(runner):
    return runner.message_hub.get_scalar('train/loss').data[0].tolist()


def test_resumed_fcmae_matches_an_uninterrupted_run(tmp_path):
    data = write_image_folder(str(tmp_path / 'data'), per_class=6)
    full = fcmae_runner(data, tmp_path / 'full', 6)
    full.train()
    reference = losses(full)
    assert len(reference) == 6

    first = fcmae_runner(data, tmp_path / 'killed', 6,
                         custom_hooks=[dict(type='KillAfterIter', iters=3)])
    with pytest.raises(Killed):
        first.train()
    resumed = fcmae_runner(data, tmp_path / 'killed', 6, resume=True)
    resumed.train()
    continued = losses(resumed)[-3:]
    assert resumed.iter == 6
    for a, b in zip(continued, reference[3:]):
        assert abs(a - b) <= 1e-6, (continued, reference[3:])


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    data = write_image_folder(str(tmp_path / 'data'))
    runner = fcmae_runner(data, tmp_path / 'work', 6)
    model = runner.model
    original = model.loss

    def poisoned(*args, **kwargs):
        out = original(*args, **kwargs)
        if runner.iter >= 4:  # the 5th iteration
            out['loss'] = out['loss'] * float('nan')
        return out

    monkeypatch.setattr(model, 'loss', poisoned)
    with pytest.raises(FloatingPointError, match=r'non-finite loss at iteration 5: loss=nan'):
        runner.train()
    assert (tmp_path / 'work' / 'iter_3.pth').exists()
    assert not (tmp_path / 'work' / 'iter_6.pth').exists()
    state = torch.load(tmp_path / 'work' / 'iter_3.pth')
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values())


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'iter_1.pth'
    target.write_bytes(b'complete old checkpoint')

    def dies_mid_write(fd):
        raise KeyboardInterrupt('killed while writing')

    monkeypatch.setattr(os, 'fsync', dies_mid_write)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'half a new checkpoint', str(target))
    assert target.read_bytes() == b'complete old checkpoint'
    assert [p.name for p in tmp_path.iterdir()] == ['iter_1.pth']
