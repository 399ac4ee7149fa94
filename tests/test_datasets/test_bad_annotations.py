"""Checked annotations: COCO files (CheckedCocoDataset, check_coco) and segmentation label
maps (CheckedLoadSegAnnotations) name the file and the problem, or skip and log; clean data
loads exactly as with mmdet's and mmseg's loaders."""
import copy
import json
import os
import re

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmconvnextv2.datasets import CLASSES, make_demo_data
from mmconvnextv2.datasets.checks import BadAnnotationError, check_coco, read_json, report
from mmconvnextv2.datasets.coco import CheckedCocoDataset
from mmconvnextv2.datasets.loading import CheckedLoadImageFromFile
from mmconvnextv2.datasets.seg import CheckedLoadSegAnnotations
from tests.conftest import ROOT

DEMO_DET = 'configs/demo/mask-rcnn_convnextv2-atto_fpn_demo.py'


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=4, num_val=2,
                          size=64)


# ======================================================================== COCO


@pytest.fixture(scope='module')
def coco_args(demo):
    """The demo config's train dataset arguments, on the test's demo data, no pipeline."""
    args = Config.fromfile(os.path.join(ROOT, DEMO_DET)).train_dataloader.dataset.to_dict()
    for key in ('type', '_scope_', 'pipeline', 'ann_file'):
        args.pop(key, None)
    args.update(data_root=demo['coco'] + os.sep, pipeline=[])
    return args


@pytest.fixture
def coco(demo):
    """A fresh copy of the clean train annotation file."""
    return read_json(os.path.join(demo['coco'], 'annotations', 'instances_train.json'))


def write_json(tmp_path, data, name='instances.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def data_list(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def num_instances(dataset):
    return sum(len(info['instances']) for info in data_list(dataset))


def annotation_and_image(data, index=1):
    ann = data['annotations'][index]
    image = next(i for i in data['images'] if i['id'] == ann['image_id'])
    return ann, image


def test_clean_file_gives_exactly_the_coco_dataset_data_list(tmp_path, coco_args, coco):
    from mmdet.datasets import CocoDataset
    ann_file = write_json(tmp_path, coco)
    ours = CheckedCocoDataset(ann_file=ann_file, **coco_args)
    theirs = CocoDataset(ann_file=ann_file, **coco_args)
    assert len(ours) == len(theirs) > 0
    assert data_list(ours) == data_list(theirs)
    assert num_instances(ours) == len(coco['annotations']) > 0
    assert all('mask' in inst for info in data_list(ours) for inst in info['instances'])


def test_registered_in_mmdet_datasets(tmp_path, coco_args, coco):
    from mmdet.registry import DATASETS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(dict(type='CheckedCocoDataset', on_error='skip',
                                      ann_file=write_json(tmp_path, coco), **coco_args))
    assert isinstance(dataset, CheckedCocoDataset) and dataset.on_error == 'skip'
    with pytest.raises(ValueError, match='bogus'):
        CheckedCocoDataset(ann_file=write_json(tmp_path, coco), on_error='bogus', **coco_args)


def test_malformed_json_names_the_file_line_and_column(tmp_path, coco_args, coco):
    text = json.dumps(coco, indent=1)
    path = tmp_path / 'cut.json'
    path.write_text(text[:len(text) // 2])
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=str(path), **coco_args)
    message = str(info.value)
    assert str(path) in message
    match = re.search(r'line (\d+) column (\d+)', message)
    assert match, message
    assert 1 < int(match.group(1)) <= text[:len(text) // 2].count('\n') + 1


def test_missing_file_names_it(tmp_path, coco_args):
    path = str(tmp_path / 'nowhere.json')
    with pytest.raises(FileNotFoundError, match=re.escape(path)):
        CheckedCocoDataset(ann_file=path, **coco_args)


def test_missing_annotations_key_is_named(tmp_path, coco_args, coco):
    del coco['annotations']
    ann_file = write_json(tmp_path, coco)
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **coco_args)
    assert ann_file in str(info.value)
    assert "'annotations'" in str(info.value)


def test_annotation_without_category_id_is_named(tmp_path, coco_args, coco):
    ann = coco['annotations'][2]
    del ann['category_id']
    ann_file = write_json(tmp_path, coco)
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **coco_args)
    message = str(info.value)
    assert ann_file in message
    assert "'category_id'" in message
    assert 'annotations[2]' in message and f"(id {ann['id']})" in message


def test_unknown_category_id_names_file_annotation_image_and_id(tmp_path, coco_args, coco):
    ann, image = annotation_and_image(coco)
    ann['category_id'] = 99
    ann_file = write_json(tmp_path, coco)
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **coco_args)
    message = str(info.value)
    assert ann_file in message
    assert f"annotation {ann['id']} " in message
    assert image['file_name'] in message
    assert 'unknown category id 99' in message
    assert '1 bad annotation(s)' in message


