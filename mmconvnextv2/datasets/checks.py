"""Checks of annotation files and label maps, each naming the file and the problem.

mmdet's ``CocoDataset`` drops annotations whose category id is unknown, and polygons with
fewer than three points, without a word; a malformed file fails inside pycocotools with a
message that does not name it. :func:`check_coco` reads the whole file first and names each
problem (file, annotation id, image, key); ``CheckedCocoDataset`` (``datasets/coco.py``) runs
it, then loads the checked annotations exactly as ``CocoDataset`` does.
"""
import json
import logging
from numbers import Number
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import print_log

SHOWN = 5  # problems listed in an error message
HINT = ('  [tools/misc/verify_dataset.py lists every such file; tools/train.py '
        '--skip-bad-samples skips them, logging each]')


class BadAnnotationError(ValueError):
    """An annotation file that cannot be used; the message names the file and the problem."""


def read_json(path: str, name: Optional[str] = None):
    """``json.load`` with errors that name the file (``name``, when the file is a local copy)
    and the line and column of a syntax error."""
    name = name or path
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'annotation file not found: {name}') from None
    except json.JSONDecodeError as e:
        raise BadAnnotationError(f'{name}: not valid JSON: {e.msg} at line {e.lineno} column '
                                 f'{e.colno}') from None
    except UnicodeDecodeError as e:
        raise BadAnnotationError(f'{name}: not a UTF-8 text file ({e.reason} at byte '
                                 f'{e.start})') from None


def _records(data: dict, key: str, required: Sequence[str], name: str) -> List[dict]:
    records = data[key]
    if not isinstance(records, list):
        raise BadAnnotationError(f"{name}: '{key}' must be a list, got "
                                 f'{type(records).__name__}')
    ids = set()
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadAnnotationError(f"{name}: {key}[{i}] must be an object, got "
                                     f'{type(record).__name__}')
        missing = [k for k in required if k not in record]
        if missing:
            raise BadAnnotationError(f'{name}: {key}[{i}] (id {record.get("id")}) has no '
                                     f'{", ".join(repr(k) for k in missing)}')
        if record['id'] in ids:
            raise BadAnnotationError(f'{name}: {key}[{i}] repeats id {record["id"]}')
        ids.add(record['id'])
    return records


def _segmentation_problem(seg) -> Optional[str]:
    """What is wrong with a COCO ``segmentation`` value, or None."""
    if isinstance(seg, dict):  # RLE
        missing = [k for k in ('counts', 'size') if k not in seg]
        return f'RLE segmentation without {missing}' if missing else None
    if not isinstance(seg, list):
        return f'segmentation must be a list of polygons or an RLE dict, got {type(seg).__name__}'
    if not seg:
        return 'empty segmentation (no polygon)'
    for j, poly in enumerate(seg):
        if not isinstance(poly, list) or not all(isinstance(v, Number) for v in poly):
            return f'polygon {j} is not a list of numbers'
        if len(poly) < 6 or len(poly) % 2:
            return (f'polygon {j} has {len(poly)} coordinates (a polygon needs an even number, '
                    'at least 6: three x, y points)')
    return None


BOX_TOLERANCE = 1.0  # pixels a box may reach past its image's border (rounding in converters)


def _bbox_problem(bbox: Sequence[float], area, image: dict) -> Optional[str]:
    """What is wrong with a well-formed COCO box ``[x, y, w, h]`` of ``image``, or None.

    mmdet's ``CocoDataset`` drops, without a word, a box narrower or lower than one pixel,
    one with ``area <= 0`` and one that does not overlap its image; a box reaching past the
    image is usually a box in another format (``[x1, y1, x2, y2]``) or another image's
    scale.
    """
    x, y, w, h = bbox
    width, height = image['width'], image['height']
    if w < 1 or h < 1:
        which = ' and '.join(f'{k} {v:g}' for k, v in (('width', w), ('height', h)) if v < 1)
        return (f'bbox {list(bbox)} has {which} (a box needs width and height of at least '
                f'1 pixel; mmdet drops it silently)')
    if not isinstance(area, Number) or area <= 0:
        return f'area {area!r} (mmdet drops an annotation whose area is not positive)'
    tol = BOX_TOLERANCE
    if x < -tol or y < -tol or x + w > width + tol or y + h > height + tol:
        return (f'bbox {list(bbox)} (x1, y1, x2, y2 = {x:g}, {y:g}, {x + w:g}, {y + h:g}) lies '
                f'outside its image of {width}x{height} pixels (a COCO bbox is [x, y, width, '
                f'height] in pixels of the image)')
    return None


def _annotation_problem(ann: dict, image: Optional[dict], categories: dict,
                        with_mask: bool) -> Optional[str]:
    """The first problem of one annotation (of ``image``, None when its id is unknown)."""
    bbox = ann['bbox']
    if image is None:
        return f"unknown image id {ann['image_id']}"
    if ann['category_id'] not in categories:
        return (f"unknown category id {ann['category_id']}; the file's categories are "
                f'{sorted(categories)}')
    if not (isinstance(bbox, list) and len(bbox) == 4
            and all(isinstance(v, Number) for v in bbox)):
        return f'bbox must be [x, y, w, h], got {bbox!r}'
    problem = _bbox_problem(bbox, ann['area'], image)
    if problem is None and with_mask and not ann.get('iscrowd', 0) and 'segmentation' in ann:
        problem = _segmentation_problem(ann['segmentation'])
    return problem


