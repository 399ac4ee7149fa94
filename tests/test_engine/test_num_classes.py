"""Model and data that disagree on the classes stop before the first iteration, naming the
head, both numbers and the dataset."""
import os

import pytest
from mmengine.runner import Runner

from mmconvnextv2.apis import load_config
from mmconvnextv2.datasets import make_demo_data
from tests.conftest import ROOT
from tests.helpers import write_image_folder

DEMO = os.path.join(ROOT, 'configs', 'demo')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_demo_data(str(tmp_path_factory.mktemp('demo')), num_train=4, num_val=2,
                          size=64)


def runner(config, work_dir, **options):
    cfg = load_config(os.path.join(ROOT, config), work_dir=str(work_dir), cfg_options={
        'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1, 'log_level': 'WARNING',
        **options})
    return Runner.from_cfg(cfg)


def test_segmentation_head_with_more_classes_than_the_dataset(demo, tmp_path):
    r = runner('configs/demo/upernet_convnextv2-atto_demo.py', tmp_path,
               data_root=demo['ade'] + '/', **{'model.decode_head.num_classes': 5})
    with pytest.raises(ValueError, match=r'model\.decode_head\.num_classes is 5 but the '
                       r'BaseSegDataset \(train dataset\) has 3 classes'):
        r.train()
    assert r.iter == 0


def test_detection_head_with_fewer_classes_than_the_dataset(demo, tmp_path):
    r = runner('configs/demo/mask-rcnn_convnextv2-atto_fpn_demo.py', tmp_path,
               data_root=demo['coco'] + '/', **{'model.roi_head.bbox_head.num_classes': 2})
    with pytest.raises(ValueError, match=r'model\.roi_head\.bbox_head\.num_classes is 2 but '
                       r'the CheckedCocoDataset \(train dataset\) has 3 classes'):
        r.train()


def test_test_run_is_checked_too(demo, tmp_path):
    r = runner('configs/demo/upernet_convnextv2-atto_demo.py', tmp_path,
               data_root=demo['ade'] + '/', **{'model.decode_head.num_classes': 5,
                                               'model.auxiliary_head.num_classes': 5})
    with pytest.raises(ValueError, match=r'num_classes is 5 .* \(test dataset\) has 3'):
        r.test()


def test_matching_classes_pass(demo, tmp_path):
    r = runner('configs/demo/upernet_convnextv2-atto_demo.py', tmp_path,
               data_root=demo['ade'] + '/')
    r.train()
    assert r.iter == 1


def classifier_runner(work_dir, dataset, num_classes):
    cfg = load_config(os.path.join(ROOT, 'configs/convnextv2/convnextv2-atto_32xb32_in1k.py'),
                      work_dir=str(work_dir), cfg_options={
                          'model.head.num_classes': num_classes,
                          'model.data_preprocessor.num_classes': num_classes,
                          'train_dataloader.dataset': dict(
                              _delete_=True, type='CustomDataset', pipeline=[
                                  dict(type='LoadImageFromFile'),
                                  dict(type='Resize', scale=32),
                                  dict(type='PackInputs')], **dataset),
                          'train_dataloader.num_workers': 0,
                          'train_dataloader.persistent_workers': False,
                          'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop',
                                            max_iters=1),
                          'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
                          'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None,
                          'log_level': 'WARNING'})
    return Runner.from_cfg(cfg)


def test_classifier_with_fewer_classes_than_the_image_folder(tmp_path):
    data = write_image_folder(str(tmp_path / 'data'), classes=3, per_class=2, size=32)
    r = classifier_runner(tmp_path / 'work', dict(data_root=data, data_prefix='train'), 2)
    with pytest.raises(ValueError, match=r'model\.data_preprocessor\.num_classes is 2, '
                       r'model\.head\.num_classes is 2 but the '
                       r'CustomDataset \(train dataset\) has 3 classes'):
        r.train()


def test_classifier_label_outside_the_head_names_the_sample(tmp_path):
    """An annotation list (no class names) with a label the 2-class head cannot have."""
    data = write_image_folder(str(tmp_path / 'data'), classes=2, per_class=2, size=32)
    (tmp_path / 'data' / 'train.txt').write_text(
        'class0/0.png 0\nclass0/1.png 1\nclass1/0.png 5\nclass1/1.png 1\n')
    r = classifier_runner(tmp_path / 'work', dict(data_root=data, data_prefix='train',
                                                  ann_file='train.txt'), 2)
    with pytest.raises(ValueError, match=r'1 sample\(s\) have labels outside 0\.\.1, the '
                       r'first .*class1/0\.png with label 5'):
        r.train()
