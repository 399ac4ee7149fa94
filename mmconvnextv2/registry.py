"""The ``mmconvnextv2`` registry scope: mmpretrain's registries, under this package's name.

mmengine scopes every setting a config inherits through ``_base_ = 'mmconvnextv2::...'`` to
``mmconvnextv2`` and builds it from the registry node of that scope, which it finds by importing
``mmconvnextv2.registry``. Without the node it falls back, with a warning, to mmengine's root
registries, which lack mmpretrain's models, datasets and visualizers: the build fails. This
package registers its modules in mmpretrain's registries and mmengine's, where they belong;
each node here is an empty child of mmpretrain's, so a name looked up in the ``mmconvnextv2``
scope is found in mmpretrain's registry or, above it, in mmengine's.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
    'BATCH_AUGMENTS', 'TASK_UTILS', 'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]


def _child(parent: Registry, location: str) -> Registry:
    """An empty registry of the ``mmconvnextv2`` scope under ``parent``; ``location``, the
    module that fills ``parent``, is imported at the first look-up (mmengine searches the
    parents' entries without importing their locations)."""
    return Registry(parent.name, parent=parent, scope='mmconvnextv2', locations=[location])


RUNNERS = _child(mmpretrain.RUNNERS, 'mmpretrain.engine')
RUNNER_CONSTRUCTORS = _child(mmpretrain.RUNNER_CONSTRUCTORS, 'mmpretrain.engine')
LOOPS = _child(mmpretrain.LOOPS, 'mmpretrain.engine')
HOOKS = _child(mmpretrain.HOOKS, 'mmpretrain.engine')
LOG_PROCESSORS = _child(mmpretrain.LOG_PROCESSORS, 'mmpretrain.engine')
OPTIMIZERS = _child(mmpretrain.OPTIMIZERS, 'mmpretrain.engine')
OPTIM_WRAPPERS = _child(mmpretrain.OPTIM_WRAPPERS, 'mmpretrain.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmpretrain.OPTIM_WRAPPER_CONSTRUCTORS, 'mmpretrain.engine')
PARAM_SCHEDULERS = _child(mmpretrain.PARAM_SCHEDULERS, 'mmpretrain.engine')
DATASETS = _child(mmpretrain.DATASETS, 'mmpretrain.datasets')
DATA_SAMPLERS = _child(mmpretrain.DATA_SAMPLERS, 'mmpretrain.datasets')
TRANSFORMS = _child(mmpretrain.TRANSFORMS, 'mmpretrain.datasets')
MODELS = _child(mmpretrain.MODELS, 'mmpretrain.models')
MODEL_WRAPPERS = _child(mmpretrain.MODEL_WRAPPERS, 'mmpretrain.models')
WEIGHT_INITIALIZERS = _child(mmpretrain.WEIGHT_INITIALIZERS, 'mmpretrain.models')
BATCH_AUGMENTS = _child(mmpretrain.BATCH_AUGMENTS, 'mmpretrain.models')
TASK_UTILS = _child(mmpretrain.TASK_UTILS, 'mmpretrain.models')
METRICS = _child(mmpretrain.METRICS, 'mmpretrain.evaluation')
EVALUATORS = _child(mmpretrain.EVALUATORS, 'mmpretrain.evaluation')
VISUALIZERS = _child(mmpretrain.VISUALIZERS, 'mmpretrain.visualization')
VISBACKENDS = _child(mmpretrain.VISBACKENDS, 'mmpretrain.visualization')
