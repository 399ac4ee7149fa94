"""Runner checkpoints resume under torch's weights_only loading (torch >= 2.6); the
checkpoint a resume picks is always a complete one."""
import os
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmconvnextv2.engine import latest_checkpoint
from mmconvnextv2.utils import register_safe_globals


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, x, y, mode='loss'):
        loss = (self.fc(torch.stack(x)) - torch.stack(y)).pow(2).mean()
        return dict(loss=loss) if mode == 'loss' else [loss]


class ToyData(Dataset):

    def __len__(self):
        return 16

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(x=torch.randn(4, generator=g), y=torch.randn(1, generator=g))


def make_runner(work_dir, max_iters, resume=False, checkpoint='CheckpointHook', keep=-1):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyData(), sampler=dict(type='DefaultSampler',
                                                              shuffle=True),
                              batch_size=4, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type=checkpoint, interval=2, by_epoch=False,
                                           max_keep_ckpts=keep),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        resume=resume,
        default_scope='mmengine',
    )


def test_history_buffer_loads_weights_only():
    """mmengine's log buffers (with data, and empty) load under weights_only=True."""
    import io

    from mmengine.logging.history_buffer import HistoryBuffer
    register_safe_globals()
    full = HistoryBuffer()
    full.update(1.5)
    buf = io.BytesIO()
    torch.save({'full': full, 'empty': HistoryBuffer()}, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    assert loaded['full'].current() == 1.5 and loaded['full'].statistics('mean') == 1.5
    assert len(loaded['empty'].data[0]) == 0


def test_runner_resumes(tmp_path):
    register_safe_globals()
    make_runner(tmp_path, max_iters=2).train()
    ckpt = tmp_path / 'iter_2.pth'
    assert ckpt.exists()
    runner = make_runner(tmp_path, max_iters=4, resume=True)
    runner.train()
    assert runner.iter == 4
    state = torch.load(tmp_path / 'iter_4.pth')  # weights_only, our allow-list
    assert state['meta']['iter'] == 4


def test_unknown_classes_are_still_refused(tmp_path):
    register_safe_globals()
    path = tmp_path / 'evil.pth'

    class Payload:

        def __reduce__(self):
            return (print, ('this must not run', ))

    with open(path, 'wb') as f:
        pickle.dump({'state_dict': Payload()}, f)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


@pytest.mark.parametrize('hook', ['CheckpointHook', 'AtomicCheckpointHook'])
def test_a_write_killed_midway_keeps_the_previous_checkpoint(tmp_path, monkeypatch, hook):
    """max_keep_ckpts=1 and the iteration-4 write dies: mmengine's hook has already deleted
    iter_2.pth (nothing left to resume from), AtomicCheckpointHook still has it and
    ``last_checkpoint`` names it."""
    register_safe_globals()
    runner = make_runner(tmp_path, max_iters=4, checkpoint=hook, keep=1)
    real_fsync = os.fsync

    def dies_on_the_second_checkpoint(fd):
        if runner.iter + 1 == 4:
            raise KeyboardInterrupt('killed while writing iter_4.pth')
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', dies_on_the_second_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    names = sorted(p.name for p in tmp_path.glob('*.pth*'))
    if hook == 'CheckpointHook':
        assert names == []
    else:
        assert names == ['iter_2.pth']
        assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')


def test_latest_checkpoint_when_the_pointer_is_bad(tmp_path):
    assert latest_checkpoint(str(tmp_path / 'absent')) is None
    assert latest_checkpoint(str(tmp_path)) is None
    for i, name in enumerate(['iter_2.pth', 'iter_4.pth', 'iter_6.pth.tmp-123']):
        (tmp_path / name).write_bytes(b'x')
        os.utime(tmp_path / name, (1000 + i, 1000 + i))
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text(str(tmp_path / 'iter_2.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    for stale in ['', str(tmp_path / 'iter_6.pth')]:  # empty, or names a file that is gone
        pointer.write_text(stale)
        assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
    pointer.write_text('/elsewhere/iter_2.pth')  # the work dir was moved
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')


def test_resume_checkpoint_is_read_safely_and_named(tmp_path):
    """``--resume CKPT``: the seed comes from CKPT (either torch file format); a truncated
    file is named before any training starts."""
    from mmconvnextv2.apis import load_config
    from tests.conftest import ROOT
    from tests.helpers import FCMAE_ATTO_CONFIG
    config = os.path.join(ROOT, FCMAE_ATTO_CONFIG)
    options = {'randomness.seed': None}
    for legacy in (False, True):
        path = tmp_path / f'legacy_{legacy}.pth'
        torch.save({'meta': {'seed': 1234}, 'state_dict': {'w': torch.ones(2)}}, path,
                   _use_new_zipfile_serialization=not legacy)
        cfg = load_config(config, work_dir=str(tmp_path), cfg_options=options,
                          resume=str(path))
        assert cfg.randomness.seed == 1234 and cfg.load_from == str(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r'legacy_True\.pth: not a readable PyTorch checkpoint'):
        load_config(config, work_dir=str(tmp_path), cfg_options=options, resume=str(path))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_config(config, work_dir=str(tmp_path), resume=str(tmp_path / 'absent.pth'))
