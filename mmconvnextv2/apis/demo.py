"""`make demo`: the experiment FCMAE exists for, on embedded data, on a laptop CPU.

Many unlabeled images to pretrain on, few labeled ones to transfer with, and classes that
differ in shape only (:mod:`mmconvnextv2.datasets.demo_data`). Every stage is a plain call of
a tool under ``tools/``, printed as it starts:

1. the data: an unlabeled pool, labeled train and val images (COCO and ADE20K layouts);
2. FCMAE pretraining of ConvNeXt V2-A, and alongside it the same run without GRN (the
   report's feature-collapse comparison);
3. the encoder converted to a backbone checkpoint;
4. transfer: Mask R-CNN (box and mask AP) and UperNet (mIoU), each with the encoder frozen
   (what pretraining learned, alone) and fully fine-tuned, from FCMAE and from random init,
   for every seed;
5. pictures and a summary (mean and spread over the seeds, and what the numbers show),
   written as Markdown and JSON under the work dir.

Runs that do not depend on each other run side by side (``jobs``, one thread each by
default), so the two cores of a laptop both work. Each tool runs in a process forked from one
that has imported OpenMMLab once (a fork server), not in a fresh interpreter: importing
``mmconvnextv2`` with mmdet and mmseg takes about 10 s of a core, paid once instead of once
per run.
"""
import glob
import json
import logging
import multiprocessing
import os
import os.path as osp
import runpy
import shlex
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .model_zoo import mim_dir

ROOT = mim_dir()  # holds configs/ and tools/: the checkout, or the installed package's .mim

# Iterations of each stage at scale 1, sized so that `make demo` takes at most 15 minutes on
# 2 CPU cores (README): FCMAE pretraining with GRN and without (0: not run; the report's
# feature-collapse gap needs longer runs than this budget allows, README), and each transfer
# run, fine-tuned and with the encoder frozen. The fine-tuned Mask R-CNN runs get the most:
# from random init, detection needs about 200 iterations to reach DET_FLOOR here.
DEFAULT_ITERS = dict(fcmae=180, fcmae_nogrn=0, det=200, det_frozen=110, seg=50, seg_frozen=50)
DEFAULT_DATA = dict(num_unlabeled=2000, num_train=96, num_val=64, size=128)
TINY_ITERS = dict(fcmae=4, fcmae_nogrn=4, det=2, det_frozen=2, seg=2, seg_frozen=2)
TINY_DATA = dict(num_unlabeled=16, num_train=8, num_val=4, size=64)

# `frozen` adds options of its own per task: UperNet's head alone on a frozen encoder learns
# faster at 4x the fine-tuning lr (as a linear probe takes a higher lr than fine-tuning);
# measured for both inits, docs/demo_study.md
TASKS = {
    'det': dict(title='Mask R-CNN', config='mask-rcnn_convnextv2-atto_fpn_demo.py', data='coco',
                metrics={'coco/bbox_mAP': 'box AP', 'coco/segm_mAP': 'mask AP'}, frozen=()),
    'seg': dict(title='UperNet', config='upernet_convnextv2-atto_demo.py', data='ade',
                metrics={'mIoU': 'mIoU'}, frozen=('optim_wrapper.optimizer.lr=1.6e-3', )),
}
SETTINGS = {'frozen': ('model.backbone.frozen_stages=4', ), 'fine-tuned': ()}
INITS = ('FCMAE', 'random')
# the box AP that Mask R-CNN must reach from random init, fine-tuned (issue 11)
DET_FLOOR = 0.15


# what every tool imports; the fork server imports it once, before it forks the runs
PRELOAD = ['mmconvnextv2', 'mmdet.models', 'mmseg.models', 'mmengine.runner']
# multiprocessing keeps one fork server per process; it is started under this lock
_FORK_LOCK = threading.Lock()


