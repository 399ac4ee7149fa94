"""Tiny data sets in the layouts the shipped recipes read: ImageNet with ``meta/`` lists,
COCO 2017 and ADE20K (ADEChallengeData2016), with images drawn by the demo renderer
(:func:`mmconvnextv2.datasets.demo_data.render`).

The layouts, names and label conventions are those of the real data sets, so that a recipe's
own dataset class, its default paths and its evaluator read them unchanged; only the images
are few and small, and the demo's shapes carry real class names.
"""
import json
import os

import numpy as np

# ImageNet-1k synsets with their class indices (mmpretrain's ``IMAGENET_CATEGORIES`` order)
IMAGENET_SYNSETS = (('n01440764', 0), ('n01443537', 1), ('n01484850', 2))

# COCO's 80 category ids, in the order of mmdet's ``CocoDataset.METAINFO['classes']`` (ids
# 12, 26, 29, 30, 45, 66, 68, 69, 71 and 83 are unused, as in the released files)
COCO_IDS = tuple(i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83))
# the demo's shapes (ellipse, triangle, ring) as COCO categories
COCO_SHAPE_NAMES = ('sports ball', 'kite', 'donut')
# ... and as ADE20K classes (label map values 1..150, 0 is "other", reduce_zero_label)
ADE_SHAPE_NAMES = ('ball', 'tent', 'plate')


def _save(path: str, img: np.ndarray) -> None:
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.lower().endswith(('.jpg', '.jpeg')):
        Image.fromarray(img).save(path, format='JPEG', quality=95)
    else:
        Image.fromarray(img).save(path)


def _images(seed: int, count: int, size: int):
    """``count`` demo images (uint8 RGB, ``size`` px) with their objects."""
    from mmconvnextv2.datasets.demo_data import render
    rng = np.random.default_rng(seed)
    return [render(rng, size) for _ in range(count)]


def write_imagenet(root: str, num_train: int = 4, num_val: int = 2, size: int = 64,
                   seed: int = 0) -> str:
    """ImageNet as mmpretrain's ``ImageNet`` (and ``ImageNet21k``) dataset reads it with
    ``split=``: ``root/{train,val}/<synset>/<image>.JPEG`` and ``root/meta/{train,val}.txt``
    with one ``<synset>/<image>.JPEG <class index>`` line per image, the classes
    :data:`IMAGENET_SYNSETS` in turn. Also what the FCMAE recipe's
    ``CustomDataset(data_prefix='train', with_label=False)`` scans. Returns ``root``."""
    os.makedirs(os.path.join(root, 'meta'), exist_ok=True)
    for s, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        lines = []
        for i, (img, _) in enumerate(_images(seed + s, count, size)):
            synset, label = IMAGENET_SYNSETS[i % len(IMAGENET_SYNSETS)]
            name = (f'{synset}_{i + 1}.JPEG' if split == 'train'
                    else f'ILSVRC2012_val_{i + 1:08d}.JPEG')
            _save(os.path.join(root, split, synset, name), img)
            lines.append(f'{synset}/{name} {label}')
        with open(os.path.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return root


def write_coco2017(root: str, num_train: int = 2, num_val: int = 2, size: int = 128,
                   seed: int = 0) -> str:
    """COCO 2017 as mmdet's ``CocoDataset`` reads it: ``root/{train2017,val2017}/<12-digit
    id>.jpg`` and ``root/annotations/instances_{train2017,val2017}.json`` with all 80
    categories under their real ids; the objects are the demo's shapes labelled
    :data:`COCO_SHAPE_NAMES`. Returns ``root``."""
    from mmdet.datasets import CocoDataset

    from mmconvnextv2.datasets.demo_data import coco_annotation
    names = CocoDataset.METAINFO['classes']
    categories = [dict(id=i, name=n, supercategory='object') for i, n in zip(COCO_IDS, names)]
    shape_ids = [COCO_IDS[names.index(n)] for n in COCO_SHAPE_NAMES]
    os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
    for s, (split, count) in enumerate((('train2017', num_train), ('val2017', num_val))):
        images, annotations = [], []
        for i, (img, objects) in enumerate(_images(seed + s, count, size)):
            image_id = 1000 * (s + 1) + i  # distinct ids across the splits, as in COCO
            name = f'{image_id:012d}.jpg'
            _save(os.path.join(root, split, name), img)
            images.append(dict(id=image_id, file_name=name, height=size, width=size))
            for o in objects:
                annotation = coco_annotation(o['mask'], len(annotations) + 1, image_id,
                                             shape_ids[o['cls']])
                if annotation is not None:
                    annotations.append(annotation)
        with open(os.path.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return root


def write_ade20k(root: str, num_train: int = 2, num_val: int = 2, size: int = 128,
                 width: int = 192, seed: int = 0) -> str:
    """ADE20K as mmseg's ``ADE20KDataset`` reads it: ``root/images/{training,validation}/
    ADE_{train,val}_<8 digits>.jpg`` and ``root/annotations/...png`` label maps (0 other,
    ``k`` the ``k``-th of the 150 classes; the dataset's ``reduce_zero_label``). The demo's
    shapes are :data:`ADE_SHAPE_NAMES`. Images are ``size`` high and ``width`` wide
    (landscape, as most of ADE20K's: two demo images side by side, cut to ``width``), so
    that a sliding-window test slides. ``root`` is the ``ADEChallengeData2016`` folder;
    returns it."""
    from mmseg.datasets import ADE20KDataset
    names = ADE20KDataset.METAINFO['classes']
    values = [names.index(n) + 1 for n in ADE_SHAPE_NAMES]
    for s, (split, prefix, count) in enumerate((('training', 'train', num_train),
                                                ('validation', 'val', num_val))):
        rendered = _images(seed + s, 2 * count, size)
        for i in range(count):
            halves = []
            for img, objects in rendered[2 * i:2 * i + 2]:
                label = np.zeros((size, size), np.uint8)
                for o in objects:
                    label[o['mask']] = values[o['cls']]
                halves.append((img, label))
            name = f'ADE_{prefix}_{i + 1:08d}'
            _save(os.path.join(root, 'images', split, name + '.jpg'),
                  np.concatenate([h[0] for h in halves], 1)[:, :width])
            _save(os.path.join(root, 'annotations', split, name + '.png'),
                  np.concatenate([h[1] for h in halves], 1)[:, :width])
    return root
