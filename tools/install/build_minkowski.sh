#!/usr/bin/env bash
# Build (once) and install MinkowskiEngine 0.5.4, CPU-only, for sparse_backend='minkowski'.
#
#   tools/install/build_minkowski.sh PYTHON [CACHE_DIR]
#
# MinkowskiEngine 0.5.4 (the last release, 2021) is an sdist that no longer builds as shipped.
# The three repairs, and why:
# 1. BLAS headers: Debian's libopenblas-dev (installed with apt-get when missing).
# 2. Its setup.py finds BLAS through numpy.distutils, which NumPy 2 removed; we name BLAS and the
#    openblas-pthread include folder ourselves: --blas=openblas --blas_include_dirs=DIR.
# 3. Five modules do `from collections import Sequence`, removed in Python 3.10; they are
#    patched to import it from collections.abc.
# --cpu_only: this machine has no CUDA toolkit build of it; a GPU user drops the flag.
# The wheel is cached under CACHE_DIR (keyed by Python and torch), so a re-install is quick.
set -euo pipefail

PY=$(command -v "${1:?usage: build_minkowski.sh PYTHON [CACHE_DIR]}")
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
CACHE=${2:-${MMCV_WHEEL_CACHE:-$HOME/.cache/mmconvnextv2/wheels}}
VERSION=0.5.4
URL=https://files.pythonhosted.org/packages/21/5c/c543c4bc5fbe73ac3e38465b3da4f24a61f7a4ac5baec867e582e94aa551/MinkowskiEngine-$VERSION.tar.gz
SHA256=b1879c00d0b0b1d30ba622cce239886a7e3c78ee9da1064cdfe2f64c2ab15f94

if "$PY" -c "import MinkowskiEngine as ME; assert ME.__version__ == '$VERSION'" 2>/dev/null; then
  echo "MinkowskiEngine $VERSION is already installed"
  exit 0
fi

if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev
fi
blas_include=$(dirname "$(find /usr/include -name cblas.h -path '*openblas-pthread*' | head -n 1)")
[ -d "$blas_include" ] || { echo "no openblas-pthread cblas.h under /usr/include" >&2; exit 1; }

key=$("$PY" -c "import sys, torch; print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.split(\"+\")[0]}-cpu')")
dest="$CACHE/MinkowskiEngine-$VERSION-$key"
wheel=$(ls "$dest"/*.whl 2>/dev/null | head -n 1 || true)

if [ -z "$wheel" ]; then
  echo "building MinkowskiEngine $VERSION for $key; this takes about 10 minutes"
  "$PY" -m pip install -q -c "$(dirname "$0")/../../constraints.txt" "setuptools>=77,<81" wheel ninja
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl -sSL --retry 3 -o "$work/me.tar.gz" "$URL"
  echo "$SHA256  $work/me.tar.gz" | sha256sum -c --quiet
  tar -xzf "$work/me.tar.gz" -C "$work"
  src="$work/MinkowskiEngine-$VERSION"
  grep -rl '^from collections import Sequence' "$src/MinkowskiEngine" | xargs sed -i \
    -e 's/^from collections import Sequence, namedtuple$/from collections import namedtuple\nfrom collections.abc import Sequence/' \
    -e 's/^from collections import Sequence$/from collections.abc import Sequence/'
  ! grep -rq '^from collections import Sequence' "$src/MinkowskiEngine" || {
    echo "patching collections.Sequence failed" >&2; exit 1; }
  (cd "$src" && MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" setup.py -q bdist_wheel -d "$work/dist" \
     --cpu_only --blas=openblas --blas_include_dirs="$blas_include")
  mkdir -p "$dest"
  cp "$work"/dist/*.whl "$dest"/  # setuptools names it minkowskiengine-...
  wheel=$(ls "$dest"/*.whl | head -n 1)
fi

"$PY" -m pip install -q --no-deps --force-reinstall "$wheel"
"$PY" -c "import MinkowskiEngine as ME; print('MinkowskiEngine', ME.__version__, 'OK')"
