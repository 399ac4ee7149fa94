"""`make demo`: the whole pipeline on the embedded demo data, each stage a plain tool call.

1. FCMAE pretraining of ConvNeXt V2-A (and a shorter run without GRN, for the feature-collapse
   comparison);
2. the checkpoint converted to a backbone;
3. Mask R-CNN fine-tuning and COCO evaluation; 4. UperNet fine-tuning and mIoU;
5. the same two from random initialization;
6. pictures (reconstructions, predictions, curves, feature collapse) and a summary table,
   written as Markdown and JSON under the work dir.
"""
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# iterations of each stage at the default sizes (about 13 minutes on 2 CPU cores)
DEFAULT_ITERS = dict(fcmae=300, fcmae_nogrn=150, det=100, seg=300)
TINY_ITERS = dict(fcmae=4, fcmae_nogrn=2, det=2, seg=2)


class Demo:
    """Runs the stages; ``iters`` and the data sizes decide the cost."""

    def __init__(self, work_dir: str = 'work_dirs/demo', iters: Optional[Dict] = None,
                 num_train: int = 128, num_val: int = 16, size: int = 128,
                 python: str = sys.executable):
        self.work_dir = osp.abspath(work_dir)
        self.iters = dict(DEFAULT_ITERS, **(iters or {}))
        self.num_train, self.num_val, self.size = num_train, num_val, size
        self.python = python
        self.start = time.time()
        self.stage_no = 0
        self.pictures: List[str] = []
        self.commands: List[str] = []

    # helpers --------------------------------------------------------------------------------
    def banner(self, text: str) -> None:
        self.stage_no += 1
        elapsed = time.time() - self.start
        print(f'\n=== [{self.stage_no}] {text}  (elapsed {elapsed / 60:.1f} min) ===',
              flush=True)

    def tool(self, script: str, *args: str) -> None:
        cmd = [self.python, osp.join(ROOT, 'tools', script), *map(str, args)]
        shown = ' '.join(shlex.quote(c) for c in
                         ['python', osp.join('tools', script), *map(str, args)])
        self.commands.append(shown)
        print(f'$ {shown}', flush=True)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)

    def train(self, name: str, config: str, iters: int, *options: str) -> str:
        work = osp.join(self.work_dir, name)
        self.tool('train.py', osp.join('configs', 'demo', config), '--work-dir', work,
                  '--cfg-options', f'train_cfg.max_iters={iters}',
                  *options)
        return work

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
        data_dir = osp.join(self.work_dir, 'data')
        self.banner(f'demo data: {self.num_train}+{self.num_val} images of {self.size} px '
                    f'(ImageNet folders, COCO instances, ADE20K label maps)')
        data = make_demo_data(data_dir, self.num_train, self.num_val, self.size)

        it = self.iters
        self.banner(f'FCMAE pretraining of ConvNeXt V2-A, {it["fcmae"]} iterations')
        fcmae = self.train('fcmae', 'fcmae_convnextv2-atto_demo.py', it['fcmae'],
                           f'data_root={data["imagenet"]}/',
                           f'default_hooks.checkpoint.interval={it["fcmae_nogrn"]}')
        self.banner(f'FCMAE without GRN, {it["fcmae_nogrn"]} iterations (feature collapse)')
        fcmae_nogrn = self.train('fcmae_nogrn', 'fcmae_convnextv2-atto_demo.py',
                                 it['fcmae_nogrn'], f'data_root={data["imagenet"]}/',
                                 'model.backbone.use_grn=False', 'custom_hooks=[]')

        self.banner('convert the FCMAE checkpoint to a backbone')
        backbone = osp.join(self.work_dir, 'fcmae_backbone.pth')
        self.tool('model_converters/fcmae_to_backbone.py',
                  osp.join(fcmae, f'iter_{it["fcmae"]}.pth'), backbone)

        runs = {}
        for init, extra in (('pretrained', [f'pretrained={backbone}']), ('random', [])):
            self.banner(f'Mask R-CNN from {init} init, {it["det"]} iterations + COCO eval')
            runs[f'det_{init}'] = self.train(
                f'det_{init}', 'mask-rcnn_convnextv2-atto_fpn_demo.py', it['det'],
                f'data_root={data["coco"]}/', f'train_cfg.val_interval={it["det"]}',
                f'default_hooks.checkpoint.interval={it["det"]}', *extra)
            self.banner(f'UperNet from {init} init, {it["seg"]} iterations + mIoU')
            runs[f'seg_{init}'] = self.train(
                f'seg_{init}', 'upernet_convnextv2-atto_demo.py', it['seg'],
                f'data_root={data["ade"]}/', f'train_cfg.val_interval={it["seg"]}',
                f'default_hooks.checkpoint.interval={it["seg"]}', *extra)

        self.banner('pictures: predictions, training curves, feature collapse')
        for kind, config in (('det', 'mask-rcnn_convnextv2-atto_fpn_demo.py'),
                             ('seg', 'upernet_convnextv2-atto_demo.py')):
            work = runs[f'{kind}_pretrained']
            root = data['coco'] if kind == 'det' else data['ade']
            show = osp.join(self.work_dir, 'pictures', f'{kind}_predictions')
            self.tool('test.py', osp.join('configs', 'demo', config),
                      osp.join(work, f'iter_{it[kind]}.pth'), '--work-dir',
                      osp.join(work, 'test'), '--show-dir', show,
                      '--cfg-options', f'data_root={root}/')
            self.pictures += sorted(glob.glob(osp.join(show, '**', '*.jpg'), recursive=True) +
                                    glob.glob(osp.join(show, '**', '*.png'),
                                              recursive=True))[:4]
        self.pictures += sorted(glob.glob(osp.join(fcmae, 'reconstructions', '*.png')))
        self.pictures += self.plot_curves(runs, fcmae)
        fc_out = osp.join(self.work_dir, 'pictures', 'feature_collapse')
        cfg = osp.join('configs', 'demo', 'fcmae_convnextv2-atto_demo.py')
        self.tool('analysis/feature_collapse.py',
                  '--model', 'GRN', cfg, osp.join(fcmae, f'iter_{it["fcmae_nogrn"]}.pth'),
                  '--model', 'no-GRN', cfg,
                  osp.join(fcmae_nogrn, f'iter_{it["fcmae_nogrn"]}.pth'),
                  '--override', 'no-GRN', 'model.backbone.use_grn=False',
                  '--images', osp.join(data['imagenet'], 'val'), '--out', fc_out)
        with open(osp.join(fc_out, 'feature_collapse.json')) as f:
            collapse = json.load(f)
        self.pictures += collapse['pictures']
        return self.summary(runs, collapse['curves'])

    def plot_curves(self, runs: dict, fcmae: str) -> List[str]:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        out = []
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
        for ax, (title, works) in zip(axes, (
                ('FCMAE pretraining', {'FCMAE': fcmae}),
                ('Mask R-CNN', {k: v for k, v in runs.items() if k.startswith('det')}),
                ('UperNet', {k: v for k, v in runs.items() if k.startswith('seg')}))):
            for label, work in works.items():
                recs = [r for r in self.scalars(work) if 'loss' in r and 'iter' in r]
                ax.plot([r['iter'] for r in recs], [r['loss'] for r in recs], label=label)
            ax.set_title(title)
            ax.set_xlabel('iteration')
            ax.set_ylabel('training loss')
            ax.legend()
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = osp.join(self.work_dir, 'pictures', 'training_curves.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        out.append(path)
        return out

    def summary(self, runs: dict, collapse: dict) -> dict:
        rows = []
        for task, metric_keys in (('det', ('coco/bbox_mAP', 'coco/segm_mAP')),
                                  ('seg', ('mIoU', ))):
            for init in ('pretrained', 'random'):
                m = self.final_metrics(runs[f'{task}_{init}'])
                rows.append(dict(task='Mask R-CNN' if task == 'det' else 'UperNet', init=init,
                                 **{k.split('/')[-1]: m.get(k) for k in metric_keys}))
        minutes = (time.time() - self.start) / 60
        result = dict(rows=rows, feature_cosine_distance={
            k: sum(v) / len(v) for k, v in collapse.items()}, pictures=self.pictures,
            commands=self.commands, wall_minutes=minutes, iters=self.iters)

        def fmt(v):
            return '–' if v is None else f'{v:.3f}' if isinstance(v, float) else str(v)

        lines = ['| task | init | box AP | mask AP | mIoU |', '|---|---|---:|---:|---:|']
        for r in rows:
            lines.append(f'| {r["task"]} | {r["init"]} | {fmt(r.get("bbox_mAP"))} | '
                         f'{fmt(r.get("segm_mAP"))} | {fmt(r.get("mIoU"))} |')
        lines += ['', 'Mean feature cosine distance over the blocks (higher = less collapse): ' +
                  ', '.join(f'{k} {v:.3f}' for k, v in
                            result['feature_cosine_distance'].items()),
                  '', f'Wall time: {minutes:.1f} minutes', '', 'Pictures:']
        lines += [f'- {osp.relpath(p, self.work_dir)}' for p in self.pictures]
        table = '\n'.join(lines)
        with open(osp.join(self.work_dir, 'summary.md'), 'w') as f:
            f.write('# mmconvnextv2 demo\n\n' + table + '\n')
        with open(osp.join(self.work_dir, 'summary.json'), 'w') as f:
            json.dump(result, f, indent=2)
        print('\n' + table, flush=True)
        print(f'\nsummary: {osp.join(self.work_dir, "summary.md")} and summary.json')
        return result
