from .fcmae_head import FCMAEHead, patchify, unpatchify

__all__ = ['FCMAEHead', 'patchify', 'unpatchify']