def test_unknown_category_id_skipped_and_logged(tmp_path, coco_args, coco, log_text):
    clean = CheckedCocoDataset(ann_file=write_json(tmp_path, coco, 'clean.json'), **coco_args)
    ann, image = annotation_and_image(coco)
    ann['category_id'] = 99
    ann_file = write_json(tmp_path, coco)
    dataset = CheckedCocoDataset(ann_file=ann_file, on_error='skip', **coco_args)
    assert num_instances(dataset) == num_instances(clean) - 1
    expected = {info['img_id']: len(info['instances']) for info in data_list(clean)}
    expected[image['id']] -= 1
    if expected[image['id']] == 0 and coco_args['filter_cfg']['filter_empty_gt']:
        del expected[image['id']]  # the demo config drops images left without objects
    assert {info['img_id']: len(info['instances']) for info in data_list(dataset)} == expected
    text = log_text()
    assert 'skipped an annotation' in text
    assert f"annotation {ann['id']} " in text and 'unknown category id 99' in text
    assert ann_file in text


@pytest.mark.parametrize('segmentation', [[], [[]], [[1, 2, 3, 4]], [[1, 2, 3, 4, 5, 6, 7]]],
                         ids=['no-polygon', 'empty-polygon', 'two-points', 'odd'])
def test_empty_or_degenerate_polygon_is_named(tmp_path, coco_args, coco, segmentation):
    ann = coco['annotations'][1]
    ann['segmentation'] = segmentation
    ann_file = write_json(tmp_path, coco)
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **coco_args)
    assert f"annotation {ann['id']} " in str(info.value)
    assert ann_file in str(info.value)


def _set_box(ann, image, case):
    """Make annotation ``ann`` of ``image`` bad in the way ``case`` names; returns the phrase
    the error must contain and whether mmdet's CocoDataset drops the annotation silently."""
    x, y, w, h = ann['bbox']
    W, H = image['width'], image['height']
    if case == 'zero-width':
        ann['bbox'] = [x, y, 0.0, h]
        return 'width 0', True
    if case == 'negative-height':
        ann['bbox'] = [x, y, w, -3.0]
        return 'height -3', True
    if case == 'sub-pixel':
        ann['bbox'] = [x, y, 0.5, h]
        return 'width 0.5', True
    if case == 'zero-area':
        ann['area'] = 0
        return 'area 0', True
    if case == 'beyond-the-image':
        ann['bbox'] = [W + 5.0, y, w, h]
        return f'outside its image of {W}x{H}', True
    if case == 'xyxy':  # [x1, y1, x2, y2] written where [x, y, w, h] belongs
        ann['bbox'] = [W / 2, H / 2, W - 1.0, H - 1.0]
        return f'outside its image of {W}x{H}', False
    raise ValueError(case)


BOX_CASES = ['zero-width', 'negative-height', 'sub-pixel', 'zero-area', 'beyond-the-image',
             'xyxy']


@pytest.mark.parametrize('case', BOX_CASES)
def test_bad_box_is_named(tmp_path, coco_args, coco, case):
    """A box mmdet would drop without a word (or one that cannot be a box of its image) is
    named with its file, annotation and image."""
    from mmdet.datasets import CocoDataset
    clean = num_instances(CocoDataset(ann_file=write_json(tmp_path, coco, 'clean.json'),
                                      **coco_args))
    ann, image = annotation_and_image(coco)
    phrase, dropped_by_mmdet = _set_box(ann, image, case)
    ann_file = write_json(tmp_path, coco)
    theirs = num_instances(CocoDataset(ann_file=ann_file, **coco_args))
    assert theirs == (clean - 1 if dropped_by_mmdet else clean)
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **coco_args)
    message = str(info.value)
    assert ann_file in message and f"annotation {ann['id']} " in message
    assert image['file_name'] in message and phrase in message, message


