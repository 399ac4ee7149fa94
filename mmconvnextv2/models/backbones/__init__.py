from .convnextv2 import ConvNeXtV2, ConvNeXtV2Block, channels_of

__all__ = ['ConvNeXtV2', 'ConvNeXtV2Block', 'channels_of']
