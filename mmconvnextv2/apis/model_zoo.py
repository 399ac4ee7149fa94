"""The configs that travel with the package, and how mmpretrain and mmengine find them.

A wheel carries ``configs/``, ``tools/`` and ``model-index.yml`` in ``mmconvnextv2/.mim/``, as
OpenMMLab packages do (setup.py copies them there when it builds); an editable install reads
them from its checkout. :func:`register_model_zoo`, run by ``import mmconvnextv2``, makes

- ``mmpretrain.apis.list_models('*convnextv2*')`` list, and ``get_model(NAME)`` build, the
  ImageNet classifiers and the FCMAE pretraining configs, the families mmpretrain builds. The
  Mask R-CNN and UperNet configs are mmdet and mmseg models, which ``get_model`` cannot build;
  ``mim search`` and mmengine read them from model-index.yml.
- ``_base_ = 'mmconvnextv2::mask_rcnn/mask-rcnn_convnextv2-tiny_fpn_1x_coco.py'`` work in a
  config parsed after ``import mmconvnextv2``, from a wheel install. mmengine resolves the
  ``pkg::`` prefix from a fixed table of OpenMMLab packages
  (``mmengine.config.utils.MODULE2PACKAGE``), to which this adds ours, so:

  - the config must be parsed in a process that has imported mmconvnextv2 first (our tools
    do; mmengine reads ``_base_`` before ``custom_imports``);
  - mmengine finds the configs next to the distribution's metadata
    (``mmengine.utils.get_installed_path``): in an editable install that is site-packages,
    where the package is not, so there a config inherits ours by path instead;
  - every inherited setting gets the registry scope ``mmconvnextv2``, that of
    :mod:`mmconvnextv2.registry`: mmpretrain's registries, then mmengine's.

The checkpoints the model index names are the official ones, in the facebookresearch layout:
convert them first (each entry's ``Converted From: Command``) and pass the result as
``pretrained=PATH``: ``get_model(NAME, pretrained=True)`` would load them as they are, and
match none of the model's keys.
"""
import os.path as osp
from typing import List

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the metafiles of the families mmpretrain's registry builds, registered with its ModelHub
MMPRETRAIN_METAFILES = ('configs/convnextv2/metafile.yml', 'configs/fcmae/metafile.yml')

_registered = False


def mim_dir() -> str:
    """The folder that holds ``configs/``, ``tools/`` and ``model-index.yml``: the package's
    ``.mim`` in a wheel install, the checkout in an editable install (or a bare checkout)."""
    installed = osp.join(PACKAGE_DIR, '.mim')
    if osp.isdir(installed):
        return installed
    checkout = osp.dirname(PACKAGE_DIR)
    if osp.isfile(osp.join(checkout, 'model-index.yml')):
        return checkout
    raise FileNotFoundError(
        f'no configs next to mmconvnextv2 ({PACKAGE_DIR}): neither {installed} (a wheel '
        f'install) nor a checkout at {checkout}; reinstall the package')


def get_config_path(name: str) -> str:
    """The path of a config of this package, named as under ``configs/``, e.g.
    ``'fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py'`` (or with the ``mmconvnextv2::``
    prefix of a ``_base_``)."""
    name = name.split('::', 1)[1] if name.startswith('mmconvnextv2::') else name
    path = osp.join(mim_dir(), 'configs', name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no config {name!r} in {osp.dirname(path)}; list_configs() '
                                'names them all')
    return path


def list_configs() -> List[str]:
    """The configs of this package (``_base_`` excluded), named as under ``configs/``."""
    import glob
    root = osp.join(mim_dir(), 'configs')
    names = (osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*.py'),
                                                     recursive=True))
    return sorted(n for n in names if '_base_' not in n.split(osp.sep))


def register_model_zoo() -> None:
    """Register the classifier and FCMAE model index with mmpretrain's ``ModelHub`` and this
    package's ``mmconvnextv2::`` config prefix with mmengine (once; see the module docstring).

    Parsing the two metafiles (pure-Python YAML, in the model-index package) is the cost.
    """
    global _registered
    if _registered:
        return
    from mmengine.config.utils import MODULE2PACKAGE
    from mmpretrain.apis.model import ModelHub
    MODULE2PACKAGE.setdefault('mmconvnextv2', 'mmconvnextv2')
    root = mim_dir()
    for metafile in MMPRETRAIN_METAFILES:
        ModelHub.register_model_index(osp.join(root, metafile), config_prefix=root)
    _registered = True
