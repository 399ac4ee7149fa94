from .config_swap import base_type, iter_datasets, iter_transforms, use_checked_data
from .demo_data import CLASSES, make_demo_data, make_unlabeled_images

__all__ = ['CLASSES', 'make_demo_data', 'make_unlabeled_images', 'base_type', 'iter_datasets',
           'iter_transforms', 'use_checked_data']
