"""Runner checkpoints resume under torch's weights_only loading (torch >= 2.6)."""
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

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


def make_runner(work_dir, max_iters, resume=False):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyData(), sampler=dict(type='DefaultSampler',
                                                              shuffle=True),
                              batch_size=4, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
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
