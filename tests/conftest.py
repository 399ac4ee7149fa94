import os
import uuid

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




@pytest.fixture
def log_text(tmp_path):
    """A fresh MMLogger, which becomes mmengine's current logger (the one that
    ``print_log(logger='current')`` writes to), logging to a file; returns a reader of it."""
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'captured.log'
    logger = MMLogger.get_instance(f'test-{uuid.uuid4().hex}', log_file=str(log_file))
    assert MMLogger.get_current_instance() is logger
    yield lambda: log_file.read_text()
    for handler in [h for h in logger.handlers if hasattr(h, 'baseFilename')]:
        handler.close()
        logger.removeHandler(handler)
