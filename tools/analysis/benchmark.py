"""Benchmark backbones and FCMAE steps, contenders interleaved in one process.

    python tools/analysis/benchmark.py --suite fcmae --arch tiny --batch 8
    python tools/analysis/benchmark.py --suite backbone --arch atto tiny --backward
    python tools/analysis/benchmark.py --suite backbone --arch atto tiny --maps
    python tools/analysis/benchmark.py --suite detector segmentor --arch atto tiny
    python tools/analysis/benchmark.py --suite detector --arch base --with-cp --rounds 3
    python tools/analysis/benchmark.py --suite dwconv --arch tiny --ratios 0.6 0.75

Prints a Markdown table (times, images/s, peak memory, ratio to the reference) and writes
JSON with every round's time. Speed is never asserted in tests; this tool is where the
README's numbers come from.
"""
import argparse

import torch

import mmconvnextv2  # noqa: F401
from mmconvnextv2.benchmark import (
    SUITES,
    Result,
    backbone_shares,
    dump_json,
    interleave,
    markdown_table,
    peak_memory_mb,
    summarize,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--suite', nargs='+', default=['backbone', 'fcmae'],
                   choices=sorted(SUITES))
    p.add_argument('--arch', nargs='+', default=['tiny'])
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--rounds', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--ratios', type=float, nargs='+', default=[0.0, 0.6, 0.75])
    p.add_argument('--backends', nargs='+', default=['masked_dense', 'gather'])
    p.add_argument('--backward', action='store_true', help='backbone: forward+backward')
    p.add_argument('--maps', action='store_true',
                   help='backbone: return the four stage maps (detection, segmentation)')
    p.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32',
                   help='bf16 = bfloat16 autocast')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compile', action='store_true',
                   help='backbone: torch.compile them; fcmae: add compiled steps')
    p.add_argument('--with-cp', action='store_true',
                   help='detector, segmentor: add our backbone with gradient checkpointing')
    p.add_argument('--threads', type=int, help='torch.set_num_threads')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--no-memory', action='store_true', help='skip peak-memory measurement')
    p.add_argument('--out', default='work_dirs/benchmark.json')
    args = p.parse_args(argv)
    for flag, on, suites in (('--compile', args.compile, {'backbone', 'fcmae'}),
                             ('--with-cp', args.with_cp, {'detector', 'segmentor'}),
                             ('--maps', args.maps, {'backbone'}),
                             ('--backward', args.backward, {'backbone'})):
        if on and not suites & set(args.suite):
            p.error(f'{flag} applies to --suite {" / ".join(sorted(suites))} only')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = []
    for arch in args.arch:
        for suite in args.suite:
            common = dict(arch=arch, size=args.size, batch=args.batch, device=args.device,
                          dtype=args.dtype)
            if suite == 'backbone':
                common.update(channels_last=args.channels_last, compile=args.compile,
                              backward=args.backward, maps=args.maps)
            elif suite == 'fcmae':
                common.update(ratios=args.ratios, backends=args.backends,
                              compile=args.compile)
            elif suite in ('detector', 'segmentor'):
                common.update(with_cp=args.with_cp)
            elif suite == 'dwconv':
                common.update(ratios=args.ratios)
            cases = SUITES[suite](**common)
            times = interleave({k: c[2] for k, c in cases.items()}, args.rounds, args.warmup,
                               args.device)
            for key, (group, name, step) in cases.items():
                peak = None if args.no_memory else peak_memory_mb(step, args.device)
                results.append(Result(name=name, group=f'{arch} {group}',
                                      median_s=sorted(times[key])[len(times[key]) // 2],
                                      times_s=times[key], batch=args.batch, peak_mb=peak))

    def baseline(r):
        if 'train step' in r.group or 'in-model backbone' in r.group:  # detector, segmentor
            return 'mmpretrain'
        if 'backbone' in r.group:
            return 'timm'
        if 'by decoder' in r.group:
            return 'unet'
        if 'depthwise conv' in r.group:
            return 'dense map'
        return 'masked_dense'

    print(f'device {args.device}, {torch.get_num_threads()} threads, {args.dtype}, '
          f'batch {args.batch}, {args.size}px, channels_last={args.channels_last}, '
          f'compile={args.compile}; time ratio = time / time of '
          f'timm (backbone), masked_dense (fcmae), unet (decoder), mmpretrain (detector, '
          f'segmentor), dense map (dwconv)')
    print(markdown_table(results, baseline))
    summary = summarize(results)
    shares = backbone_shares(results)
    for group, share in shares.items():
        print(f'{group}: mmpretrain backbone {share["backbone_share"]:.0%} of the step; '
              f'our backbone {share["backbone_ratio"]:.2f} of its time, so the step is expected '
              f'at {share["expected_step_ratio"]:.2f}, measured {share["measured_step_ratio"]:.2f}')
    if shares:
        summary['backbone_shares'] = shares
    summary['args'] = vars(args)
    dump_json(summary, args.out)
    print(f'JSON: {args.out}')


if __name__ == '__main__':
    main()
