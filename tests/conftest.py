import os

import pytest
import torch

import mmconvnextv2  # noqa: F401  (registers the models)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _seed_and_scope():
    """Each test starts seeded, in mmpretrain's registry scope, whatever scope an earlier
    test's runner (mmdet, mmseg) left current."""
    from mmengine.registry import DefaultScope
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


