"""Killed runs resume exactly; non-finite losses stop training; checkpoints are written
atomically."""
import os

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.utils import AtomicLocalBackend
from tests.conftest import ROOT
from tests.fault_injection import Killed
from tests.helpers import FCMAE_ATTO_CONFIG, tiny_fcmae_options, write_image_folder

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


EMA = dict(type='EMAHook', momentum=0.1)


def ema_state(runner):
    hook = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook')
    return hook.ema_model.module.state_dict()


def assert_states_equal(a, b, atol=1e-6):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), rtol=0, atol=atol), key


@pytest.mark.parametrize('workers', [0, 2])
def test_resumed_fcmae_matches_an_uninterrupted_run(tmp_path, workers):
    """Killed after iteration 3 of 6 and resumed: the losses of iterations 4-6, the final
    weights and the EMA weights equal those of a run that was never interrupted, with the
    data (random crops and flips) loaded in the main process or in 2 worker processes. 16
    images make 4 batches an epoch: the kill comes in the middle of one."""
    data = write_image_folder(str(tmp_path / 'data'), per_class=8)
    loader = {'train_dataloader.num_workers': workers}
    full = fcmae_runner(data, tmp_path / 'full', 6, custom_hooks=[EMA], **loader)
    full.train()
    reference = losses(full)
    assert len(reference) == 6

    first = fcmae_runner(data, tmp_path / 'killed', 6,
                         custom_hooks=[EMA, dict(type='KillAfterIter', iters=3)], **loader)
    with pytest.raises(Killed):
        first.train()
    resumed = fcmae_runner(data, tmp_path / 'killed', 6, resume=True, custom_hooks=[EMA],
                           **loader)
    resumed.train()
    continued = losses(resumed)[-3:]
    assert resumed.iter == 6
    for a, b in zip(continued, reference[3:]):
        assert abs(a - b) <= 1e-6, (continued, reference[3:])
    assert_states_equal(resumed.model.state_dict(), full.model.state_dict())
    assert_states_equal(ema_state(resumed), ema_state(full))
    # the EMA really moved away from the model, so the comparison above means something
    assert not torch.allclose(ema_state(full)['backbone.downsample_layers.0.0.weight'],
                              full.model.state_dict()['backbone.downsample_layers.0.0.weight'])


MASK_RCNN = os.path.join(ROOT, 'configs', 'demo', 'mask-rcnn_convnextv2-atto_fpn_demo.py')


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    from mmconvnextv2.datasets import make_demo_data
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=8, num_val=4,
                          size=128)['coco']


def mask_rcnn_runner(data_root, work_dir, resume=False, custom_hooks=(), **options):
    cfg = load_config(MASK_RCNN, work_dir=str(work_dir), resume='auto' if resume else None,
                      cfg_options={
                          'data_root': data_root + '/',
                          'train_cfg.max_iters': 6,
                          'train_cfg.val_interval': 100,
                          'default_hooks.checkpoint.interval': 3,
                          'default_hooks.logger.interval': 1,
                          'custom_hooks': list(custom_hooks),
                          'log_level': 'WARNING',
                          **options,
                      })
    return Runner.from_cfg(cfg)


MASK_RCNN_LOSSES = ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
                    'loss_mask')


def loss_terms(runner):
    return {t: runner.message_hub.get_scalar(f'train/{t}').data[0].tolist()
            for t in MASK_RCNN_LOSSES}


def test_resumed_mask_rcnn_matches_an_uninterrupted_run(coco, tmp_path):
    """Mask R-CNN (shuffled data, random flips, random RoI sampling) with no seed in its
    config: killed after iteration 3 of 6 and resumed, every loss term of iterations 4-6
    equals that of an uninterrupted run with the seed the killed run drew."""
    first = mask_rcnn_runner(coco, tmp_path / 'killed',
                             custom_hooks=[dict(type='KillAfterIter', iters=3)])
    assert first.seed is not None  # drawn at random: mmdet's runtime sets no seed
    with pytest.raises(Killed):
        first.train()
    before = loss_terms(first)
    resumed = mask_rcnn_runner(coco, tmp_path / 'killed', resume=True)
    assert resumed.seed == first.seed
    resumed.train()
    assert resumed.iter == 6
    after = loss_terms(resumed)

    full = mask_rcnn_runner(coco, tmp_path / 'full', randomness=dict(seed=first.seed))
    full.train()
    reference = loss_terms(full)
    for t in MASK_RCNN_LOSSES:
        got = before[t][:3] + after[t][-3:]
        for a, b in zip(got, reference[t]):
            assert abs(a - b) <= 1e-6, (t, got, reference[t])
    assert_states_equal(resumed.model.state_dict(), full.model.state_dict())


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


def test_rng_state_is_restored_only_for_the_same_number_of_processes(log_text):
    """A checkpoint holds one random state per process (gathered before saving); a resumed
    run with as many processes takes its own, one with another number keeps its seeded state
    and says so. (Two real processes: tests/test_tools/test_kill_and_resume.py.)"""
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from mmconvnextv2.engine import RNGStateHook
    runner = SimpleNamespace(logger=MMLogger.get_current_instance())
    hook = RNGStateHook()
    hook.gather_checkpoint_state(runner)  # one process: nothing to gather
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    own = checkpoint['rng_state']
    assert 'ranks' not in own
    torch.rand(3)  # move on from the saved state

    hook.after_load_checkpoint(runner, dict(rng_state=own))
    hook.before_train_iter(runner, 0)
    assert torch.equal(torch.get_rng_state(), own['torch'])

    two = dict(own, ranks=[own, dict(torch=torch.Generator().manual_seed(1).get_state())])
    hook.after_load_checkpoint(runner, dict(rng_state=two))
    assert hook._pending is None
    assert 'random state of 2 process(es) and this run has 1' in log_text()


def test_close_distributed_ends_the_process_group_threads(tmp_path):
    """tools/train.py and tools/test.py drop their runner and call ``close_distributed``: the
    gloo threads are joined while Python is alive, not left to the interpreter's shutdown (a
    thread still releasing a collective's tensors then aborts the process, exit -6, after a
    successful run). Measured in a subprocess: the threads of the process, before the group
    exists, with a DDP model training, and after the teardown."""
    import subprocess
    import sys
    script = f'''
import os
import time
import torch
import torch.distributed as dist
from mmconvnextv2.apis import close_distributed

def threads():
    return len(os.listdir('/proc/self/task'))

before = threads()
dist.init_process_group('gloo', init_method='file://{tmp_path}/store', rank=0, world_size=1)
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(8, 8))
model(torch.randn(4, 8)).sum().backward()
during = threads()
runner = dict(model=model)
runner['self'] = runner  # a cycle, as a Runner's hooks and loops refer back to it
del model, runner
close_distributed()
# a joined thread may take a moment to leave /proc (seen once in a loaded full run)
deadline = time.monotonic() + 5
while threads() > before and time.monotonic() < deadline:
    time.sleep(0.05)
print(before, during, threads(), dist.is_initialized())
'''
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    before, during, after, initialized = result.stdout.split()
    assert int(during) > int(before), result.stdout  # gloo's worker and transport threads
    assert int(after) == int(before), result.stdout
    assert initialized == 'False'