def check_coco(data: dict,
               name: str,
               classes: Optional[Sequence[str]] = None,
               with_mask: bool = True) -> Tuple[dict, List[str]]:
    """Check a parsed COCO instances file.

    Structural problems (missing keys, repeated ids, dataset classes absent from the file's
    categories) raise :class:`BadAnnotationError` at once. Problems of single annotations
    (unknown image or category id, a malformed box, one under a pixel wide or high or outside
    its image, a non-positive area, an empty or degenerate polygon) are collected.

    Args:
        data (dict): The parsed file.
        name (str): The file's name, for messages.
        classes (Sequence[str], optional): The dataset's classes; each must be a category.
        with_mask (bool): Check the ``segmentation`` of non-crowd annotations.

    Returns:
        tuple: ``data`` without the bad annotations, and one message per bad annotation
        (empty when the file is clean).
    """
    if not isinstance(data, dict):
        raise BadAnnotationError(f'{name}: a COCO file is a JSON object, got '
                                 f'{type(data).__name__}')
    missing = [k for k in ('images', 'annotations', 'categories') if k not in data]
    if missing:
        raise BadAnnotationError(f'{name}: no {", ".join(repr(k) for k in missing)} key (a COCO '
                                 f'instances file has images, annotations, categories; found '
                                 f'{sorted(data)})')
    images = {r['id']: r for r in _records(data, 'images', ('id', 'file_name', 'height',
                                                           'width'), name)}
    categories = {r['id']: r['name'] for r in _records(data, 'categories', ('id', 'name'),
                                                       name)}
    if classes is not None:
        absent = [c for c in classes if c not in categories.values()]
        if absent:
            raise BadAnnotationError(
                f'{name}: the dataset classes {absent} are not among the file\'s categories '
                f'{sorted(categories.values())} (check metainfo.classes and num_classes)')
    annotations = _records(data, 'annotations', ('id', 'image_id', 'category_id', 'bbox',
                                                 'area'), name)
    problems, good = [], []
    for ann in annotations:
        image = images.get(ann['image_id'])
        where = (f"{name}: annotation {ann['id']} (image {ann['image_id']}"
                 + (f" '{image['file_name']}')" if image else ')'))
        problem = _annotation_problem(ann, image, categories, with_mask)
        if problem:
            problems.append(f'{where}: {problem}')
        else:
            good.append(ann)
    if problems:
        data = dict(data, annotations=good)
    return data, problems


def check_on_error(on_error: str) -> str:
    """Validate the ``on_error`` argument of the checked loaders and datasets."""
    if on_error not in ('raise', 'skip'):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    return on_error


def raise_or_skip(error: Exception, on_error: str, what: str) -> None:
    """Re-raise ``error`` (a bad file, named in its message) with a pointer to the tools that
    list or skip such files, or, with ``on_error='skip'``, log it as a skipped ``what``."""
    if on_error == 'raise':
        error.args = (f'{error}{HINT}', )
        raise error
    print_log(f'skipped {what}: {error}', logger='current', level=logging.WARNING)


def report(problems: List[str], on_error: str) -> None:
    """Raise the first problems (``on_error='raise'``), or log each one as skipped."""
    if not problems:
        return
    if on_error == 'raise':
        more = f'\n... and {len(problems) - SHOWN} more' if len(problems) > SHOWN else ''
        raise BadAnnotationError(
            f'{len(problems)} bad annotation(s):\n' + '\n'.join(problems[:SHOWN]) + more
            + "\n(tools/train.py --skip-bad-samples, or on_error='skip', drops them, logging each)")
    for problem in problems:
        print_log(f'skipped an annotation: {problem}', logger='current',
                  level=logging.WARNING)


def check_label_map(label, name: str, num_classes: Optional[int] = None,
                    ignore_index: int = 255, raw=None):
    """Check a semantic-segmentation label map (after any ``reduce_zero_label`` or label
    map) against the classes ``0 .. num_classes - 1`` and ``ignore_index``.

    Args:
        label (np.ndarray): (H, W) class indices.
        name (str): The label file, for messages.
        num_classes (int, optional): The number of classes; None skips the value check.
        ignore_index (int): The label that the loss ignores. Defaults to 255.
        raw (np.ndarray, optional): The values as stored in the file, to name in messages.

    Raises:
        BadAnnotationError: naming the file, the values out of range and their pixel count.
    """
    import numpy as np
    if label.ndim != 2:
        raise BadAnnotationError(f'{name}: a label map has one channel, got shape '
                                 f'{tuple(label.shape)}')
    if num_classes is None:
        return
    bad = (label >= num_classes) & (label != ignore_index)
    if bad.any():
        values = np.unique(label[bad]).tolist()
        stored = [] if raw is None else np.unique(raw[bad]).tolist()
        stored = f' (stored in the file as {stored})' if stored and stored != values else ''
        raise BadAnnotationError(
            f'{name}: label values {values[:10]}{stored} in {int(bad.sum())} pixels are outside '
            f'the classes 0..{num_classes - 1} and the ignore index {ignore_index} (check '
            'num_classes, reduce_zero_label and the label files)')
