"""Every shipped recipe runs as shipped: its own dataset class on the real data layout, its
pipelines, evaluator, hooks, optimizer constructor and test-time augmentation train one or two
iterations and evaluate, on tiny data (:mod:`tests.real_layouts`), through the train tool's
config logic (:func:`mmconvnextv2.apis.load_config`) and mmengine's ``Runner``.

Changed from the recipes, for a CPU test only: the length of the run (an epoch-based run
stops after its first epoch, :class:`StopAfterFirstEpoch`; UperNet's iterations), batch sizes
of 1 or 2, no loader workers, a seed, the arch of the classifiers of larger archs (atto, with
the head's input width to match), and the widths of the Mask R-CNN and UperNet heads
(:data:`NARROW_MASK_RCNN`, :data:`NARROW_UPERNET`; the backbone-to-neck joints keep their
shipped widths). At the shipped head widths the cases took 27 s (Mask R-CNN 1x), 48 s (LSJ)
and 80 s (UperNet) instead of 18, 24 and 25 s, on two shared cores: the recipes' 800-1024 px
and 512 px inputs go through 256-channel FPN and RoI heads and UperNet's 512-channel
bottleneck.
"""
import glob
import math
import numbers
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from tests.conftest import ROOT
from tests.real_layouts import write_ade20k, write_coco2017, write_imagenet

ATTO_WIDTH = 320  # atto's last stage: the classifier head's input


@pytest.fixture(scope='module', autouse=True)
def _format_each_config_once():
    """A runner formats its config with yapf five times, the same text each time (the log,
    the dumped file, the visualizer's copy, the message hub, each checkpoint): at about 0.6 s
    a time, 15 % of this module. The first time for each content still runs mmengine's
    formatter; the repeats are served from a cache."""
    original = Config.pretty_text
    cache = {}

    def pretty_text(cfg):
        key = repr(cfg._cfg_dict.to_dict())
        if key not in cache:
            cache[key] = original.fget(cfg)
        return cache[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, 'pretty_text', property(pretty_text))
        yield


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    return write_imagenet(str(tmp_path_factory.mktemp('imagenet')), num_train=4, num_val=2)


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    """One image a split: the recipes resize every image to 800 or 1024 px, where one image
    costs this Mask R-CNN about 8 s of CPU time to train on and 5 s to test (800 px)."""
    return write_coco2017(str(tmp_path_factory.mktemp('coco')), num_train=1, num_val=1)


@pytest.fixture(scope='module')
def ade(tmp_path_factory):
    return write_ade20k(str(tmp_path_factory.mktemp('ade') / 'ADEChallengeData2016'),
                        num_train=2, num_val=1)


def loaders(batch_size, splits=('train', 'val', 'test')):
    options = {}
    for split in splits:
        options.update({f'{split}_dataloader.batch_size': batch_size,
                        f'{split}_dataloader.num_workers': 0,
                        f'{split}_dataloader.persistent_workers': False})
    return options


class StopAfterFirstEpoch(Hook):
    """Ends an epoch-based run after its first epoch (and that epoch's validation), leaving
    the recipe's ``max_epochs``, and so its learning-rate schedule, as shipped (a schedule
    with 40 warm-up epochs cannot be built for a run of ``max_epochs=1``)."""

    def after_train_epoch(self, runner):
        runner.train_loop.stop_training = True


def build(config, data_root, work_dir, options):
    """The runner ``tools/train.py`` builds for ``config`` with these ``--cfg-options`` (and
    ``data_root``, and a seed: the mmdet and mmseg recipes set none); an epoch-based one stops
    after its first epoch."""
    cfg = load_config(os.path.join(ROOT, config), work_dir=str(work_dir),
                      cfg_options=dict(options, data_root=data_root, **{'randomness.seed': 0}))
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    if 'max_epochs' in (cfg.get('train_cfg') or {}):
        runner.register_hook(StopAfterFirstEpoch())
    return runner


def spy_inputs(model, method='extract_feat'):
    """Record the (H, W) of every batch that reaches ``model.<method>``."""
    sizes = []
    original = getattr(model, method)

    def spy(inputs, *args, **kwargs):
        sizes.append(tuple(inputs.shape[2:]))
        return original(inputs, *args, **kwargs)

    setattr(model, method, spy)
    return sizes


def scalars(runner, prefix):
    """The last logged value of each ``prefix/...`` scalar, by its name without the prefix."""
    return {k[len(prefix) + 1:]: v.current()
            for k, v in runner.message_hub.log_scalars.items() if k.startswith(prefix + '/')}