def run_tool(script: str, args: List[str], log: str, threads: int) -> None:
    """Run ``script`` as ``python script *args`` would, in this (forked) process: its output
    goes to ``log``, torch uses ``threads`` threads. A failure shows in the exit code (and its
    traceback in ``log``)."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, 'w', buffering=1, closefd=False)
    sys.stderr = open(2, 'w', buffering=1, closefd=False)
    import torch
    torch.set_num_threads(threads)
    os.chdir(ROOT)
    sys.argv = [script, *args]
    sys.path.insert(0, osp.dirname(script))  # as `python script` puts it first
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        logging.shutdown()  # the process ends by os._exit: flush the runner's log files


@dataclass
class Job:
    """One tool call; it starts when the jobs named in ``after`` have finished."""
    name: str
    script: str
    args: List[str]
    after: Sequence[str] = ()
    log: str = ''


class Demo:
    """Runs the stages; ``iters``, the data sizes and ``seeds`` decide the cost.

    Args:
        work_dir (str): Where data, runs, pictures and the summary go.
        iters (dict): Iterations of each stage: ``fcmae`` and ``fcmae_nogrn`` (the
            pretraining runs with and without GRN; 0 skips the latter), ``det`` and ``seg``
            (each fine-tuned transfer run), ``det_frozen`` and ``seg_frozen`` (each run with
            the encoder frozen).
        data (dict): ``num_unlabeled``, ``num_train``, ``num_val`` and ``size`` of
            :func:`~mmconvnextv2.datasets.make_demo_data`.
        seeds (Sequence[int]): The seeds of the transfer runs (at least 2 for a spread).
        jobs (int): Runs side by side; each gets ``cpu_count // jobs`` threads.
    """

    def __init__(self, work_dir: str = 'work_dirs/demo', iters: Optional[Dict] = None,
                 data: Optional[Dict] = None, seeds: Sequence[int] = (0, 1), jobs: int = 2):
        self.work_dir = osp.abspath(work_dir)
        self.iters = dict(DEFAULT_ITERS, **(iters or {}))
        self.data = dict(DEFAULT_DATA, **(data or {}))
        self.seeds = list(seeds)
        self.jobs = max(1, jobs)
        self.threads = max(1, (os.cpu_count() or 1) // self.jobs)
        self.start = time.time()
        self.stage_no = 0
        self.pictures: List[str] = []
        self.commands: List[str] = []
        self._print_lock = threading.Lock()
        self._forks = None

    # helpers --------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        with self._print_lock:
            print(text, flush=True)

    def banner(self, text: str) -> None:
        self.stage_no += 1
        elapsed = time.time() - self.start
        self.say(f'\n=== [{self.stage_no}] {text}  (elapsed {elapsed / 60:.1f} min) ===')

    def work(self, name: str) -> str:
        return osp.join(self.work_dir, name)

    def train_job(self, name: str, config: str, iters: int, *options: str,
                  after: Sequence[str] = ()) -> Job:
        """``tools/train.py`` of a demo config for ``iters`` iterations. Its schedule (a
        linear warm-up, then a decay to the end, as every demo config has) is fitted to
        ``iters``: the warm-up takes a sixth of the run, at most 50 iterations."""
        warmup = max(1, min(50, iters // 6))
        return Job(name, 'train.py', [
            osp.join('configs', 'demo', config), '--work-dir', self.work(name),
            '--cfg-options', f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={warmup}',
            f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={iters}', *options],
            after)

    def run_jobs(self, jobs: List[Job]) -> None:
        """Run ``jobs`` (in the given order of priority) ``self.jobs`` at a time, each as
        soon as its ``after`` jobs are done; stop at the first failure, showing its log."""
        pending, done, failed = list(jobs), set(), []
        cond = threading.Condition()

        def next_job():
            for job in pending:
                if set(job.after) <= done:
                    pending.remove(job)
                    return job
            return None

        def worker():
            while True:
                with cond:
                    job = None
                    while not failed and pending:
                        job = next_job()
                        if job is not None:
                            break
                        cond.wait()
                    if job is None:
                        return
                try:
                    self.call(job)
                except Exception as e:  # shown below, after the other runs stop
                    with cond:
                        failed.append((job, e))
                        cond.notify_all()
                    return
                with cond:
                    done.add(job.name)
                    cond.notify_all()

        threads = [threading.Thread(target=worker) for _ in range(self.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failed:
            job, error = failed[0]
            tail = ''
            if job.log and osp.isfile(job.log):
                with open(job.log) as f:
                    tail = ''.join(f.readlines()[-40:])
            raise RuntimeError(f'{job.name} failed ({error}); the end of {job.log}:\n{tail}')

    def call(self, job: Job) -> None:
        script = osp.join(ROOT, 'tools', job.script)
        shown = ' '.join(shlex.quote(c) for c in
                         ['python', osp.join('tools', job.script), *map(str, job.args)])
        job.log = osp.join(self.work_dir, 'logs', f'{job.name}.log')
        os.makedirs(osp.dirname(job.log), exist_ok=True)
        self.commands.append(shown)
        self.say(f'$ {shown}\n    > {osp.relpath(job.log, self.work_dir)}')
        start = time.time()
        process = self.start_fork_server().Process(target=run_tool, name=job.name,
                                     args=(script, list(map(str, job.args)), job.log,
                                           self.threads))
        process.start()
        process.join()
        if process.exitcode and process.exitcode < 0:
            raise RuntimeError(f'killed by signal {-process.exitcode}' +
                               (' (out of memory?)' if process.exitcode == -9 else ''))
        if process.exitcode != 0:
            raise RuntimeError(f'exit code {process.exitcode}')
        self.say(f'    done: {job.name} in {time.time() - start:.0f} s')

    def start_fork_server(self):
        """Start the fork server the runs come from (once; later calls return it): it imports
        :data:`PRELOAD` while the caller goes on, with one thread per run in its environment
        (this process's environment is left as it was)."""
        with _FORK_LOCK:
            if self._forks is None:
                forks = multiprocessing.get_context('forkserver')
                forks.set_forkserver_preload(PRELOAD)
                saved = dict(os.environ)
                os.environ.update(OMP_NUM_THREADS=str(self.threads),
                                  MKL_NUM_THREADS=str(self.threads))
                try:
                    from multiprocessing import forkserver
                    forkserver.ensure_running()
                finally:
                    os.environ.clear()
                    os.environ.update(saved)
                self._forks = forks
        return self._forks

    @staticmethod
    def scalars(work: str) -> List[dict]:
        files = sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))
        if not files:
            return []
        with open(files[-1]) as f:
            return [json.loads(line) for line in f if line.strip()]

    @classmethod
    def final_metrics(cls, work: str) -> dict:
        metrics = {}
        for rec in cls.scalars(work):
            metrics.update({k: v for k, v in rec.items() if 'mAP' in k or 'mIoU' in k})
        return metrics

    # stages ---------------------------------------------------------------------------------
    def run(self) -> dict:
        from mmconvnextv2.datasets import make_demo_data
        d, it = self.data, self.iters
        self.start_fork_server()  # it imports OpenMMLab while the labeled data are drawn
        self.banner(f'data: {d["num_train"]} labeled images for training, {d["num_val"]} for '
                    f'evaluation and {d["num_unlabeled"]} unlabeled ones, {d["size"]} px; the '
                    f'classes differ in shape only')
        # the unlabeled pool is written by its own job, beside the first training runs
        data = make_demo_data(self.work('data'), d['num_train'], d['num_val'], d['size'])
        unlabeled = Job('unlabeled', 'dataset_converters/make_demo_data.py', [
            self.work('data'), '--unlabeled-only', '--num-unlabeled', d['num_unlabeled'],
            '--size', d['size']])

        checkpoints = self.collapse_checkpoints()
        fcmae_options = (f'data_root={data["unlabeled"]}/',
                         f'default_hooks.checkpoint.interval={checkpoints[0]}',
                         'default_hooks.checkpoint.max_keep_ckpts=-1')
        pretrain = [self.train_job('fcmae', 'fcmae_convnextv2-atto_demo.py', it['fcmae'],
                                   *fcmae_options, after=['unlabeled'])]
        if it['fcmae_nogrn']:
            pretrain.append(self.train_job(
                'fcmae_nogrn', 'fcmae_convnextv2-atto_demo.py', it['fcmae_nogrn'],
                *fcmae_options, 'model.backbone.use_grn=False', 'custom_hooks=[]',
                after=['unlabeled']))
        backbone = self.work('fcmae_backbone.pth')
        convert = Job('convert', 'model_converters/fcmae_to_backbone.py',
                      [self.work(f'fcmae/iter_{it["fcmae"]}.pth'), backbone], after=['fcmae'])
        transfer = []
        for task in ('det', 'seg'):  # the longer runs first
            spec = TASKS[task]
            for setting in ('fine-tuned', 'frozen'):
                options = SETTINGS[setting] + (spec['frozen'] if setting == 'frozen' else ())
                n = it[self.stage(task, setting)]
                for init in INITS:
                    for seed in self.seeds:
                        extra = [f'pretrained={backbone}'] if init == 'FCMAE' else []
                        transfer.append(self.train_job(
                            self.run_name(task, setting, init, seed), spec['config'], n,
                            f'data_root={data[spec["data"]]}/',
                            f'train_cfg.val_interval={n}',
                            f'default_hooks.checkpoint.interval={n}',
                            f'randomness.seed={seed}', *options, *extra,
                            after=['convert'] if init == 'FCMAE' else ()))
        nogrn = (f'; without GRN {it["fcmae_nogrn"]}' if it['fcmae_nogrn'] else
                 '; the run without GRN skipped')
        self.banner(f'FCMAE pretraining of ConvNeXt V2-A ({it["fcmae"]} iterations{nogrn}), '
                    f'the encoder as a backbone, and '
                    f'{len(transfer)} transfer runs ({self.jobs} at a time, '
                    f'{self.threads} thread(s) each); then pictures: reconstructions, '
                    f'predictions, training curves, feature collapse')
        # the unlabeled pool and pretraining first; random-init runs fill the waiting slots,
        # and the pictures the last ones
        self.run_jobs([unlabeled] + pretrain + [convert] + transfer +
                      self.picture_jobs(data) + [self.collapse_job(data, checkpoints)])
        self.collect_pictures()
        return self.summary()

    @staticmethod
    def stage(task: str, setting: str) -> str:
        """The ``iters`` key of a transfer run: ``det``, ``det_frozen``, ``seg``, ..."""
        return task if setting == 'fine-tuned' else f'{task}_{setting}'

    @staticmethod
    def run_name(task: str, setting: str, init: str, seed: int) -> str:
        return f'{task}_{setting}_{init}_seed{seed}'.replace('-', '').lower()

    def collapse_checkpoints(self) -> List[int]:
        """The pretraining iterations at which the runs with and without GRN are compared:
        every quarter of the shorter run (fewer for very short runs); of the run with GRN
        alone when the other is skipped."""
        n = min(self.iters['fcmae'], self.iters['fcmae_nogrn'] or self.iters['fcmae'])
        step = max(1, n // 4)
        return sorted({min(n, step * k) for k in range(1, 5)})

    def picture_jobs(self, data: dict) -> List[Job]:
        """Predictions of the first seed's fine-tuned FCMAE runs on the first 4 evaluation
        images, drawn (the metric these runs log covers those 4 images only; the table's
        metrics are the training runs' own evaluation on every image)."""
        jobs = []
        for task, spec in TASKS.items():
            name = self.run_name(task, 'fine-tuned', 'FCMAE', self.seeds[0])
            jobs.append(Job(f'{task}_pictures', 'test.py', [
                osp.join('configs', 'demo', spec['config']),
                self.work(f'{name}/iter_{self.iters[task]}.pth'), '--work-dir',
                self.work(f'{name}/test'), '--show-dir',
                self.work(f'pictures/{task}_predictions'),
                '--cfg-options', f'data_root={data[spec["data"]]}/',
                'test_dataloader.dataset.indices=4'], after=[name]))
        return jobs

    def collapse_job(self, data: dict, checkpoints: List[int]) -> Job:
        config = osp.join('configs', 'demo', 'fcmae_convnextv2-atto_demo.py')
        args = ['--model', 'random init', config, 'none',
                '--override', 'random init', 'model.backbone.use_grn=False']
        for it in checkpoints:
            args += ['--model', f'GRN@{it}', config, self.work(f'fcmae/iter_{it}.pth')]
            if self.iters['fcmae_nogrn']:
                args += ['--model', f'no-GRN@{it}', config,
                         self.work(f'fcmae_nogrn/iter_{it}.pth'),
                         '--override', f'no-GRN@{it}', 'model.backbone.use_grn=False']
        args += ['--images', osp.join(data['coco'], 'val'),
                 '--out', self.work('pictures/feature_collapse')]
        after = ['fcmae', 'fcmae_nogrn'] if self.iters['fcmae_nogrn'] else ['fcmae']
        return Job('feature_collapse', 'analysis/feature_collapse.py', args, after)

    def collect_pictures(self) -> None:
        for task in TASKS:
            show = self.work(f'pictures/{task}_predictions')
            self.pictures += sorted(glob.glob(osp.join(show, '**', '*.jpg'), recursive=True) +
                                    glob.glob(osp.join(show, '**', '*.png'),
                                              recursive=True))[:4]
        self.pictures += sorted(glob.glob(self.work('fcmae/reconstructions/*.png')))
        self.pictures.append(self.plot_curves())
        with open(self.work('pictures/feature_collapse/feature_collapse.json')) as f:
            self.collapse = json.load(f)
        self.pictures += self.collapse['pictures']

    def plot_curves(self) -> str:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
        pretraining = {'GRN': self.work('fcmae')}
        if self.iters['fcmae_nogrn']:
            pretraining['no GRN'] = self.work('fcmae_nogrn')
        panels = [('FCMAE pretraining', pretraining)]
        for task, spec in TASKS.items():
            panels.append((f'{spec["title"]} (seed {self.seeds[0]})', {
                f'{init}, {setting}': self.work(self.run_name(task, setting, init,
                                                              self.seeds[0]))
                for setting in SETTINGS for init in INITS}))
        for ax, (title, works) in zip(axes, panels):
            for label, work in works.items():
                recs = [r for r in self.scalars(work) if 'loss' in r and 'iter' in r]
                ax.plot([r['iter'] for r in recs], [r['loss'] for r in recs], label=label)
            ax.set_title(title)
            ax.set_xlabel('iteration')
            ax.set_ylabel('training loss')
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = self.work('pictures/training_curves.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    # summary --------------------------------------------------------------------------------
    def results(self) -> List[dict]:
        """One row per task, metric and setting: FCMAE's and random init's values per seed,
        their means and spreads (max - min over the seeds)."""
        rows = []
        for task, spec in TASKS.items():
            for key, metric in spec['metrics'].items():
                for setting in SETTINGS:
                    row = dict(task=spec['title'], metric=metric, setting=setting,
                               iters=self.iters[self.stage(task, setting)])
                    for init in INITS:
                        values = [self.final_metrics(self.work(
                            self.run_name(task, setting, init, s))).get(key)
                            for s in self.seeds]
                        values = [v for v in values if v is not None]
                        row[init] = dict(values=values, mean=statistics.mean(values) if values
                                         else None,
                                         spread=max(values) - min(values) if values else None)
                    rows.append(row)
        return rows

    @staticmethod
    def verdict(row: dict) -> str:
        """What a row shows: in the frozen setting FCMAE must beat random init by more than
        the larger seed spread; fine-tuned, it must be no worse than random by more than it."""
        f, r = row['FCMAE'], row['random']
        if f['mean'] is None or r['mean'] is None:
            return 'no result'
        gap = f['mean'] - r['mean']
        spread = max(f['spread'], r['spread'])
        if row['setting'] == 'frozen':
            return ('FCMAE better, beyond the seed spread' if gap > spread else
                    'FCMAE better, within the seed spread' if gap > 0 else 'FCMAE not better')
        return ('FCMAE better, beyond the seed spread' if gap > spread else
                'no worse than random (within the seed spread)' if gap >= -spread else
                'FCMAE worse, beyond the seed spread')

    def collapse_summary(self) -> Dict[str, float]:
        """Mean cosine distance over the blocks, per model of the feature-collapse analysis."""
        return {k: statistics.mean(v) for k, v in self.collapse['curves'].items()}

    def summary(self) -> dict:
        rows = self.results()
        collapse = self.collapse_summary()
        minutes = (time.time() - self.start) / 60
        det_random = next(r for r in rows if r['task'] == 'Mask R-CNN' and
                          r['metric'] == 'box AP' and r['setting'] == 'fine-tuned')['random']
        result = dict(rows=[dict(r, verdict=self.verdict(r)) for r in rows],
                      feature_cosine_distance=collapse, pictures=self.pictures,
                      commands=self.commands, wall_minutes=minutes, iters=self.iters,
                      data=self.data, seeds=self.seeds,
                      det_random_box_ap=det_random['mean'], det_floor=DET_FLOOR)

        def fmt(stat, scale):
            if stat['mean'] is None:
                return '–'
            values = ', '.join(f'{v * scale:.1f}' for v in stat['values'])
            return f'{stat["mean"] * scale:.1f} ± {stat["spread"] * scale / 2:.1f} ({values})'

        lines = [f'Seeds {", ".join(map(str, self.seeds))}: mean ± half the spread (each '
                 'seed). AP in %, mIoU in %.', '',
                 '| task | metric | encoder (iterations) | FCMAE | random init | '
                 'FCMAE − random | verdict |', '|---|---|---|---:|---:|---:|---|']
        for r in result['rows']:
            scale = 100. if 'AP' in r['metric'] else 1.
            gap = ('–' if r['FCMAE']['mean'] is None or r['random']['mean'] is None else
                   f'{(r["FCMAE"]["mean"] - r["random"]["mean"]) * scale:+.1f}')
            lines.append(f'| {r["task"]} | {r["metric"]} | {r["setting"]} ({r["iters"]}) | '
                         f'{fmt(r["FCMAE"], scale)} | {fmt(r["random"], scale)} | {gap} | '
                         f'{r["verdict"]} |')
        lines += ['', 'Feature cosine distance, mean over the blocks (higher = less '
                  'collapse), by pretraining iteration:', '',
                  '| iteration | GRN | no GRN |', '|---:|---:|---:|']
        def dist(key):
            return f'{collapse[key]:.3f}' if key in collapse else '–'

        for it in self.collapse_checkpoints():
            lines.append(f'| {it} | {dist(f"GRN@{it}")} | {dist(f"no-GRN@{it}")} |')
        nogrn = (f'{self.iters["fcmae_nogrn"]} without' if self.iters['fcmae_nogrn'] else
                 'the run without GRN skipped (`--iters fcmae_nogrn=N`; the gap needs 400 '
                 'or more, README)')
        lines += [f'| random init | {dist("random init")} | |', '',
                  f'Mask R-CNN from random init, fine-tuned: box AP '
                  f'{(det_random["mean"] or 0) * 100:.1f} (floor {DET_FLOOR * 100:.0f}).',
                  f'FCMAE pretraining: {self.iters["fcmae"]} iterations with GRN, {nogrn}.',
                  '', f'Wall time: {minutes:.1f} minutes', '', 'Pictures:']
        lines += [f'- {osp.relpath(p, self.work_dir)}' for p in self.pictures]
        table = '\n'.join(lines)
        with open(self.work('summary.md'), 'w') as f:
            f.write('# mmconvnextv2 demo\n\n' + table + '\n')
        with open(self.work('summary.json'), 'w') as f:
            json.dump(result, f, indent=2)
        self.say('\n' + table)
        self.say(f'\nsummary: {self.work("summary.md")} and summary.json')
        return result
