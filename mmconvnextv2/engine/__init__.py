from .hooks import FCMAEReconstructionHook, FiniteLossHook, RNGStateHook
from .optimizers import ConvNeXtV2LayerDecayConstructor, layer_id
from .resume import keep_seed, latest_checkpoint, remove_partial_writes

__all__ = [
    'FCMAEReconstructionHook', 'FiniteLossHook', 'RNGStateHook',
    'ConvNeXtV2LayerDecayConstructor', 'layer_id', 'keep_seed', 'latest_checkpoint',
    'remove_partial_writes'
]
