"""Real processes killed with SIGKILL (one while writing a checkpoint, one rank of a
distributed run) resume with ``--resume`` and continue as if nothing had happened."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT
from tests.helpers import FCMAE_ATTO_CONFIG, write_image_folder

pytestmark = pytest.mark.slow

ENV = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')


def fcmae_config(path, data_root, hooks=()):
    """A 6-iteration atto FCMAE run on 64-px images, a checkpoint every 2 iterations of which
    only the newest is kept."""
    path.write_text(f'''_base_ = [{os.path.join(ROOT, FCMAE_ATTO_CONFIG)!r}]
custom_imports = dict(imports=['mmconvnextv2', 'tests.fault_injection'],
                      allow_failed_imports=False)
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=6)
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, T_max=8)]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
model = dict(backbone=dict(drop_path_rate=0.1))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={data_root!r}))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                                     max_keep_ckpts=1),
                     logger=dict(interval=1))
custom_hooks = {list(hooks)!r}
''')
    return str(path)


def train(config, work_dir, *args):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
         str(work_dir), *args, '--cfg-options', 'train_dataloader.dataset.pipeline.1.scale=64'],
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600)


def logged_losses(work_dir):
    """{iteration: loss} of the latest run in ``work_dir`` (mmengine's scalars.json)."""
    runs = sorted(p for p in os.listdir(work_dir) if os.path.isdir(os.path.join(work_dir, p)))
    path = os.path.join(work_dir, runs[-1], 'vis_data', 'scalars.json')
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return {row['step']: row['loss'] for row in rows if 'loss' in row}


def test_sigkill_while_writing_a_checkpoint_then_resume(tmp_path):
    data = write_image_folder(str(tmp_path / 'data'), per_class=6)
    plain = fcmae_config(tmp_path / 'plain.py', data)
    doomed = fcmae_config(tmp_path / 'doomed.py', data,
                          [dict(type='SignalHook', at_iter=4, during='checkpoint')])

    result = train(plain, tmp_path / 'reference')
    assert result.returncode == 0, result.stderr[-3000:]
    reference = logged_losses(tmp_path / 'reference')
    assert sorted(reference) == [1, 2, 3, 4, 5, 6]

    work = tmp_path / 'killed'
    result = train(doomed, work)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    names = sorted(p.name for p in work.iterdir() if p.is_file())
    # the iteration-4 checkpoint died in its temporary file; the iteration-2 one, which
    # mmengine would already have deleted (max_keep_ckpts=1), is still complete
    assert 'iter_2.pth' in names and 'iter_4.pth' not in names, names
    assert any(n.startswith('iter_4.pth.tmp-') for n in names), names
    assert (work / 'last_checkpoint').read_text().endswith('iter_2.pth')

    result = train(plain, work, '--resume')
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in work.glob('*.pth*')) == ['iter_6.pth']
    resumed = logged_losses(work)
    assert sorted(resumed) == [3, 4, 5, 6]
    for step, loss in resumed.items():
        assert abs(loss - reference[step]) <= 1e-6, (step, loss, reference[step])


UPERNET = os.path.join(ROOT, 'configs', 'demo', 'upernet_convnextv2-atto_demo.py')


def dist_train(config, work_dir, data_root, *args, options=(), timeout=600):
    env = dict(ENV, PYTHON=sys.executable)
    env.pop('PORT', None)  # torchrun --standalone: a free port
    start = time.monotonic()
    result = subprocess.run(
        ['bash', os.path.join(ROOT, 'tools', 'dist_train.sh'), config, '2', '--work-dir',
         str(work_dir), *args, '--cfg-options', f'data_root={data_root}/',
         'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
         'default_hooks.checkpoint.interval=2', 'env_cfg.dist_cfg.timeout=30',
         'randomness.seed=None', 'randomness.diff_rank_seed=True', *options],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    return result, time.monotonic() - start


def explain(result, limit=3000):
    """The parts of a failed run's stderr that say why: each rank's first error (a Python
    traceback, or a C++ abort with faulthandler's stack) and the launcher's summary."""
    err = result.stderr
    marks = ('Traceback (most recent call last)', 'terminate called', 'Fatal Python error')
    starts = sorted({m.start() for mark in marks for m in re.finditer(re.escape(mark), err)})
    parts = [err[s:s + limit // 2] for s in starts[:3]]
    return '\n[...]\n'.join(parts + [err[-limit:]])


@pytest.fixture(scope='module')
def ade(tmp_path_factory):
    from mmconvnextv2.datasets import make_demo_data
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=8, num_val=4,
                          size=128)['ade']


@pytest.mark.parametrize('sig', ['SIGKILL', 'SIGSTOP'])
def test_one_of_two_processes_fails_then_the_run_resumes(ade, tmp_path, sig):
    """Rank 1 dies (SIGKILL) or freezes (SIGSTOP) after iteration 3 of 6. The run ends with
    an error that names the failed rank, within the collective timeout (30 s here), not a
    hang; ``--resume`` then completes it from the iteration-2 checkpoint."""
    config = tmp_path / 'faulty.py'
    config.write_text(f'''_base_ = [{UPERNET!r}]
custom_imports = dict(imports=['mmconvnextv2', 'tests.fault_injection'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SignalHook', at_iter=3, sig={sig!r}, rank=1)]
''')
    result, seconds = dist_train(str(config), tmp_path, ade, timeout=300)
    assert result.returncode != 0
    assert seconds < 200, seconds
    assert 'dist_train.sh: training failed' in result.stderr, result.stderr[-3000:]
    if sig == 'SIGKILL':
        assert 'Signal 9 (SIGKILL)' in result.stderr, result.stderr[-3000:]
    else:  # rank 0 waits in a collective until the timeout, then names it as the root cause
        assert 'Timed out waiting 30000ms' in result.stderr, result.stderr[-3000:]
    assert (tmp_path / 'iter_2.pth').exists() and not (tmp_path / 'iter_4.pth').exists()

    result, _ = dist_train(UPERNET, tmp_path, ade, '--resume')
    assert result.returncode == 0, explain(result)
    assert (tmp_path / 'iter_6.pth').exists()
    log = sorted(tmp_path.glob('*/*.log'))[-1].read_text()
    assert 'resumed' in log.lower() and 'iter_2.pth' in log
    if sig == 'SIGSTOP':
        return
    # both ranks continued exactly: the decode heads' dropout draws of each rank after the
    # resume are those of an uninterrupted run with the same (drawn) seed, so the averaged
    # gradients and the final weights are the same
    seed = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['meta']['seed']
    reference = tmp_path / 'reference'
    result, _ = dist_train(UPERNET, reference, ade, options=[f'randomness.seed={seed}'])
    assert result.returncode == 0, explain(result)
    resumed = torch.load(tmp_path / 'iter_6.pth', weights_only=True)['state_dict']
    full = torch.load(reference / 'iter_6.pth', weights_only=True)['state_dict']
    assert resumed.keys() == full.keys()
    worst = max((resumed[k].float() - full[k].float()).abs().max().item() for k in full)
    assert worst <= 1e-6, worst
