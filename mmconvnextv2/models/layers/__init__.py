from .grn import GRN

__all__ = ['GRN']