def test_box_on_the_border_is_accepted(tmp_path, coco_args, coco):
    """Boxes touching the border, and reaching past it by rounding (<= 1 px), are fine."""
    ann, image = annotation_and_image(coco)
    ann['bbox'] = [-0.5, 0.0, image['width'] + 1.0, float(image['height'])]
    ann_file = write_json(tmp_path, coco)
    assert CheckedCocoDataset(ann_file=ann_file, **coco_args).bad_annotations == []


def test_crowd_rle_is_accepted(tmp_path, coco_args, coco):
    from mmdet.datasets import CocoDataset
    ann = coco['annotations'][0]
    image = next(i for i in coco['images'] if i['id'] == ann['image_id'])
    rle = dict(counts=[10, 20, image['height'] * image['width'] - 30],
               size=[image['height'], image['width']])
    ann.update(iscrowd=1, segmentation=rle)
    ann_file = write_json(tmp_path, coco)
    dataset = CheckedCocoDataset(ann_file=ann_file, **coco_args)
    assert data_list(dataset) == data_list(CocoDataset(ann_file=ann_file, **coco_args))
    crowd = [inst for info in data_list(dataset) for inst in info['instances']
             if inst['ignore_flag'] == 1]
    assert len(crowd) == 1 and crowd[0]['mask'] == rle


def test_dataset_class_missing_from_the_categories_is_named(tmp_path, coco_args, coco):
    from mmdet.datasets import CocoDataset
    args = dict(coco_args, metainfo=dict(classes=tuple(CLASSES) + ('hexagon', )))
    ann_file = write_json(tmp_path, coco)
    CocoDataset(ann_file=ann_file, **args)  # mmdet accepts it without a word
    with pytest.raises(BadAnnotationError) as info:
        CheckedCocoDataset(ann_file=ann_file, **args)
    assert "'hexagon'" in str(info.value) and ann_file in str(info.value)


def test_check_coco_on_a_dict(coco, log_text):
    clean = copy.deepcopy(coco)
    checked, problems = check_coco(coco, 'mem.json', classes=CLASSES)
    assert problems == [] and checked == clean
    report(problems, 'raise')  # nothing to report

    bad = copy.deepcopy(coco)
    bad['annotations'][0]['image_id'] = 1234
    bad['annotations'][1]['bbox'] = [1, 2, 3]
    checked, problems = check_coco(bad, 'mem.json')
    assert len(problems) == 2
    assert 'annotation {} '.format(bad['annotations'][0]['id']) in problems[0]
    assert 'unknown image id 1234' in problems[0]
    assert 'bbox must be [x, y, w, h]' in problems[1]
    assert all(p.startswith('mem.json: ') for p in problems)
    kept_ids = [a['id'] for a in checked['annotations']]
    assert kept_ids == [a['id'] for a in coco['annotations'][2:]]
    assert len(bad['annotations']) == len(coco['annotations'])  # the input is not modified
    with pytest.raises(BadAnnotationError, match=r'2 bad annotation\(s\)'):
        report(problems, 'raise')
    report(problems, 'skip')
    assert log_text().count('skipped an annotation') == 2

    masks_unchecked = copy.deepcopy(coco)
    masks_unchecked['annotations'][0]['segmentation'] = []
    assert check_coco(masks_unchecked, 'mem.json', with_mask=False)[1] == []
    assert len(check_coco(masks_unchecked, 'mem.json')[1]) == 1

    repeated = copy.deepcopy(coco)
    repeated['images'][1]['id'] = repeated['images'][0]['id']
    with pytest.raises(BadAnnotationError, match='repeats id'):
        check_coco(repeated, 'mem.json')


def test_report_lists_the_first_problems_and_counts_the_rest():
    problems = [f'f.json: annotation {i}: broken' for i in range(8)]
    with pytest.raises(BadAnnotationError) as info:
        report(problems, 'raise')
    message = str(info.value)
    assert '8 bad annotation(s)' in message and '... and 3 more' in message
    assert 'annotation 4:' in message and 'annotation 5:' not in message


# ======================================================================== label maps