def assert_losses(runner, names):
    logged = scalars(runner, 'train')
    for name in ('loss', ) + tuple(names):
        assert name in logged, sorted(logged)
        assert math.isfinite(logged[name]), (name, logged[name])


def assert_metrics(metrics, ranges):
    for name, (low, high) in ranges.items():
        assert name in metrics, sorted(metrics)
        value = metrics[name]
        assert isinstance(value, numbers.Real) and low <= value <= high, (name, value)


def load(path):
    assert os.path.isfile(path), sorted(os.listdir(os.path.dirname(path)))
    return torch.load(path, map_location='cpu', weights_only=False)


# ---------------------------------------------------------------------------------------------
# ImageNet classifiers (configs/convnextv2/): one case per pipeline
# ---------------------------------------------------------------------------------------------

def _arch(path):
    return os.path.basename(path).split('_')[0].split('-', 1)[1]


def _pipeline(cfg):
    """A classifier recipe's data path: dataset class, the transforms of its train and test
    pipelines with their sizes, its batch augments (Mixup, CutMix)."""
    def steps(pipeline):
        return tuple((t['type'], tuple(str(t.get(k)) for k in ('scale', 'crop_size')))
                     for t in pipeline or ())
    val = cfg.get('val_dataloader') or {}
    return (cfg.train_dataloader.dataset.type, steps(cfg.train_dataloader.dataset.pipeline),
            steps(val.get('dataset', {}).get('pipeline')),
            tuple(a['type'] for a in (cfg.model.get('train_cfg') or {}).get('augments') or ()))


def classifier_cases():
    """One config per distinct :func:`_pipeline` under configs/convnextv2/, the one of the
    smallest arch (the 22K / 384-px / 512-px recipes are found as they are added)."""
    from mmconvnextv2.models.backbones.convnextv2 import channels_of
    groups = {}
    for path in sorted(glob.glob(os.path.join(ROOT, 'configs', 'convnextv2', '*.py'))):
        groups.setdefault(_pipeline(Config.fromfile(path)), []).append(path)
    return sorted(os.path.relpath(min(paths, key=lambda p: channels_of(_arch(p))[-1]), ROOT)
                  for paths in groups.values())


CLASSIFIERS = classifier_cases()


def _size(pipeline, kinds):
    """The output size of a pipeline's last resizing step of one of ``kinds``."""
    step = [t for t in pipeline if t['type'] in kinds][-1]
    size = step.get('crop_size', step.get('scale'))
    return (size, size) if isinstance(size, int) else tuple(size)


def test_classifier_cases_cover_the_pipelines():
    """ImageNet-1k with and without Mixup/CutMix, ImageNet-22K, 384 and 512 px."""
    pipelines = [_pipeline(Config.fromfile(os.path.join(ROOT, p))) for p in CLASSIFIERS]
    assert 'convnextv2-atto_32xb32_in1k.py' in {os.path.basename(p) for p in CLASSIFIERS}
    assert {p[0] for p in pipelines} == {'ImageNet', 'ImageNet21k'}
    assert any(p[3] == ('Mixup', 'CutMix') for p in pipelines if p[0] == 'ImageNet')
    crops = {str(p[1]) for p in pipelines}
    assert all(any(f"'{size}'" in c for c in crops) for size in (224, 384, 512)), crops


