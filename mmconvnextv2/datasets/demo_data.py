"""Small, deterministic data sets in the real formats, for the demo and the tests.

The classes are shapes: an object's class is its outline, never its colour or texture, which
are drawn at random for every object whatever its class. So a model must learn shape, the
thing masked-image pretraining on unlabeled images can teach it.

* ``unlabeled/*.jpg``: a pool of images without labels, for FCMAE pretraining (a folder of
  images, as mmpretrain's ``CustomDataset(with_label=False)`` reads it);
* ``coco/{train,val}/*.jpg`` with ``coco/annotations/instances_{train,val}.json``: COCO
  instances with polygon masks (RLE for a mask with a hole), for Mask R-CNN;
* ``ade/images/{training,validation}/*.jpg`` with ``ade/annotations/.../*.png``: ADE20K-style
  label maps (0 = unlabeled, ``k`` = class ``k``; ``reduce_zero_label=True``), for UperNet.

The labeled train and val images are the same in the COCO and ADE20K layouts. Images are
1 to 4 objects (random colours, noise textures, sizes, aspect ratios, rotations; later ones
occlude earlier ones) on colour gradients, plain or noisy.
"""
import json
import os
from typing import Dict, Optional

import numpy as np

CLASSES = ('ellipse', 'triangle', 'ring')


def _background(rng, size: int) -> np.ndarray:
    """A smooth colour gradient in a random direction, plain or with pixel noise."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (yy * rng.uniform(-1, 1) + xx * rng.uniform(-1, 1))[..., None]
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
    img = c0 * (1 - t) + c1 * t
    if rng.integers(0, 2):
        img = img + rng.normal(0, 25, (size, size, 1))
    return img.astype(np.float32)


def _shape_mask(cls: int, size: int, cy: float, cx: float, r: float, angle: float,
                aspect: float, hole: float):
    """A boolean mask and polygon (``(K, 2)`` x, y points) of one object of class ``cls``:
    an ellipse (axes ``r`` and ``aspect * r``), a triangle (inscribed in radius ``r``) or a
    ring (the ellipse with a hole of ``hole`` times its size), rotated by ``angle``."""
    if CLASSES[cls] == 'triangle':
        t = np.arange(3) * 2 * np.pi / 3
        ex, ey = r * np.cos(t), r * np.sin(t)
    else:
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        ex, ey = r * np.cos(t), aspect * r * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    poly = np.stack([cx + c * ex - s * ey, cy + s * ex + c * ey], 1)
    import cv2
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, shift=4)
    if CLASSES[cls] == 'ring':
        inner = np.stack([cx + hole * (poly[:, 0] - cx), cy + hole * (poly[:, 1] - cy)], 1)
        cv2.fillPoly(mask, [np.round(inner * 16).astype(np.int32)], 0, shift=4)
    return mask.astype(bool), poly


def _colour(rng, img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A random colour that stands out from the background under ``mask`` (a few tries)."""
    under = img[mask].mean(0) if mask.any() else img.reshape(-1, 3).mean(0)
    for _ in range(8):
        colour = rng.uniform(0, 255, 3)
        if np.abs(colour - under).max() > 60:
            break
    return colour


def render(rng: np.random.Generator, size: int, max_objects: int = 4):
    """One image (uint8 RGB) with its objects: (class, visible mask, polygon) each.

    Class, colour and texture are drawn independently: only the outline tells the class.
    """
    img = _background(rng, size)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        cls = int(rng.integers(len(CLASSES)))
        r = rng.uniform(0.1, 0.25) * size
        cy, cx = rng.uniform(r, size - r, 2)
        mask, poly = _shape_mask(cls, size, cy, cx, r, rng.uniform(0, np.pi),
                                 aspect=rng.uniform(0.7, 1.0), hole=rng.uniform(0.45, 0.65))
        texture = rng.normal(0, rng.uniform(0, 30), (size, size, 1))
        img[mask] = (_colour(rng, img, mask) + texture)[mask]
        # later objects occlude earlier ones: shrink their visible masks
        for o in objects:
            o['mask'] &= ~mask
        objects.append(dict(cls=cls, mask=mask, poly=poly))
    objects = [o for o in objects if o['mask'].sum() > 16]
    return np.clip(img, 0, 255).astype(np.uint8), objects


