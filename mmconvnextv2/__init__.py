"""mmconvnextv2: ConvNeXt V2 and FCMAE for OpenMMLab.

``import mmconvnextv2`` registers the models in mmpretrain's registry and the engine parts in
mmengine's, lets mmengine's checkpoints load under ``weights_only=True``, makes its local
checkpoint writes atomic, and registers the packaged configs (mmpretrain's ``list_models`` and
``get_model``, mmengine's ``mmconvnextv2::`` config scope: :mod:`mmconvnextv2.apis.model_zoo`);
nothing optional (MinkowskiEngine, mmdet, mmseg) is imported on this path.
"""
from . import engine, models  # noqa: F401
from .apis.model_zoo import register_model_zoo
from .utils import register_atomic_backend, register_safe_globals
from .version import __version__

register_safe_globals()
register_atomic_backend()
register_model_zoo()

__all__ = ['__version__']