@pytest.mark.parametrize('config', CLASSIFIERS)
def test_classifier_recipe(config, imagenet, tmp_path):
    shipped = Config.fromfile(os.path.join(ROOT, config))
    evaluates = shipped.get('val_dataloader') is not None
    options = loaders(2, ('train', 'val', 'test') if evaluates else ('train', ))
    if _arch(config) != 'atto':
        options.update({'model.backbone.arch': 'atto', 'model.head.in_channels': ATTO_WIDTH})
    runner = build(config, imagenet, tmp_path, options)
    sizes = spy_inputs(runner.model)
    runner.train()

    assert runner.iter == 2 and runner.epoch == 1  # 4 images, batch 2
    assert_losses(runner, ())
    # the recipe's dataset read the meta/ list
    dataset = runner.train_dataloader.dataset
    assert type(dataset).__name__ == shipped.train_dataloader.dataset.type
    assert dataset.ann_file.endswith(os.path.join('meta', 'train.txt'))
    assert [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))] == [0, 1, 2, 0]
    # its crops and test resizing reached the model
    train = _size(shipped.train_dataloader.dataset.pipeline, ('RandomResizedCrop', ))
    expected = [train] * 2
    if evaluates:
        expected += [_size(shipped.val_dataloader.dataset.pipeline, ('Resize', 'CenterCrop'))]
    assert sizes == expected
    # its layer-decay constructor gave the layers learning rates of their own
    assert len({g['lr'] for g in runner.optim_wrapper.optimizer.param_groups}) > 5
    # its batch augments (``augments=None`` leaves mmpretrain a RandomBatchAugment that does
    # nothing)
    batch_augments = runner.model.data_preprocessor.batch_augments
    applied = [type(a).__name__ for a in getattr(batch_augments, 'augments', []) if a is not None]
    assert tuple(applied) == _pipeline(shipped)[3]
    # its EMA, kept in the checkpoint
    state = load(str(tmp_path / 'epoch_1.pth'))
    assert ('ema_state_dict' in state) == any(h['type'] == 'EMAHook'
                                              for h in shipped.get('custom_hooks', []))
    if evaluates:
        assert_metrics(scalars(runner, 'val'), {'accuracy/top1': (0, 100),
                                                'accuracy/top5': (0, 100)})
    else:  # ImageNet-22K intermediate fine-tuning: no validation split
        assert not any(k.startswith('val/') for k in runner.message_hub.log_scalars)


# ---------------------------------------------------------------------------------------------
# FCMAE pretraining
# ---------------------------------------------------------------------------------------------

FCMAE = 'configs/fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py'


def test_fcmae_recipe(imagenet, tmp_path):
    # a checkpoint after the first epoch (the recipe writes one every 10)
    runner = build(FCMAE, imagenet, tmp_path, dict(loaders(2, ('train', )),
                                                   **{'default_hooks.checkpoint.interval': 1}))
    sizes = spy_inputs(runner.model.backbone, 'forward')
    runner.train()

    assert runner.iter == 2 and runner.epoch == 1  # 4 images, batch 2
    assert_losses(runner, ())
    assert sizes == [(224, 224)] * 2
    # the unlabeled dataset scanned every image under train/ (meta/ is not read)
    dataset = runner.train_dataloader.dataset
    assert len(dataset) == 4 and not dataset.ann_file
    # the shipped paramwise settings: no weight decay on the mask token, norms and biases
    names = {id(p): n for n, p in runner.model.named_parameters()}
    decay = {names[id(p)]: g['weight_decay'] for g in runner.optim_wrapper.optimizer.param_groups
             for p in g['params']}
    assert decay['neck.mask_token'] == 0 and decay['backbone.downsample_layers.0.0.bias'] == 0
    assert decay['backbone.downsample_layers.0.0.weight'] == pytest.approx(0.05)
    saved = load(str(tmp_path / 'epoch_1.pth'))['state_dict']
    for name, value in runner.model.state_dict().items():
        assert torch.equal(saved[name], value), name


# ---------------------------------------------------------------------------------------------
# Mask R-CNN on COCO 2017
# ---------------------------------------------------------------------------------------------

MASK_RCNN = 'configs/mask_rcnn/mask-rcnn_convnextv2-atto_fpn_{}_coco.py'
WIDTH = 32
NARROW_MASK_RCNN = {
    'model.neck.out_channels': WIDTH,
    'model.rpn_head.in_channels': WIDTH,
    'model.rpn_head.feat_channels': WIDTH,
    'model.roi_head.bbox_roi_extractor.out_channels': WIDTH,
    'model.roi_head.bbox_head.in_channels': WIDTH,
    'model.roi_head.mask_roi_extractor.out_channels': WIDTH,
    'model.roi_head.mask_head.in_channels': WIDTH,
    'model.roi_head.mask_head.conv_out_channels': WIDTH,
    # An untrained 80-class head scores each class about 1/81, under the shipped 0.05: nothing
    # would be detected and mmdet's CocoMetric would compute no AP at all.
    'model.test_cfg.rcnn.score_thr': 0.0,
}


