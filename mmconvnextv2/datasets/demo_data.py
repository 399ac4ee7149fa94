"""Small, deterministic data sets in the real formats, for the demo and the tests.

Each class has its own base colour, varied per object.

* ``imagenet/train/<class>/*.png`` (and ``val``): an ImageNet-style folder tree, for FCMAE
  pretraining and classification;
* ``coco/{train,val}/*.jpg`` with ``coco/annotations/instances_{train,val}.json``: COCO
  instances with polygon masks, for Mask R-CNN;
* ``ade/images/{training,validation}/*.jpg`` with ``ade/annotations/.../*.png``: ADE20K-style
  label maps (0 = unlabeled, ``k`` = class ``k``; ``reduce_zero_label=True``), for UperNet.

Images are objects of several classes (shapes with textured, varied colours, scales and
occlusion) on varied backgrounds: smooth gradients, noise textures and, where scikit-image is
installed, crops of its sample photographs (nothing is downloaded).
"""
import json
import os
from typing import Dict, List, Optional

import numpy as np

CLASSES = ('disk', 'square', 'triangle', 'ring')
# each class has its own base colour (varied per object), as real categories share appearance
CLASS_COLOURS = np.array([[220, 60, 60], [60, 200, 80], [70, 90, 230], [230, 210, 50]], float)


def _backgrounds(rng: np.random.Generator) -> List[np.ndarray]:
    photos = []
    try:
        from skimage import data as skdata
        for name in ('astronaut', 'coffee', 'chelsea', 'rocket', 'immunohistochemistry'):
            img = getattr(skdata, name)()
            if img.ndim == 3 and img.shape[2] == 3:
                photos.append(img)
    except Exception:  # scikit-image is optional: synthetic backgrounds then
        pass
    return photos


def _background(rng, size: int, photos) -> np.ndarray:
    kind = rng.integers(0, 3 if photos else 2)
    if kind == 2:
        photo = photos[rng.integers(len(photos))]
        h, w = photo.shape[:2]
        s = int(rng.integers(min(h, w) // 3, min(h, w)))
        y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
        import cv2
        crop = cv2.resize(photo[y:y + s, x:x + s], (size, size), interpolation=cv2.INTER_AREA)
        return (crop * rng.uniform(0.5, 0.9)).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size] / size
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (yy * rng.uniform(-1, 1) + xx * rng.uniform(-1, 1))[..., None]
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
    img = c0 * (1 - t) + c1 * t
    if kind == 1:
        img = img + rng.normal(0, 25, (size, size, 1))
    return img.astype(np.float32)


def _shape_mask(cls: int, size: int, cy: float, cx: float, r: float, angle: float):
    """A boolean mask and polygon (flat [x0, y0, x1, y1, ...]) of one object."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    if cls in (0, 3):  # disk, ring
        d = np.hypot(yy - cy, xx - cx)
        mask = d <= r if cls == 0 else (d <= r) & (d >= 0.55 * r)
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        poly = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
        return mask, poly
    n = 4 if cls == 1 else 3
    t = angle + np.arange(n) * 2 * np.pi / n
    poly = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    import cv2
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, shift=4)
    return mask.astype(bool), poly


def render(rng: np.random.Generator, size: int, photos, max_objects: int = 4):
    """One image (uint8 RGB) with its objects: (class, visible mask, polygon) each."""
    img = _background(rng, size, photos)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        cls = int(rng.integers(len(CLASSES)))
        r = rng.uniform(0.08, 0.25) * size
        cy, cx = rng.uniform(r, size - r, 2)
        mask, poly = _shape_mask(cls, size, cy, cx, r, rng.uniform(0, np.pi))
        colour = CLASS_COLOURS[cls] + rng.uniform(-75, 75, 3)
        texture = rng.normal(0, rng.uniform(0, 30), (size, size, 1))
        stripes = 20 * np.sin(np.mgrid[0:size, 0:size][1] / rng.uniform(2, 6))[..., None]
        img[mask] = (colour + texture + stripes * (cls % 2))[mask]
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


def _polygons(mask: np.ndarray) -> List[List[float]]:
    import cv2
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def make_demo_data(root: str, num_train: int = 64, num_val: int = 16, size: int = 128,
                   seed: int = 0, photos: Optional[bool] = True) -> Dict[str, str]:
    """Write the three data sets under ``root``; returns their folders. Deterministic in
    ``seed``."""
    rng = np.random.default_rng(seed)
    bg = _backgrounds(rng) if photos else []
    out = dict(imagenet=os.path.join(root, 'imagenet'), coco=os.path.join(root, 'coco'),
               ade=os.path.join(root, 'ade'))
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)]
    for split, count in (('train', num_train), ('val', num_val)):
        images, annotations = [], []
        ade_split = 'training' if split == 'train' else 'validation'
        for i in range(count):
            img, objects = render(rng, size, bg)
            name = f'{split}_{i:05d}'
            # ImageNet layout: the class of the largest object
            largest = max(objects, key=lambda o: o['mask'].sum()) if objects else None
            cls_name = CLASSES[largest['cls']] if largest else CLASSES[0]
            _save(os.path.join(out['imagenet'], split, cls_name, name + '.png'), img)
            # COCO instances
            _save(os.path.join(out['coco'], split, name + '.jpg'), img)
            images.append(dict(id=i + 1, file_name=name + '.jpg', height=size, width=size))
            label = np.zeros((size, size), np.uint8)
            for o in objects:
                polys = _polygons(o['mask'])
                if not polys:
                    continue
                ys, xs = np.nonzero(o['mask'])
                x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=i + 1, category_id=o['cls'] + 1,
                    segmentation=polys, area=float(o['mask'].sum()),
                    bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)], iscrowd=0))
                label[o['mask']] = o['cls'] + 1
            # ADE20K layout
            _save(os.path.join(out['ade'], 'images', ade_split, name + '.jpg'), img)
            _save(os.path.join(out['ade'], 'annotations', ade_split, name + '.png'), label)
        ann_dir = os.path.join(out['coco'], 'annotations')
        os.makedirs(ann_dir, exist_ok=True)
        with open(os.path.join(ann_dir, f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return out
