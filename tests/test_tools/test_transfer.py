"""Mask R-CNN and UperNet with the ConvNeXt V2-A backbone train and evaluate on tiny data."""
import os

import pytest
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.datasets import CLASSES, make_demo_data
from tests.conftest import ROOT

DEMO = os.path.join(ROOT, 'configs', 'demo')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=8, num_val=4,
                          size=128)


def run(config, data_root, work_dir, iters=2):
    cfg = load_config(os.path.join(DEMO, config), work_dir=str(work_dir), cfg_options={
        'data_root': data_root + '/',
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
    })
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_mask_rcnn_trains_and_reports_coco_ap(data, tmp_path):
    runner = run('mask-rcnn_convnextv2-atto_fpn_demo.py', data['coco'], tmp_path)
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    assert 'train/loss_mask' in scalars and 'train/loss_rpn_cls' in scalars
    assert 'val/coco/bbox_mAP' in scalars and 'val/coco/segm_mAP' in scalars, list(scalars)
    assert (tmp_path / 'iter_2.pth').exists()


def test_upernet_trains_and_reports_miou(data, tmp_path):
    runner = run('upernet_convnextv2-atto_demo.py', data['ade'], tmp_path)
    scalars = runner.message_hub.log_scalars
    assert 'train/decode.loss_ce' in scalars and 'train/aux.loss_ce' in scalars
    assert 'val/mIoU' in scalars, list(scalars)
    assert (tmp_path / 'iter_2.pth').exists()


def test_dist_train_two_processes(data, tmp_path):
    """tools/dist_train.sh: 2 processes (gloo on the CPU) train a few iterations and write
    one checkpoint. Two such runs started at once on one machine (no PORT given) each get a
    rendezvous of their own."""
    import subprocess
    import sys
    config = os.path.join(DEMO, 'upernet_convnextv2-atto_demo.py')
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    env.pop('PORT', None)
    runs = [subprocess.Popen(
        ['bash', os.path.join(ROOT, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', str(tmp_path / name), '--cfg-options', f'data_root={data["ade"]}/',
         'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
         'default_hooks.checkpoint.interval=3'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        for name in ('a', 'b')]
    for run_, name in zip(runs, ('a', 'b')):
        _, stderr = run_.communicate(timeout=600)
        assert run_.returncode == 0, stderr[-3000:]
        work_dir = tmp_path / name
        assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']
        log = next(work_dir.glob('*/*.log')).read_text()
        assert 'Distributed launcher: pytorch' in log and "'backend': 'gloo'" in log
        assert 'mIoU' in log

    # tools/dist_test.sh evaluates the checkpoint with 2 processes
    result = subprocess.run(
        ['bash', os.path.join(ROOT, 'tools', 'dist_test.sh'), config,
         str(tmp_path / 'a' / 'iter_3.pth'), '2', '--work-dir', str(tmp_path / 'test'),
         '--cfg-options', f'data_root={data["ade"]}/'],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    log = next((tmp_path / 'test').glob('*/*.log')).read_text()
    assert 'Distributed launcher: pytorch' in log and 'mIoU' in log


def test_coco_metric_scores_one_for_ground_truth(data):
    """mmdet's COCO metric on our COCO file: predictions equal to the ground truth give AP
    1.0 for boxes and masks (so the files and the metric agree)."""
    import numpy as np
    import torch
    from mmdet.evaluation import CocoMetric
    from pycocotools.coco import COCO
    ann_file = os.path.join(data['coco'], 'annotations', 'instances_val.json')
    coco = COCO(ann_file)
    metric = CocoMetric(ann_file=ann_file, metric=['bbox', 'segm'])
    metric.dataset_meta = dict(classes=CLASSES)
    samples = []
    for img_id in coco.getImgIds():
        info = coco.loadImgs(img_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                               a['bbox'][1] + a['bbox'][3]] for a in anns])
        masks = np.stack([coco.annToMask(a) for a in anns]).astype(bool)
        samples.append(dict(
            img_id=img_id, ori_shape=(info['height'], info['width']),
            pred_instances=dict(bboxes=boxes, scores=torch.ones(len(anns)),
                                labels=torch.tensor([a['category_id'] - 1 for a in anns]),
                                masks=torch.from_numpy(masks))))
    assert sum(len(s['pred_instances']['scores']) for s in samples) > 0
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0)
    assert results['coco/segm_mAP'] == pytest.approx(1.0)


@pytest.mark.slow
def test_demo_pipeline_end_to_end(tmp_path):
    """`tools/demo.py --tiny` (one seed, to keep CI short; the aggregation over seeds is
    `test_demo_summary.py`'s): every stage runs; the summary has every task, metric and encoder
    setting with both inits, a verdict each, the feature-collapse comparison with and without
    GRN, and every picture it names exists."""
    import json
    import subprocess
    import sys
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'demo.py'), '--tiny',
                             '--seeds', '0', '--work-dir', str(tmp_path)], capture_output=True,
                            text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((tmp_path / 'summary.json').read_text())
    rows = {(r['task'], r['metric'], r['setting']): r for r in summary['rows']}
    assert set(rows) == {(task, metric, setting)
                         for task, metric in (('Mask R-CNN', 'box AP'), ('Mask R-CNN', 'mask AP'),
                                              ('UperNet', 'mIoU'))
                         for setting in ('frozen', 'fine-tuned')}
    for row in rows.values():
        for init in ('FCMAE', 'random'):
            assert len(row[init]['values']) == 1, row  # one per seed
            assert row[init]['spread'] == 0
        assert row['verdict'] != 'no result'
    # a frozen run leaves the pretrained encoder as it was; a fine-tuned one changes it
    import torch
    pretrained = torch.load(tmp_path / 'fcmae_backbone.pth', map_location='cpu')['state_dict']
    for run, changed in (('det_frozen_fcmae_seed0', False), ('det_finetuned_fcmae_seed0', True)):
        state = torch.load(tmp_path / run / 'iter_2.pth', map_location='cpu',
                           weights_only=False)['state_dict']
        stages = [k for k in pretrained if '.stages.' in k]
        assert stages
        moved = [k for k in stages if not torch.equal(state[k], pretrained[k])]
        assert bool(moved) == changed, (run, moved[:3])
    distances = summary['feature_cosine_distance']
    assert {'random init', 'GRN@4', 'no-GRN@4'} <= set(distances)
    names = ' '.join(summary['pictures'])
    for kind in ('reconstructions', 'training_curves', 'feature_collapse', 'det_predictions',
                 'seg_predictions'):
        assert kind in names, kind
    assert all(os.path.isfile(p) for p in summary['pictures'])
    assert (tmp_path / 'summary.md').read_text().startswith('# mmconvnextv2 demo')
