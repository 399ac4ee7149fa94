"""Print a config after inheritance and --cfg-options, as tools/train.py would run it.

    python tools/analysis/print_config.py CONFIG [--cfg-options key=value ...]
"""
import argparse

from mmengine.config import DictAction

from mmconvnextv2.apis import load_config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    print(load_config(args.config, cfg_options=args.cfg_options).pretty_text)


if __name__ == '__main__':
    main()
