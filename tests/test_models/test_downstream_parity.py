"""Our backbone inside mmdet's Mask R-CNN and mmseg's UperNet gives the same training step as
mmpretrain's ``ConvNeXt(use_grn=True, layer_scale_init_value=0)`` loaded with the same
(converted) weights: every loss term and every gradient, fp32.

A backbone equal to its reference on its own is not enough: the joints between libraries are
where silent errors live. Our backbone once returned its maps in channels-last memory, which
mmcv's compiled ``RoIAlign`` reads as if it were contiguous NCHW; every backbone test passed
while Mask R-CNN learned from scrambled RoI features.
"""
import copy
import os

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmconvnextv2.apis import load_config
from mmconvnextv2.checkpoint import convert_mmpretrain
from mmconvnextv2.datasets import make_demo_data
from tests.conftest import ROOT
from tests.helpers import randomize_

DEMO = os.path.join(ROOT, 'configs', 'demo')
REFERENCE = dict(type='mmpretrain.ConvNeXt', arch='atto', use_grn=True,
                 layer_scale_init_value=0., gap_before_final_norm=False,
                 out_indices=(0, 1, 2, 3), drop_path_rate=0.)
# Tolerances, fp32. A Mask R-CNN step is not a smooth function of the features: proposals are
# ranked and suppressed, samplers pick among them, mask targets are thresholded at 0.5. A
# difference of 1e-6 in the features (ours and mmpretrain's compute in another order) can flip
# one of these choices and move a gradient by more than rounding alone would. Measured over 6
# batches: losses within 1.6e-5 (relative), each head gradient within 6.2e-3 and the backbone's
# within 3.9e-3 (relative L2). Channels-last maps fed to mmcv's RoIAlign gave >= 0.64, >= 1.0
# and >= 0.86.
LOSS_RTOL = 1e-4
GRAD_RTOL = 3e-2  # relative L2 error of each head parameter's gradient, and the backbone's


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=4, num_val=1,
                          size=128)


def build_models(config, data_root, scope):
    """Ours and the reference model of ``config``, with identical weights, and a batch."""
    from mmengine.registry import DATASETS, MODELS
    cfg = load_config(os.path.join(DEMO, config), cfg_options={'data_root': data_root + '/'})
    ours_cfg = copy.deepcopy(cfg.model)
    ours_cfg.backbone.drop_path_rate = 0.
    ref_cfg = copy.deepcopy(cfg.model)
    ref_cfg.backbone = dict(REFERENCE)
    np.random.seed(0)  # the data pipeline's random flips
    with DefaultScope.overwrite_default_scope(scope):
        ref = MODELS.build(ref_cfg)
        ref.init_weights()
        randomize_(ref.backbone, std=0.05)  # GRN gamma/beta and norms away from identity
        ours = MODELS.build(ours_cfg)
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        batch = pseudo_collate([dataset[i] for i in range(2)])
    ours.load_state_dict(convert_mmpretrain(ref.state_dict()))  # renames backbone keys only
    assert type(ours.backbone).__name__ == 'ConvNeXtV2'
    return ours, ref, batch


def training_step(model, batch):
    """Losses and gradients (by our parameter names) of one training step."""
    model.train()
    model.zero_grad()
    data = model.data_preprocessor(copy.deepcopy(batch), training=True)
    torch.manual_seed(0)  # RPN/RoI samplers and dropout draw the same numbers for both
    losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    loss.backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    return {k: float(v) for k, v in log_vars.items()}, grads


def relative_error(got, expected):
    """``||got - expected|| / ||expected||`` over tensors of the same names."""
    diff = sum(float((got[k] - expected[k]).square().sum()) for k in expected)
    norm = sum(float(expected[k].square().sum()) for k in expected)
    return (diff / max(norm, 1e-30))**0.5


def assert_same_step(ours, ref, batch):
    ours_losses, ours_grads = training_step(ours, batch)
    ref_losses, ref_grads = training_step(ref, batch)
    assert set(ours_losses) == set(ref_losses)
    for name, value in ref_losses.items():
        assert ours_losses[name] == pytest.approx(value, rel=LOSS_RTOL, abs=1e-7), name
    ref_grads = convert_mmpretrain(ref_grads)  # the backbone's names as ours
    assert set(ours_grads) == set(ref_grads)
    backbone = [k for k in ref_grads if k.startswith('backbone.')]
    heads = [k for k in ref_grads if not k.startswith('backbone.')]
    assert len(backbone) > 50 and heads
    errors = {k: relative_error({k: ours_grads[k]}, {k: ref_grads[k]}) for k in heads}
    bad = {k: round(v, 4) for k, v in errors.items() if v > GRAD_RTOL}
    assert not bad, f'head gradients off by more than {GRAD_RTOL} (relative L2): {bad}'
    error = relative_error({k: ours_grads[k] for k in backbone},
                           {k: ref_grads[k] for k in backbone})
    assert error <= GRAD_RTOL, f'backbone gradient off by {error:.3g} (relative L2)'
    return ours_losses


def test_mask_rcnn_training_step_matches_the_reference_backbone(data):
    ours, ref, batch = build_models('mask-rcnn_convnextv2-atto_fpn_demo.py', data['coco'],
                                    'mmdet')
    losses = assert_same_step(ours, ref, batch)
    for term in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'):
        assert term in losses and losses[term] > 0


def test_upernet_training_step_matches_the_reference_backbone(data):
    ours, ref, batch = build_models('upernet_convnextv2-atto_demo.py', data['ade'], 'mmseg')
    losses = assert_same_step(ours, ref, batch)
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(losses)
