#!/usr/bin/env bash
# Build (once) and install mmcv 2.1.0 with its compiled ops into the given Python environment.
#
#   tools/install/build_mmcv.sh PYTHON [CACHE_DIR]
#
# Why each step is there:
# * mmdet 3.3.0 and mmsegmentation 1.2.2 accept mmcv >=2.0.0rc4,<2.2.0, and mmcv 2.1.0 ships only
#   as an sdist on PyPI for our torch, so it is compiled here (about 18 minutes on 2 cores).
# * Its setup.py imports `pkg_resources`, which setuptools >= 81 no longer has, while torch 2.14's
#   cpp_extension wants setuptools >= 77: build with 77 <= setuptools < 81, without build isolation
#   (an isolated build would not see our torch, and the ops must be compiled against it).
# * Its setup.py hard-codes `-std=c++14` / `-std=c++17` for the `cxx` and `nvcc` flags; torch 2.14's
#   headers stop with "C++20 or later compatible compiler is required". The copy we build is
#   patched to C++20 for both, so a CUDA build (FORCE_CUDA=1) works as well as the CPU one.
# * MMCV_WITH_OPS=1 compiles `mmcv._ext` (RoIAlign, nms, ...): Mask R-CNN needs them.
# * The wheel is cached under CACHE_DIR keyed by mmcv, torch, Python and CUDA versions, so a
#   re-install takes seconds; delete the folder to force a rebuild.
set -euo pipefail

PY=$(command -v "${1:?usage: build_mmcv.sh PYTHON [CACHE_DIR]}")
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
CACHE=${2:-${MMCV_WHEEL_CACHE:-$HOME/.cache/mmconvnextv2/wheels}}
MMCV_VERSION=2.1.0

if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  echo "mmcv $MMCV_VERSION with ops is already installed"
  exit 0
fi

key=$("$PY" -c "import sys, torch; print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.split(\"+\")[0]}-' + ('cu' + torch.version.cuda if torch.version.cuda and '${FORCE_CUDA:-0}' == '1' else 'cpu'))")
dest="$CACHE/mmcv-$MMCV_VERSION-$key"
wheel=$(ls "$dest"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)

if [ -z "$wheel" ]; then
  echo "building mmcv $MMCV_VERSION for $key (no cached wheel in $dest); this takes ~20 minutes"
  "$PY" -m pip install -q "setuptools>=77,<81" wheel ninja psutil
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  src="$work/mmcv-$MMCV_VERSION"
  sed -i -e 's/-std=c++1[47]/-std=c++20/g' -e 's#/std:c++1[47]#/std:c++20#g' "$src/setup.py"
  grep -q 'c++20' "$src/setup.py" || { echo "patching mmcv's setup.py for C++20 failed" >&2; exit 1; }
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
     "$PY" setup.py -q bdist_wheel -d "$work/dist")
  mkdir -p "$dest"
  cp "$work"/dist/mmcv-"$MMCV_VERSION"-*.whl "$dest"/
  wheel=$(ls "$dest"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
fi

"$PY" -m pip install -q --no-deps --force-reinstall "$wheel"
"$PY" -c "from mmcv.ops import RoIAlign, nms; print('mmcv', '$MMCV_VERSION', 'ops OK')"
