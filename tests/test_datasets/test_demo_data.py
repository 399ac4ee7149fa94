"""The demo data generator is deterministic in its seed."""
import filecmp
import os

from mmconvnextv2.datasets import make_demo_data


def files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, names in os.walk(root) for f in names)


def test_same_seed_same_files_other_seed_other_images(tmp_path):
    a = tmp_path / 'a'
    b = tmp_path / 'b'
    c = tmp_path / 'c'
    for root, seed in ((a, 0), (b, 0), (c, 1)):
        make_demo_data(str(root), num_train=6, num_val=2, size=64, seed=seed)
    names = files(a)
    assert names == files(b) and len(names) > 20
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors
    shared = sorted(set(names) & set(files(c)))
    _, mismatch, _ = filecmp.cmpfiles(a, c, shared, shallow=False)
    assert mismatch, 'a different seed must give different data'
