"""What a user who ran ``pip install`` has: the package built from an sdist and installed into
a folder of its own, then used from outside the checkout. Its configs and tools are in
``mmconvnextv2/.mim``, mmpretrain lists and builds them by name, and a config of the user's
inherits ours with ``_base_ = 'mmconvnextv2::...'``."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from mmconvnextv2.apis.model_zoo import list_configs
from tests.conftest import ROOT

USER_CONFIGS = {
    'user_fcmae.py': ('fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py',
                      'train_dataloader = dict(batch_size=8)'),
    'user_mask_rcnn.py': ('mask_rcnn/mask-rcnn_convnextv2-atto_fpn_1x_coco.py',
                          'model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))'),
    # its own pipeline lists and a TTA model written in our configs, built in our scope
    'user_lsj.py': ('mask_rcnn/mask-rcnn_convnextv2-atto_fpn_lsj-3x_coco.py',
                    'train_dataloader = dict(dataset=dict(pipeline={{_base_.train_pipeline}}))'),
    'user_upernet_ms.py': ('upernet/upernet_convnextv2-atto_8xb2-160k_ade20k-512x512_ms.py', ''),
}

# Run with only the installed copy on the path, in the user's folder.
USER_SCRIPT = """
import json
import sys
# the checkout's editable install (in this interpreter's site-packages) must not supply what the
# installed copy lacks (its finder would resolve mmconvnextv2._ext to the checkout's build)
sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')]
import mmconvnextv2
from mmconvnextv2.apis.model_zoo import list_configs, mim_dir
from mmengine.config import Config
from mmengine.registry import MODELS, TRANSFORMS, DefaultScope
from mmpretrain.apis import get_model, list_models

out = dict(file=mmconvnextv2.__file__, mim_dir=mim_dir(), configs=list_configs(),
           listed=list_models('*convnextv2*'),
           by_name=type(get_model('fcmae_convnextv2-atto_32xb128-800e_in1k')).__name__)
# built without the compiled operators: the gather backend takes its pure-PyTorch path
import torch
from mmconvnextv2.models import ConvNeXtV2, random_patch_mask
from mmconvnextv2.ops import ops_available
out['ops'] = ops_available()
x, mask = torch.randn(2, 3, 64, 64), random_patch_mask(2, 2, 2, 0.5)
enc = {}
for backend in ('gather', 'masked_dense'):
    torch.manual_seed(0)
    enc[backend] = ConvNeXtV2('atto', gap_before_final_norm=False, sparse_backend=backend)
    enc[backend].stages[0][0].grn.gamma.data.normal_()  # GRN is the identity until trained
out['gather_vs_masked_dense'] = (enc['gather'](x, mask)[-1]
                                 - enc['masked_dense'](x, mask)[-1]).abs().max().item()
out['inherited'] = {}
out['pipelines'] = {}
for name in %r:
    cfg = Config.fromfile(name)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):  # as mmengine's Runner does
        out['inherited'][name] = type(MODELS.build(cfg.model)).__name__
        if 'train_pipeline' in cfg:  # where each transform comes from
            out['pipelines'][name] = [type(TRANSFORMS.build(t)).__module__.split('.')[0]
                                      for t in cfg.train_dataloader.dataset.pipeline]
