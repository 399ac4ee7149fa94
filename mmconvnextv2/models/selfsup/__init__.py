from .fcmae import FCMAE, random_patch_mask

__all__ = ['FCMAE', 'random_patch_mask']
