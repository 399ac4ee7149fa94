from .reconstruction import reconstruction_grid, save_png

__all__ = ['reconstruction_grid', 'save_png']
