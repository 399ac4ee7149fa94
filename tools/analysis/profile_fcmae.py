"""Where an FCMAE training step's time goes, by kind of work, per sparse backend.

    python tools/analysis/profile_fcmae.py --arch tiny --batch 8 --ratio 0.6
    python tools/analysis/profile_fcmae.py --arch tiny --batch 64 --device cuda --dtype bf16

Prints a Markdown table (ms per step of each kind, forward and backward, and its share of
the step) and writes it with the raw numbers as JSON. The profiler adds overhead of its own:
read the shares, and take step times from ``tools/analysis/benchmark.py``.
"""
import argparse

import torch

import mmconvnextv2  # noqa: F401
from mmconvnextv2.benchmark import dump_json
from mmconvnextv2.benchmark.cases import build_fcmae, train_step
from mmconvnextv2.benchmark.profile import profile_step, profile_table
from mmconvnextv2.models import random_patch_mask
from mmconvnextv2.models.sparse import GatherBackend, MaskedDenseBackend


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--arch', default='tiny')
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--ratio', type=float, default=0.6, help='mask ratio')
    p.add_argument('--backends', nargs='+', default=['masked_dense', 'gather'])
    p.add_argument('--steps', type=int, default=3, help='profiled steps (mean)')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32')
    p.add_argument('--threads', type=int, help='torch.set_num_threads')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', default='work_dirs/profile_fcmae.json')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    imgs = torch.randn(args.batch, 3, args.size, args.size, generator=g).to(args.device)
    grid = args.size // 32
    mask = random_patch_mask(args.batch, grid, grid, args.ratio, generator=g).to(args.device)
    profiles = {}
    for backend in args.backends:
        torch.manual_seed(0)
        model = build_fcmae(args.arch, backend).to(args.device)
        step = train_step(model, imgs, mask, mask, args.device, args.dtype)
        profiles[backend] = profile_step(step, model, args.steps, args.warmup, args.device,
                                         (GatherBackend, MaskedDenseBackend))
    header = (f'FCMAE training step, {args.arch}, batch {args.batch}, {args.size} px, mask '
              f'{args.ratio}, {args.device} {args.dtype}, {torch.get_num_threads()} threads; '
              f'self time per kind, forward / backward (ms per step)')
    table = profile_table(profiles)
    print(header + '\n\n' + table)
    dump_json(dict(args=vars(args), header=header, table=table, profiles=profiles), args.out)
    print(f'JSON: {args.out}')


if __name__ == '__main__':
    main()
