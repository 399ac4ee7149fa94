from .hooks import FCMAEReconstructionHook, FiniteLossHook, RNGStateHook
from .optimizers import ConvNeXtV2LayerDecayConstructor, layer_id

__all__ = [
    'FCMAEReconstructionHook', 'FiniteLossHook', 'RNGStateHook',
    'ConvNeXtV2LayerDecayConstructor', 'layer_id'
]
