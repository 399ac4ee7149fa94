from .fcmae_neck import FCMAENeck

__all__ = ['FCMAENeck']
