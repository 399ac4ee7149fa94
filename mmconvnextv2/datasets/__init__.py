from .demo_data import CLASSES, make_demo_data, make_unlabeled_images

__all__ = ['CLASSES', 'make_demo_data', 'make_unlabeled_images']