@pytest.mark.parametrize('schedule, size', [
    ('1x', 800),  # the 128-px image resized to 800 px, for training and testing
    # a 1024-px crop of the image resized by 0.1-2.0, padded to 1024 x 1024; tests at 1024 px
    ('lsj-3x', 1024),
])
def test_mask_rcnn_recipe(schedule, size, coco, tmp_path):
    options = dict(loaders(2, ('train', )), **loaders(1, ('val', 'test')), **NARROW_MASK_RCNN)
    runner = build(MASK_RCNN.format(schedule), coco, tmp_path, options)
    seen = spy_inputs(runner.model)
    runner.train()

    assert runner.iter == 1 and runner.epoch == 1
    assert_losses(runner, ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
                           'loss_mask', 'acc'))
    dataset = runner.train_dataloader.dataset
    assert type(dataset).__name__ == 'CheckedCocoDataset'  # the train tool's checked COCO
    assert len(dataset.metainfo['classes']) == 80
    assert seen == [(size, size)] * 2  # training, then testing
    assert_metrics(scalars(runner, 'val'), {f'coco/{kind}_mAP{s}': (0, 1)
                                            for kind in ('bbox', 'segm')
                                            for s in ('', '_50', '_75')})
    assert load(str(tmp_path / 'epoch_1.pth'))['meta']['epoch'] == 1


# ---------------------------------------------------------------------------------------------
# UperNet on ADE20K
# ---------------------------------------------------------------------------------------------

UPERNET = 'configs/upernet/upernet_convnextv2-atto_8xb2-160k_ade20k-512x512.py'
UPERNET_MS = 'configs/upernet/upernet_convnextv2-atto_8xb2-160k_ade20k-512x512_ms.py'
NARROW_UPERNET = {'model.decode_head.channels': 64, 'model.auxiliary_head.channels': 32}


@pytest.fixture(scope='module')
def upernet(ade, tmp_path_factory):
    """The single-scale recipe, trained one iteration (batch 2: its pyramid pooling's
    batch norm needs two) and validated by slide inference."""
    work_dir = tmp_path_factory.mktemp('upernet')
    options = dict(loaders(2, ('train', )), **loaders(1, ('val', 'test')), **NARROW_UPERNET)
    options.update({'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1,
                    'default_hooks.checkpoint.interval': 1})
    runner = build(UPERNET, ade, work_dir, options)
    seen = spy_inputs(runner.model)
    runner.train()
    return runner, work_dir, seen


def test_upernet_recipe(upernet):
    runner, work_dir, seen = upernet
    assert runner.iter == 1
    assert_losses(runner, ('decode.loss_ce', 'aux.loss_ce'))
    dataset = runner.train_dataloader.dataset
    assert type(dataset).__name__ == 'ADE20KDataset' and dataset.reduce_zero_label
    assert len(dataset.metainfo['classes']) == 150
    # training on 512-px crops; validation by 512-px windows (stride 341) slid over the
    # 128 x 192 image resized to 512 x 768: two of them
    assert seen == [(512, 512)] * 3, seen
    assert_metrics(scalars(runner, 'val'), {'mIoU': (0, 100), 'mAcc': (0, 100),
                                            'aAcc': (0, 100)})
    assert load(str(work_dir / 'iter_1.pth'))['meta']['iter'] == 1


def test_upernet_multiscale_flip_test(upernet, ade, tmp_path):
    """The _ms config (a test config: its model is the TTA wrapper) tests the single-scale
    recipe's checkpoint as ``tools/test.py`` does: 6 scales x 2 flips, merged."""
    _, work_dir, _ = upernet
    options = dict(loaders(1, ('test', )),
                   **{k.replace('model.', 'model.module.'): v for k, v in NARROW_UPERNET.items()})
    options['load_from'] = str(work_dir / 'iter_1.pth')
    runner = build(UPERNET_MS, ade, tmp_path, options)
    assert type(runner.model).__name__ == 'SegTTAModel'
    views = []
    test_step = runner.model.module.test_step

    def spy(data):
        views.append((tuple(data['inputs'][0].shape[1:]), data['data_samples'][0].flip))
        return test_step(data)

    runner.model.module.test_step = spy
    merged = []  # per batch: the number of views merged for each image
    merge_preds = runner.model.merge_preds
    runner.model.merge_preds = lambda per_image: merged.append(
        [len(preds) for preds in per_image]) or merge_preds(per_image)
    metrics = runner.test()

    # the wrapped model tested with the trained weights
    trained = load(str(work_dir / 'iter_1.pth'))['state_dict']
    tested = runner.model.module.state_dict()
    assert [k for k in trained if not torch.equal(trained[k], tested[k])] == []

    # the 128 x 192 validation image at 0.5, ..., 1.75, each as it is and flipped
    sizes = [(round(128 * r), round(192 * r)) for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]
    assert sorted(views) == sorted((s, f) for s in sizes for f in (False, True)), views
    assert merged == [[12]]
    assert_metrics(metrics, {'mIoU': (0, 100), 'mAcc': (0, 100), 'aAcc': (0, 100)})
