"""The layer-decay constructor's groups, parameter by parameter."""
import re

import pytest
import torch
from mmengine.optim import build_optim_wrapper

import mmconvnextv2  # noqa: F401
from mmconvnextv2.models import ConvNeXtV2


class Model(torch.nn.Module):

    def __init__(self, arch):
        super().__init__()
        self.backbone = ConvNeXtV2(arch, init_cfg=None)
        self.head = torch.nn.Linear(self.backbone.channels[-1], 10)
        self.mask_token = torch.nn.Parameter(torch.zeros(1, 8, 1, 1))


def build(model, rate, decay_type, lr=1e-3, wd=0.05):
    cfg = dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=wd),
               constructor='ConvNeXtV2LayerDecayConstructor',
               paramwise_cfg=dict(layer_decay_rate=rate, decay_type=decay_type))
    return build_optim_wrapper(model, cfg).optimizer


def group(optimizer, name):
    for g in optimizer.param_groups:
        if name in g['param_names']:
            return g
    raise KeyError(name)


# (parameter, expected layer id) for atto (depths 2, 2, 6, 2; 'single': 12 ids + head 13)
ATTO_SINGLE = [
    ('backbone.downsample_layers.0.0.weight', 1),
    ('backbone.stages.0.0.dwconv.weight', 1),
    ('backbone.stages.0.1.pwconv1.weight', 2),
    ('backbone.downsample_layers.1.1.weight', 3),
    ('backbone.stages.1.1.pwconv2.weight', 4),
    ('backbone.downsample_layers.2.1.weight', 5),
    ('backbone.stages.2.3.pwconv1.weight', 8),
    ('backbone.stages.2.5.grn.gamma', 10),
    ('backbone.downsample_layers.3.1.weight', 11),
    ('backbone.stages.3.1.pwconv2.weight', 12),
    ('backbone.norm3.weight', 13),
    ('head.weight', 13),
]
# base (3, 3, 27, 3), 'group': 12 ids + head 13
BASE_GROUP = [
    ('backbone.downsample_layers.0.0.weight', 0),
    ('backbone.stages.0.2.dwconv.weight', 1),
    ('backbone.downsample_layers.1.1.weight', 2),
    ('backbone.stages.1.0.pwconv1.weight', 2),
    ('backbone.downsample_layers.2.1.weight', 3),
    ('backbone.stages.2.0.pwconv1.weight', 3),
    ('backbone.stages.2.2.pwconv1.weight', 3),
    ('backbone.stages.2.3.pwconv1.weight', 4),
    ('backbone.stages.2.26.pwconv2.weight', 11),
    ('backbone.downsample_layers.3.1.weight', 12),
    ('backbone.stages.3.2.pwconv1.weight', 12),
    ('head.weight', 13),
]


@pytest.mark.parametrize('arch, rate, decay_type, expected',
                         [('atto', 0.9, 'single', ATTO_SINGLE),
                          ('base', 0.6, 'group', BASE_GROUP)])
def test_learning_rates(arch, rate, decay_type, expected):
    model = Model(arch)
    opt = build(model, rate, decay_type)
    for name, lid in expected:
        g = group(opt, name)
        assert g['layer_id'] == lid, name
        assert g['lr'] == pytest.approx(1e-3 * rate**(13 - lid)), name
    # every trainable parameter is in exactly one group
    names = [n for g in opt.param_groups for n in g['param_names']]
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())


@pytest.mark.parametrize('arch, decay_type', [('atto', 'single'), ('nano', 'single'),
                                              ('tiny', 'single'), ('base', 'group')])
def test_no_weight_decay_on_grn_norms_biases_and_mask_token(arch, decay_type):
    model = Model(arch)
    opt = build(model, 0.9, decay_type)
    for name, p in model.named_parameters():
        g = group(opt, name)
        is_norm = re.search(r'downsample_layers\.0\.1\.|downsample_layers\.[123]\.0\.|norm',
                            name)
        no_decay = bool('grn.' in name or is_norm or name.endswith('.bias')
                        or name == 'mask_token')
        assert g['weight_decay'] == (0. if no_decay else 0.05), name
    # a spot check of each kind
    assert group(opt, 'backbone.stages.0.0.grn.gamma')['weight_decay'] == 0
    assert group(opt, 'backbone.stages.0.0.grn.beta')['weight_decay'] == 0
    assert group(opt, 'backbone.stages.0.0.pwconv1.weight')['weight_decay'] == 0.05


def test_frozen_parameters_are_left_out():
    model = Model('atto')
    model.backbone = ConvNeXtV2('atto', frozen_stages=1, init_cfg=None)
    opt = build(model, 0.9, 'single')
    names = {n for g in opt.param_groups for n in g['param_names']}
    assert 'backbone.stages.0.0.dwconv.weight' not in names
    assert 'backbone.stages.1.0.dwconv.weight' in names


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match='group.*depths'):
        model = Model('atto')
        model.backbone = ConvNeXtV2(dict(depths=[2, 2, 4, 2], channels=[8, 16, 32, 64]))
        build(model, 0.9, 'group')
    with pytest.raises(ValueError, match="'single' or 'group'"):
        build(Model('atto'), 0.9, 'blocks')
