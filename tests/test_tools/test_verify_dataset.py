"""tools/misc/verify_dataset.py lists every bad file of a dataset, and nothing on clean
data."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmconvnextv2.apis import load_config
from mmconvnextv2.apis.verify import verify_dataset
from mmconvnextv2.datasets import make_demo_data
from tests.conftest import ROOT

DEMO = os.path.join(ROOT, 'configs', 'demo')


@pytest.fixture
def demo(tmp_path):
    return make_demo_data(str(tmp_path / 'demo'), num_train=6, num_val=2, size=64)


def config(name, data_root):
    return load_config(os.path.join(DEMO, name), cfg_options={'data_root': data_root + '/'})


def truncate(path):
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)


@pytest.mark.parametrize('name,key', [('upernet_convnextv2-atto_demo.py', 'ade'),
                                      ('mask-rcnn_convnextv2-atto_fpn_demo.py', 'coco')])
def test_clean_data_has_no_problem(demo, name, key):
    assert verify_dataset(config(name, demo[key]), 'train') == []
    assert verify_dataset(config(name, demo[key]), 'val') == []


def test_segmentation_problems_are_all_listed(demo):
    ade = demo['ade']
    images = os.path.join(ade, 'images', 'training')
    labels = os.path.join(ade, 'annotations', 'training')
    first, second, third = sorted(os.listdir(images))[:3]
    truncate(os.path.join(images, first))
    os.remove(os.path.join(labels, second.replace('.jpg', '.png')))
    label = os.path.join(labels, third.replace('.jpg', '.png'))
    array = np.asarray(Image.open(label)).copy()
    array[0, :3] = 9  # stored 9 is class 8 after reduce_zero_label; the demo has 3 classes
    Image.fromarray(array).save(label)

    problems = verify_dataset(config('upernet_convnextv2-atto_demo.py', ade), 'train',
                              num_workers=2)
    assert len(problems) == 3, problems
    assert 'cannot decode the image' in problems[0] and first in problems[0]
    assert 'label file not found' in problems[1] and second.replace('.jpg', '.png') in \
        problems[1]
    assert 'label values [8] (stored in the file as [9]) in 3 pixels' in problems[2]


def test_detection_problems_are_all_listed_by_the_tool(demo, tmp_path):
    coco = demo['coco']
    ann_file = os.path.join(coco, 'annotations', 'instances_train.json')
    with open(ann_file) as f:
        data = json.load(f)
    data['annotations'][0]['category_id'] = 99
    data['annotations'][1]['segmentation'] = [[]]
    data['annotations'][2]['bbox'][2] = 0.0  # zero width: mmdet drops it without a word
    data['annotations'][3]['bbox'][0] = 500.0  # outside the 64-px image
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    touched = {ann['image_id'] for ann in data['annotations'][:4]}
    # an image none of the bad annotations is on: an image with a bad annotation is dropped
    # whole, so its file is never opened
    missing = next(image['file_name'] for image in data['images'] if image['id'] not in touched)
    os.remove(os.path.join(coco, 'train', missing))

    out = tmp_path / 'bad.txt'
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'misc', 'verify_dataset.py'),
         os.path.join(DEMO, 'mask-rcnn_convnextv2-atto_fpn_demo.py'), '--out-path', str(out),
         '--cfg-options', f'data_root={coco}/'],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    problems = out.read_text().splitlines()
    assert len(problems) == 5, problems
    assert 'unknown category id 99' in problems[0]
    assert 'empty segmentation' in problems[1] or 'polygon 0 has 0 coordinates' in problems[1]
    assert 'width 0 ' in problems[2]
    assert 'outside its image of 64x64 pixels' in problems[3]
    assert 'image file not found' in problems[4] and missing in problems[4]
    assert '5 problem(s) in the train dataset' in result.stderr
