from .demo_data import CLASSES, make_demo_data

__all__ = ['CLASSES', 'make_demo_data']