def _save(path: str, img: np.ndarray) -> None:
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    options = dict(quality=95) if path.endswith('.jpg') else {}
    Image.fromarray(img).save(path, **options)


def _segmentation(mask: np.ndarray):
    """COCO ``segmentation`` of a visible mask: polygons, or an RLE where the mask has a hole
    (a ring), which polygons cannot describe; None for a mask without a usable outline."""
    import cv2
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is not None and (hierarchy[0][:, 3] >= 0).any():
        from pycocotools import mask as mask_utils
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return dict(size=list(rle['size']), counts=rle['counts'].decode('ascii'))
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    return polygons or None


def coco_annotation(mask: np.ndarray, ann_id: int, image_id: int,
                    category_id: int) -> Optional[dict]:
    """The COCO annotation (polygons, area, xywh box) of one object's ``mask``; None when the
    mask gives no polygon."""
    segmentation = _segmentation(mask)
    if segmentation is None:
        return None
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return dict(id=ann_id, image_id=image_id, category_id=category_id,
                segmentation=segmentation, area=float(mask.sum()),
                bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)], iscrowd=0)


def _streams(seed: int):
    """Independent random streams for the train, val and unlabeled images, so that each set
    is the same whatever the sizes of the others."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]


def make_unlabeled_images(root: str, num: int, size: int = 128, seed: int = 0) -> str:
    """Write ``num`` unlabeled images to ``root/unlabeled`` (the same images
    :func:`make_demo_data` writes with the same ``seed``); returns the folder."""
    folder = os.path.join(root, 'unlabeled')
    os.makedirs(folder, exist_ok=True)
    rng = _streams(seed)[2]
    for i in range(num):
        img, _ = render(rng, size)
        _save(os.path.join(folder, f'{i:05d}.jpg'), img)
    return folder


def make_demo_data(root: str, num_train: int = 64, num_val: int = 16, size: int = 128,
                   seed: int = 0, num_unlabeled: int = 0) -> Dict[str, str]:
    """Write the data sets under ``root``; returns their folders (``unlabeled``, ``coco``,
    ``ade``).

    Deterministic in ``seed``; each set does not depend on the sizes of the others.

    Args:
        root (str): Output folder.
        num_train (int): Labeled training images. Defaults to 64.
        num_val (int): Labeled validation images. Defaults to 16.
        size (int): Image side in pixels. Defaults to 128.
        seed (int): Random seed. Defaults to 0.
        num_unlabeled (int): Images of the unlabeled pretraining pool
            (:func:`make_unlabeled_images`). Defaults to 0.
    """
    out = dict(unlabeled=make_unlabeled_images(root, num_unlabeled, size, seed),
               coco=os.path.join(root, 'coco'), ade=os.path.join(root, 'ade'))
    rng_train, rng_val, _ = _streams(seed)
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)]
    for split, count, rng in (('train', num_train, rng_train), ('val', num_val, rng_val)):
        images, annotations = [], []
        ade_split = 'training' if split == 'train' else 'validation'
        for i in range(count):
            img, objects = render(rng, size)
            name = f'{split}_{i:05d}'
            _save(os.path.join(out['coco'], split, name + '.jpg'), img)
            images.append(dict(id=i + 1, file_name=name + '.jpg', height=size, width=size))
            label = np.zeros((size, size), np.uint8)
            for o in objects:
                annotation = coco_annotation(o['mask'], len(annotations) + 1, i + 1,
                                             o['cls'] + 1)
                if annotation is None:
                    continue
                annotations.append(annotation)
                label[o['mask']] = o['cls'] + 1
            _save(os.path.join(out['ade'], 'images', ade_split, name + '.jpg'), img)
            _save(os.path.join(out['ade'], 'annotations', ade_split, name + '.png'), label)
        ann_dir = os.path.join(out['coco'], 'annotations')
        os.makedirs(ann_dir, exist_ok=True)
        with open(os.path.join(ann_dir, f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return out
