"""The demo's verdicts and its command line: what a row of the table claims follows from the
numbers and the seed spread (fast; the pipeline itself is `test_transfer.py`'s slow test)."""
import json
import os
import subprocess
import sys

import pytest

from mmconvnextv2.apis.demo import Demo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def row(setting, fcmae, random):
    def stat(values):
        return dict(values=values, mean=sum(values) / len(values),
                    spread=max(values) - min(values))
    return dict(setting=setting, FCMAE=stat(fcmae), random=stat(random))


@pytest.mark.parametrize('setting,fcmae,random,verdict', [
    # frozen: better by more than the larger spread (0.02) is the claim the demo needs
    ('frozen', [0.30, 0.32], [0.20, 0.21], 'FCMAE better, beyond the seed spread'),
    ('frozen', [0.22, 0.24], [0.20, 0.22], 'FCMAE better, within the seed spread'),
    ('frozen', [0.20, 0.21], [0.20, 0.23], 'FCMAE not better'),
    # fine-tuned: no worse than random within the spread is enough
    ('fine-tuned', [0.30, 0.31], [0.20, 0.21], 'FCMAE better, beyond the seed spread'),
    ('fine-tuned', [0.19, 0.21], [0.20, 0.22], 'no worse than random (within the seed spread)'),
    ('fine-tuned', [0.10, 0.11], [0.20, 0.22], 'FCMAE worse, beyond the seed spread'),
])
def test_verdict_follows_the_gap_and_the_spread(setting, fcmae, random, verdict):
    assert Demo.verdict(row(setting, fcmae, random)) == verdict


def test_missing_result_is_said():
    r = row('frozen', [0.3], [0.2])
    r['random'] = dict(values=[], mean=None, spread=None)
    assert Demo.verdict(r) == 'no result'


def test_schedule_is_fitted_to_the_run_length():
    demo = Demo('unused')
    args = demo.train_job('det', 'mask-rcnn_convnextv2-atto_fpn_demo.py', 120).args
    assert 'train_cfg.max_iters=120' in args
    assert 'param_scheduler.0.end=20' in args  # warm-up: a sixth of the run, at most 50
    assert 'param_scheduler.1.begin=20' in args and 'param_scheduler.1.end=120' in args


def test_collapse_checkpoints_split_the_shorter_run():
    assert Demo('unused', iters=dict(fcmae=200, fcmae_nogrn=400)).collapse_checkpoints() == \
        [50, 100, 150, 200]
    assert Demo('unused', iters=dict(fcmae=2, fcmae_nogrn=2)).collapse_checkpoints() == [1, 2]
    # without the no-GRN run, the GRN run's own checkpoints
    assert Demo('unused', iters=dict(fcmae=200, fcmae_nogrn=0)).collapse_checkpoints() == \
        [50, 100, 150, 200]
    job = Demo('unused', iters=dict(fcmae=8, fcmae_nogrn=0)).collapse_job(
        dict(coco='unused'), [4, 8])
    assert 'GRN@8' in job.args and not any('no-GRN' in str(a) for a in job.args)


def test_frozen_and_fine_tuned_runs_have_their_own_length():
    assert Demo.stage('det', 'frozen') == 'det_frozen' and Demo.stage('seg', 'fine-tuned') == 'seg'


def test_bad_stage_override_is_named():
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'demo.py'), '--iters',
                             'dett=10'], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert '--iters dett=10' in result.stderr and 'fcmae, fcmae_nogrn, det, det_frozen' in \
        result.stderr


def test_results_gather_every_seed_of_every_run(tmp_path):
    """Each row takes its metric from the last scalars file of each seed's run."""
    demo = Demo(str(tmp_path), seeds=(0, 1))
    box = {('FCMAE', 0): 0.30, ('FCMAE', 1): 0.34, ('random', 0): 0.20, ('random', 1): 0.21}
    for task, metric in (('det', 'coco/bbox_mAP'), ('seg', 'mIoU')):
        for setting in ('frozen', 'fine-tuned'):
            for (init, seed), value in box.items():
                logs = tmp_path / demo.run_name(task, setting, init, seed) / '20260101' / \
                    'vis_data'
                logs.mkdir(parents=True)
                lines = [{'loss': 1.0, 'iter': 1}, {metric: value - 0.1, 'step': 1},
                         {metric: value, 'step': 2}]  # the last evaluation counts
                (logs / 'scalars.json').write_text('\n'.join(map(json.dumps, lines)))
    rows = {(r['metric'], r['setting']): r for r in demo.results()}
    row = rows[('box AP', 'frozen')]
    assert row['FCMAE']['values'] == [0.30, 0.34] and row['random']['values'] == [0.20, 0.21]
    assert row['FCMAE']['mean'] == pytest.approx(0.32)
    assert row['FCMAE']['spread'] == pytest.approx(0.04)
    assert row['iters'] == demo.iters['det_frozen']
    assert Demo.verdict(row) == 'FCMAE better, beyond the seed spread'
    assert rows[('mask AP', 'frozen')]['FCMAE']['values'] == []  # no segm metric was logged
    assert rows[('mIoU', 'fine-tuned')]['random']['mean'] == pytest.approx(0.205)


PROBE = '''import sys
import torch
with open(sys.argv[1], 'a') as f:
    f.write(f'{sys.argv[2]} {torch.get_num_threads()} {"mmdet.models" in sys.modules}\\n')
print('ran', sys.argv[2])
if sys.argv[2] == 'c':
    raise ValueError('c is broken')
'''


def test_jobs_run_in_order_from_the_fork_server_and_a_failure_shows_its_log(tmp_path):
    """Each tool runs as `python tool ARGS` would (its argv, its log, one thread per run of
    two), forked from a process that imported OpenMMLab once; a job starts after the jobs it
    needs; the first failure stops the rest and shows the end of its log."""
    from mmconvnextv2.apis.demo import Job
    probe, trace = tmp_path / 'probe.py', tmp_path / 'trace.txt'
    probe.write_text(PROBE)
    demo = Demo(str(tmp_path / 'work'), jobs=2)
    demo.run_jobs([Job('b', str(probe), [trace, 'b'], after=['a']),
                   Job('a', str(probe), [trace, 'a'])])
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert trace.read_text().splitlines() == [f'a {threads} True', f'b {threads} True']
    assert 'ran b' in (tmp_path / 'work' / 'logs' / 'b.log').read_text()
    with pytest.raises(RuntimeError, match=r'(?s)c failed \(exit code 1\).*c is broken'):
        demo.run_jobs([Job('c', str(probe), [trace, 'c']),
                       Job('d', str(probe), [trace, 'd'], after=['c'])])
    assert trace.read_text().splitlines()[-1] == f'c {threads} True'  # d never started
