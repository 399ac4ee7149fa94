"""Every file under configs/ is parsed and its model built (parametrized: a broken config
names itself)."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import ROOT

CONFIGS = sorted(
    os.path.relpath(p, ROOT)
    for p in glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def build_model(cfg):
    scope = cfg.get('default_scope', 'mmpretrain')
    if scope == 'mmpretrain':
        from mmpretrain.registry import MODELS
    elif scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope(scope):  # and leave no scope behind
        return MODELS.build(cfg.model)


def test_configs_found():
    assert len(CONFIGS) >= 30


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path):
    cfg = Config.fromfile(os.path.join(ROOT, path))
    assert cfg.get('pretrained', None) is None or 'fcmae' in path, \
        'configs train from scratch unless pretrained= is given'
    assert 'mmconvnextv2' in cfg.custom_imports['imports']
    model = build_model(cfg)
    backbone = model.module.backbone if hasattr(model, 'module') else model.backbone  # TTA
    assert type(backbone).__name__ == 'ConvNeXtV2'
    if backbone.channels[0] == 40 and cfg.default_scope == 'mmpretrain':  # atto: a forward
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            if 'fcmae' in path:
                out = model.loss(x, None)
                assert torch.isfinite(out['loss'])
            else:
                assert model(x).shape == (2, 1000)