print(json.dumps(out))
""" % (sorted(USER_CONFIGS), )


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f'{" ".join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout


@pytest.mark.slow
def test_installed_from_sdist(tmp_path):
    src, dist, target, user = (tmp_path / d for d in ('src', 'dist', 'target', 'user'))
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'work_dirs', 'data', 'build', 'dist', '*.egg-info', '__pycache__',
        '.whl'))
    sdist = run([sys.executable, '-c', 'from setuptools import build_meta; '
                 f'print(build_meta.build_sdist({str(dist)!r}))'], cwd=src).split()[-1]
    import tarfile
    with tarfile.open(dist / sdist) as tar:
        assert any(n.endswith('mmconvnextv2/ops/csrc/sparse_dwconv.cpp') for n in tar.getnames())
    # without the compiled operators (they take a minute to build; tests/test_ops has them)
    run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation', '-q',
         '--target', str(target), str(dist / sdist)],
        env=dict(os.environ, MMCONVNEXTV2_WITH_OPS='0'))
    mim = target / 'mmconvnextv2' / '.mim'
    assert (mim / 'model-index.yml').is_file()
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'tools' / 'model_converters' / 'convnextv2_to_mm.py').is_file()

    user.mkdir()
    for name, (base, change) in USER_CONFIGS.items():
        (user / name).write_text(f"_base_ = 'mmconvnextv2::{base}'\n{change}\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    out = json.loads(run([sys.executable, '-c', USER_SCRIPT], cwd=user, env=env).splitlines()[-1])

    assert out['file'] == str(target / 'mmconvnextv2' / '__init__.py')
    assert out['mim_dir'] == str(mim)
    assert out['configs'] == list_configs()  # all of the checkout's
    from mmpretrain.apis import list_models
    assert out['listed'] == list_models('*convnextv2*')  # as registered from the checkout
    assert 'fcmae_convnextv2-atto_32xb128-800e_in1k' in out['listed']
    assert out['by_name'] == 'FCMAE'
    assert not out['ops'] and not list(target.glob('mmconvnextv2/_ext*'))
    assert out['gather_vs_masked_dense'] < 1e-4
    assert out['inherited'] == {'user_fcmae.py': 'FCMAE', 'user_mask_rcnn.py': 'MaskRCNN',
                                'user_lsj.py': 'MaskRCNN', 'user_upernet_ms.py': 'SegTTAModel'}
    # the same transforms as the config builds in mmdet's scope (mmpretrain has a RandomCrop
    # of its own, and no PackDetInputs)
    import mmdet.datasets  # noqa: F401  (registers mmdet's transforms, as a Runner would)
    from mmengine.config import Config
    from mmengine.registry import TRANSFORMS, DefaultScope
    cfg = Config.fromfile(osp.join(ROOT, 'configs', USER_CONFIGS['user_lsj.py'][0]))
    with DefaultScope.overwrite_default_scope('mmdet'):
        expected = [type(TRANSFORMS.build(t)).__module__.split('.')[0] for t in cfg.train_pipeline]
    assert out['pipelines']['user_lsj.py'] == expected and 'mmpretrain' not in expected


def test_editable_install_reads_the_checkout():
    """The test session's own (editable) install: no .mim, the checkout's configs."""
    from mmconvnextv2.apis.model_zoo import get_config_path, mim_dir
    assert mim_dir() == ROOT
    name = 'fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py'
    assert get_config_path(name) == get_config_path(f'mmconvnextv2::{name}') == osp.join(
        ROOT, 'configs', name)
    assert name in list_configs() and not any('_base_' in c for c in list_configs())
    with pytest.raises(FileNotFoundError, match='list_configs'):
        get_config_path('fcmae/no_such_config.py')


def test_mmconvnextv2_scope_is_mmpretrains():
    """mmengine gives the settings a config inherits through ``mmconvnextv2::`` the scope
    ``mmconvnextv2``; mmengine's root registries (the Runner's) build them from mmpretrain's."""
    from mmengine.registry import MODELS, TRANSFORMS
    model = MODELS.build(dict(type='ConvNeXtV2', arch='atto', _scope_='mmconvnextv2'))
    assert type(model).__name__ == 'ConvNeXtV2'
    pack = TRANSFORMS.build(dict(type='PackInputs', _scope_='mmconvnextv2'))
    assert type(pack).__module__.startswith('mmpretrain.')


def test_load_config_drops_the_inherited_scope_of_collate_fns(tmp_path):
    """A ``collate_fn`` inherited through ``mmconvnextv2::`` carries ``_scope_``, which
    mmengine's runner would pass to ``default_collate``; load_config drops it, and only it."""
    from mmengine.runner import Runner

    from mmconvnextv2.apis import load_config
    path = tmp_path / 'user.py'
    path.write_text("train_dataloader = dict(batch_size=2, dataset=[0, 1], sampler=dict("
                    "type='DefaultSampler', shuffle=False), collate_fn=dict("
                    "type='default_collate', _scope_='mmconvnextv2'))\n")
    cfg = load_config(str(path), work_dir=str(tmp_path / 'work'))
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')
    loader = Runner.build_dataloader(cfg.train_dataloader)
    assert next(iter(loader)).tolist() == [0, 1]