def seg_results(img_path, seg_path, reduce_zero_label):
    """What mmseg's BaseSegDataset and the image loader hand to LoadAnnotations."""
    results = CheckedLoadImageFromFile()(dict(img_path=str(img_path)))
    results.update(seg_map_path=str(seg_path), reduce_zero_label=reduce_zero_label,
                   label_map=None, seg_fields=[])
    return results


def write_pair(tmp_path, label, image_size=None, name='sample'):
    """An image (of the label's size unless given, as (h, w)) and its label map PNG; a
    uint16 label is written as a 16-bit PNG, an (h, w, 3) one as a colour PNG."""
    h, w = image_size or label.shape[:2]
    img_path = tmp_path / f'{name}.jpg'
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(img_path)
    seg_path = tmp_path / f'{name}.png'
    cv2.imwrite(str(seg_path), label)
    return str(img_path), str(seg_path)


def label_with(values_counts, h=12, w=16):
    """An (h, w) uint8 label of classes 0..3 with the given extra values in the first
    pixels: {value: count}."""
    label = (np.arange(h * w) % 4).astype(np.uint8)
    start = 0
    for value, count in values_counts.items():
        label[start:start + count] = value
        start += count
    return label.reshape(h, w)


@pytest.mark.parametrize('reduce_zero_label,num_classes', [(True, 4), (False, 5)])
def test_clean_label_map_is_exactly_mmseg(demo, reduce_zero_label, num_classes):
    from mmseg.datasets.transforms import LoadAnnotations
    img_path = os.path.join(demo['ade'], 'images', 'training', 'train_00000.jpg')
    seg_path = os.path.join(demo['ade'], 'annotations', 'training', 'train_00000.png')
    ours = CheckedLoadSegAnnotations(num_classes=num_classes)(
        seg_results(img_path, seg_path, reduce_zero_label))
    theirs = LoadAnnotations()(seg_results(img_path, seg_path, reduce_zero_label))
    assert ours['gt_seg_map'].dtype == theirs['gt_seg_map'].dtype == np.uint8
    assert np.array_equal(ours['gt_seg_map'], theirs['gt_seg_map'])
    assert ours['seg_fields'] == theirs['seg_fields'] == ['gt_seg_map']
    values = set(np.unique(ours['gt_seg_map']).tolist())
    assert len(values) >= 2  # the demo map is not blank
    assert (255 in values) == reduce_zero_label  # unlabelled 0 becomes the ignore index


def test_label_map_translation_as_mmseg(tmp_path):
    from mmseg.datasets.transforms import LoadAnnotations
    img_path, seg_path = write_pair(tmp_path, label_with({255: 5}))
    label_map = {0: 1, 1: 0, 2: 255, 3: 2}

    def run(transform):
        results = seg_results(img_path, seg_path, False)
        results['label_map'] = label_map
        return transform(results)['gt_seg_map']

    ours = run(CheckedLoadSegAnnotations(num_classes=3))
    assert np.array_equal(ours, run(LoadAnnotations()))
    assert set(np.unique(ours).tolist()) == {0, 1, 2, 255}


def test_palette_label_map_is_read_as_indices_as_mmseg(tmp_path):
    from mmseg.datasets.transforms import LoadAnnotations
    label = label_with({255: 4})
    img_path, seg_path = write_pair(tmp_path, label)
    palette = Image.fromarray(label, 'L').convert('P')  # VOC-style indexed PNG
    palette.putpalette(list(np.random.default_rng(0).integers(0, 256, 768)))
    palette.save(seg_path)
    assert Image.open(seg_path).mode == 'P'
    ours = CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    theirs = LoadAnnotations()(seg_results(img_path, seg_path, False))
    assert np.array_equal(ours['gt_seg_map'], label)
    assert np.array_equal(ours['gt_seg_map'], theirs['gt_seg_map'])


def test_values_outside_the_classes_are_named_with_their_pixel_count(tmp_path):
    img_path, seg_path = write_pair(tmp_path, label_with({9: 7, 255: 3}))
    with pytest.raises(BadAnnotationError) as info:
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    message = str(info.value)
    assert seg_path in message
    # 9 alone (not the ignore index 255), in its 7 pixels
    assert re.search(r'label values \[9\]( \(stored in the file as \[9\]\))? in 7 pixels',
                     message), message


def test_ignore_index_is_allowed(tmp_path):
    label = label_with({255: 6})
    img_path, seg_path = write_pair(tmp_path, label)
    results = CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    assert np.array_equal(results['gt_seg_map'], label)


