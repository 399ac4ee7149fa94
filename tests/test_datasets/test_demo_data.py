"""The demo data generator: deterministic in its seed, each set independent of the sizes of
the others, and classes that only the shape tells apart."""
import filecmp
import json
import os

import numpy as np
from PIL import Image

from mmconvnextv2.datasets import CLASSES, make_demo_data, make_unlabeled_images


def files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, names in os.walk(root) for f in names)


def test_same_seed_same_files_other_seed_other_images(tmp_path):
    a = tmp_path / 'a'
    b = tmp_path / 'b'
    c = tmp_path / 'c'
    for root, seed in ((a, 0), (b, 0), (c, 1)):
        make_demo_data(str(root), num_train=6, num_val=2, size=64, seed=seed, num_unlabeled=3)
    names = files(a)
    assert names == files(b) and len(names) > 20
    assert sum(n.startswith('unlabeled') for n in names) == 3
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors
    shared = sorted(set(names) & set(files(c)))
    _, mismatch, _ = filecmp.cmpfiles(a, c, shared, shallow=False)
    assert mismatch, 'a different seed must give different data'


def test_each_set_is_independent_of_the_others_sizes(tmp_path):
    small, large = tmp_path / 'small', tmp_path / 'large'
    make_demo_data(str(small), num_train=3, num_val=2, size=64, num_unlabeled=0)
    make_demo_data(str(large), num_train=3, num_val=2, size=64, num_unlabeled=5)
    labeled = files(small)
    _, mismatch, errors = filecmp.cmpfiles(small, large, labeled, shallow=False)
    assert not mismatch and not errors
    alone = tmp_path / 'alone'
    make_unlabeled_images(str(alone), 5, size=64)
    pool = files(alone)
    assert len(pool) == 5
    _, mismatch, errors = filecmp.cmpfiles(alone, large, pool, shallow=False)
    assert not mismatch and not errors


def test_colour_does_not_tell_the_class(tmp_path):
    """Objects of every class take colours from the whole range: the mean colour of a class
    is close to the mean colour of all objects (within a tenth of the 0-255 range)."""
    data = make_demo_data(str(tmp_path), num_train=60, num_val=0, size=64)
    with open(os.path.join(data['coco'], 'annotations', 'instances_train.json')) as f:
        coco = json.load(f)
    assert [c['name'] for c in coco['categories']] == list(CLASSES)
    colours = {c: [] for c in range(len(CLASSES))}
    labels = os.path.join(data['ade'], 'annotations', 'training')
    images = os.path.join(data['ade'], 'images', 'training')
    for name in sorted(os.listdir(labels)):
        label = np.asarray(Image.open(os.path.join(labels, name)))
        image = np.asarray(Image.open(os.path.join(images, name.replace('.png', '.jpg'))))
        for c in colours:
            if (label == c + 1).sum() > 50:
                colours[c].append(image[label == c + 1].mean(0))
    means = {c: np.mean(v, 0) for c, v in colours.items()}
    overall = np.mean(np.concatenate([np.array(v) for v in colours.values()]), 0)
    assert all(len(v) >= 10 for v in colours.values()), {c: len(v) for c, v in colours.items()}
    for c, mean in means.items():
        assert np.abs(mean - overall).max() < 25.5, (CLASSES[c], mean, overall)
