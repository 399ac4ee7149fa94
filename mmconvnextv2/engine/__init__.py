from .hooks import FCMAEReconstructionHook
from .optimizers import ConvNeXtV2LayerDecayConstructor, layer_id

__all__ = ['FCMAEReconstructionHook', 'ConvNeXtV2LayerDecayConstructor', 'layer_id']
