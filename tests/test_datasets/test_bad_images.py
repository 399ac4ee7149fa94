"""CheckedLoadImageFromFile: bad files are named (or skipped and logged), non-RGB images
become 8-bit BGR, good files load exactly as with mmcv's LoadImageFromFile."""
import io
import os

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmcv.transforms.builder import TRANSFORMS
from PIL import Image

from mmconvnextv2.datasets.loading import BadImageError, CheckedLoadImageFromFile
from tests.helpers import write_image_folder

BACKENDS = ('cv2', 'pillow')


def load(path, **kwargs):
    return CheckedLoadImageFromFile(**kwargs)(dict(img_path=str(path)))


def rgb_image(h=24, w=40, seed=0):
    """A structured, non-square RGB image (gradients plus noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([yy * 255 / h, xx * 255 / w, (yy + xx) * 100 / (h + w)], -1)
    return np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)


def encode(img, fmt):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt)
    return buf.getvalue()


# ------------------------------------------------------------------ bad files: named errors


@pytest.mark.parametrize('backend', BACKENDS)
def test_missing_file_names_the_path(tmp_path, backend):
    path = tmp_path / 'no_such_image.jpg'
    with pytest.raises(FileNotFoundError) as info:
        load(path, imdecode_backend=backend)
    assert str(path) in str(info.value)


@pytest.mark.parametrize('backend', BACKENDS)
def test_empty_file_is_a_bad_image(tmp_path, backend):
    path = tmp_path / 'empty.jpg'
    path.write_bytes(b'')
    with pytest.raises(BadImageError) as info:
        load(path, imdecode_backend=backend)
    assert str(path) in str(info.value)
    assert '(0 bytes)' in str(info.value)


@pytest.mark.parametrize('backend', BACKENDS)
def test_garbage_bytes_are_a_bad_image(tmp_path, backend):
    path = tmp_path / 'x.jpg'
    path.write_bytes(b'this is a text file, not a JPEG ' * 4)
    with pytest.raises(BadImageError) as info:
        load(path, imdecode_backend=backend)
    assert str(path) in str(info.value)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('fmt,ext', [('JPEG', 'jpg'), ('PNG', 'png')])
def test_truncated_image_is_a_bad_image(tmp_path, backend, fmt, ext):
    data = encode(rgb_image(64, 64), fmt)
    whole = tmp_path / f'whole.{ext}'
    whole.write_bytes(data)
    assert load(whole, imdecode_backend=backend)['img'].shape == (64, 64, 3)
    path = tmp_path / f'truncated.{ext}'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(BadImageError) as info:
        load(path, imdecode_backend=backend)
    assert str(path) in str(info.value)


# ---------------------------------------------------------- non-RGB images: 8-bit BGR


def _write_gray8(path):
    gray = rgb_image()[..., 0]
    Image.fromarray(gray).save(path)
    assert Image.open(path).mode == 'L'
    return np.repeat(gray[..., None], 3, axis=-1)


def _write_rgba(path):
    rgba = np.concatenate([rgb_image(), rgb_image(seed=1)[..., :1]], axis=-1)
    assert rgba[..., 3].min() < 100  # a real alpha channel, not all opaque
    Image.fromarray(rgba, 'RGBA').save(path)
    return rgba[..., 2::-1]  # BGR of the RGB part


def _write_gray16(path):
    gray = np.random.default_rng(0).integers(0, 65536, (24, 40)).astype(np.uint16)
    gray[0, :4] = [0, 255, 256, 65535]
    cv2.imwrite(str(path), gray)
    assert Image.open(path).mode.startswith('I;16')
    return np.repeat((gray >> 8)[..., None], 3, axis=-1)


def _write_rgb16(path):
    bgr = np.random.default_rng(1).integers(0, 65536, (24, 40, 3)).astype(np.uint16)
    cv2.imwrite(str(path), bgr)  # cv2 writes BGR arrays as RGB files
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    return bgr >> 8


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('write,exact', [(_write_gray8, True), (_write_rgba, True),
                                         (_write_gray16, False), (_write_rgb16, False)],
                         ids=['gray8', 'rgba', 'gray16', 'rgb16'])
def test_non_rgb_images_become_8bit_bgr(tmp_path, backend, write, exact):
    path = tmp_path / 'image.png'
    expected = write(path).astype(int)
    results = load(path, imdecode_backend=backend)
    img = results['img']
    assert img.dtype == np.uint8
    assert img.shape == (24, 40, 3)
    assert results['img_shape'] == results['ori_shape'] == (24, 40)
    diff = np.abs(img.astype(int) - expected)
    assert diff.max() <= (0 if exact else 1), f'max difference {diff.max()}'


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('fmt,ext', [('JPEG', 'jpg'), ('PNG', 'png')])
def test_good_image_loads_exactly_as_mmcv(tmp_path, backend, fmt, ext):
    path = tmp_path / f'good.{ext}'
    path.write_bytes(encode(rgb_image(), fmt))
    ours = load(path, imdecode_backend=backend)
    theirs = LoadImageFromFile(imdecode_backend=backend)(dict(img_path=str(path)))
    assert ours['img'].dtype == theirs['img'].dtype == np.uint8
    assert np.array_equal(ours['img'], theirs['img'])
    assert ours['img_shape'] == theirs['img_shape'] == (24, 40)
    assert ours['ori_shape'] == theirs['ori_shape']
    floats = load(path, imdecode_backend=backend, to_float32=True)['img']
    assert floats.dtype == np.float32 and np.array_equal(floats, theirs['img'])


# ----------------------------------------------------------------- on_error='skip'


@pytest.mark.parametrize('content', [None, b'', b'garbage'], ids=['missing', 'empty', 'garbage'])
def test_skip_returns_none_and_logs_the_path(tmp_path, log_text, content):
    path = tmp_path / 'bad.jpg'
    if content is not None:
        path.write_bytes(content)
    assert load(path, on_error='skip') is None
    text = log_text()
    assert 'WARNING' in text and 'skipped' in text
    assert str(path) in text


def _folder_with_a_corrupt_image(tmp_path):
    write_image_folder(str(tmp_path), classes=2, per_class=2, size=16)
    root = tmp_path / 'train'
    bad = root / 'class1' / 'corrupt.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n' + b'not really a png' * 8)
    return root, str(bad)


def _custom_dataset(root, on_error, test_mode=False):
    from mmpretrain.datasets import CustomDataset
    return CustomDataset(
        data_root=str(root), test_mode=test_mode,
        pipeline=[dict(type='CheckedLoadImageFromFile', on_error=on_error),
                  dict(type='PackInputs')])


def test_training_dataset_draws_another_sample_for_a_skipped_file(tmp_path, log_text):
    root, bad = _folder_with_a_corrupt_image(tmp_path)
    dataset = _custom_dataset(root, 'skip')
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert len(paths) == 5 and bad in paths
    sample = dataset[paths.index(bad)]
    other = sample['data_samples'].img_path
    assert other != bad and other in paths
    assert tuple(sample['inputs'].shape) == (3, 16, 16)
    expected = cv2.imread(other).transpose(2, 0, 1)  # BGR, as loaded
    assert np.array_equal(sample['inputs'].numpy(), expected)
    label = int(os.path.basename(os.path.dirname(other))[-1])
    assert sample['data_samples'].gt_label.tolist() == [label]
    text = log_text()
    assert 'skipped' in text and bad in text


def test_test_mode_dataset_stops_on_a_skipped_file(tmp_path):
    root, bad = _folder_with_a_corrupt_image(tmp_path)
    dataset = _custom_dataset(root, 'skip', test_mode=True)
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    with pytest.raises(Exception, match='None'):
        dataset[paths.index(bad)]


def test_raise_names_the_file_inside_a_dataset(tmp_path):
    root, bad = _folder_with_a_corrupt_image(tmp_path)
    dataset = _custom_dataset(root, 'raise')
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    good = next(i for i, p in enumerate(paths) if p != bad)
    assert tuple(dataset[good]['inputs'].shape) == (3, 16, 16)
    with pytest.raises(BadImageError) as info:
        dataset[paths.index(bad)]
    assert bad in str(info.value)


# -------------------------------------------------------------------------- arguments


def test_registered_and_refuses_silent_or_unknown_modes():
    transform = TRANSFORMS.build(dict(type='CheckedLoadImageFromFile', on_error='skip'))
    assert isinstance(transform, CheckedLoadImageFromFile)
    assert transform.on_error == 'skip'
    assert "on_error='skip'" in repr(transform)
    with pytest.raises(ValueError, match='ignore_empty'):
        CheckedLoadImageFromFile(ignore_empty=True)
    with pytest.raises(ValueError, match='bogus'):
        CheckedLoadImageFromFile(on_error='bogus')
    CheckedLoadImageFromFile(ignore_empty=False)  # the default value itself is fine
