"""The ImageNet pipelines of a classifier config at another resolution (the 384- and 512-px
configs): the training crop scaled, and the official test at that size."""
from typing import List, Sequence, Tuple


def at_resolution(train_pipeline: Sequence[dict], size: int) -> Tuple[List[dict], List[dict]]:
    """``train_pipeline`` with its ``RandomResizedCrop`` at ``size``, and the official test
    pipeline at ``size`` px and above: the whole image resized to ``size`` x ``size``
    (bicubic), no crop (``build_transform`` of the official ``datasets.py``)."""
    train = [dict(step, scale=size) if step['type'] == 'RandomResizedCrop' else step
             for step in train_pipeline]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=size, backend='pillow', interpolation='bicubic'),
        dict(type='PackInputs'),
    ]
    return train, test