def test_reduced_value_outside_the_classes_names_the_stored_value(tmp_path):
    img_path, seg_path = write_pair(tmp_path, label_with({6: 5}))
    with pytest.raises(BadAnnotationError) as info:
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, True))
    message = str(info.value)
    assert seg_path in message and '5 pixels' in message
    assert 'label values [5] (stored in the file as [6])' in message


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_16bit_label_beyond_8_bits_is_refused(tmp_path, backend):
    from mmseg.datasets.transforms import LoadAnnotations
    label = label_with({}).astype(np.uint16)
    label[0, :3] = 300
    img_path, seg_path = write_pair(tmp_path, label)
    with pytest.raises(BadAnnotationError) as info:
        CheckedLoadSegAnnotations(num_classes=4, imdecode_backend=backend)(
            seg_results(img_path, seg_path, False))
    assert seg_path in str(info.value) and '8 bits' in str(info.value)
    assert 'up to 300' in str(info.value)
    # what mmseg's loader does instead: 300 silently wraps to 300 - 256 = 44
    wrapped = LoadAnnotations(imdecode_backend=backend)(
        seg_results(img_path, seg_path, False))['gt_seg_map']
    assert wrapped[0, :3].tolist() == [44, 44, 44]


def test_16bit_label_within_8_bits_is_accepted(tmp_path):
    label = label_with({255: 2})
    img_path, seg_path = write_pair(tmp_path, label.astype(np.uint16))
    results = CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    assert results['gt_seg_map'].dtype == np.uint8
    assert np.array_equal(results['gt_seg_map'], label)


def test_colour_label_map_is_refused_grey_three_channel_is_accepted(tmp_path):
    label = label_with({})
    colour = np.stack([label, (label + 1) % 4, label], -1)
    img_path, seg_path = write_pair(tmp_path, colour, name='colour')
    with pytest.raises(BadAnnotationError) as info:
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    assert seg_path in str(info.value)
    assert 'shape (12, 16, 3)' in str(info.value)

    img_path, seg_path = write_pair(tmp_path, np.repeat(label[..., None], 3, -1), name='grey')
    results = CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    assert results['gt_seg_map'].shape == (12, 16)
    assert np.array_equal(results['gt_seg_map'], label)


def test_label_map_of_another_size_than_its_image_names_both(tmp_path):
    img_path, seg_path = write_pair(tmp_path, label_with({}), image_size=(12, 20))
    with pytest.raises(BadAnnotationError) as info:
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))
    message = str(info.value)
    assert seg_path in message and img_path in message
    assert 'label map is 16x12' in message and f'{img_path} is 20x12' in message


def test_missing_label_file_is_named(tmp_path):
    img_path, _ = write_pair(tmp_path, label_with({}))
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError) as info:
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, missing, False))
    assert missing in str(info.value)


def test_undecodable_label_file_is_named(tmp_path):
    img_path, seg_path = write_pair(tmp_path, label_with({}))
    with open(seg_path, 'wb') as f:
        f.write(b'not a png at all')
    with pytest.raises(BadAnnotationError, match=re.escape(seg_path)):
        CheckedLoadSegAnnotations(num_classes=4)(seg_results(img_path, seg_path, False))


def test_skip_returns_none_and_logs(tmp_path, log_text):
    img_path, seg_path = write_pair(tmp_path, label_with({9: 7}))
    transform = CheckedLoadSegAnnotations(num_classes=4, on_error='skip')
    assert transform(seg_results(img_path, seg_path, False)) is None
    missing = str(tmp_path / 'missing.png')
    assert transform(seg_results(img_path, missing, False)) is None
    text = log_text()
    assert text.count('skipped a sample') == 2
    assert seg_path in text and '[9]' in text and missing in text


def test_seg_loader_registered_in_mmseg_and_refuses_unknown_mode():
    from mmengine.registry import DefaultScope
    from mmseg.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmseg'):
        transform = TRANSFORMS.build(dict(type='CheckedLoadSegAnnotations', num_classes=4))
    assert isinstance(transform, CheckedLoadSegAnnotations)
    assert 'num_classes=4' in repr(transform)
    with pytest.raises(ValueError, match='bogus'):
        CheckedLoadSegAnnotations(on_error='bogus')
