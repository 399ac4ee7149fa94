#!/usr/bin/env bash
# Build (once) and install mmcv 2.1.0 with its compiled ops into the given Python environment.
#
#   tools/install/build_mmcv.sh PYTHON [CACHE_DIR]
#
# Why each step is there:
# * mmdet 3.3.0 and mmsegmentation 1.2.2 accept mmcv >=2.0.0rc4,<2.2.0, and mmcv 2.1.0 ships only
#   as an sdist on PyPI for our torch, so it is compiled here (all its ops: ~15-18 min on 2 cores).
# * Its setup.py imports `pkg_resources`, which setuptools >= 81 no longer has, while torch 2.14's
#   cpp_extension wants setuptools >= 77: build with 77 <= setuptools < 81, without build isolation
#   (an isolated build would not see our torch, and the ops must be compiled against it).
# * Its setup.py hard-codes `-std=c++14` / `-std=c++17` for the `cxx` and `nvcc` flags; torch 2.14's
#   headers stop with "C++20 or later compatible compiler is required". The copy we build is
#   patched to C++20 for both, so a CUDA build (FORCE_CUDA=1) works as well as the CPU one.
# * MMCV_WITH_OPS=1 compiles `mmcv._ext` (RoIAlign, nms, ...): Mask R-CNN needs them. All of
#   mmcv's 56 op files take ~15 minutes on 2 cores; we use three, so by default only the ones in
#   tools/install/mmcv_ops.txt are compiled (1.5-4 min): the other source files are deleted
#   from the copy we build, their m.def entries from pybind.cpp, and mmcv's ext_loader.load_ext is
#   patched so that an op that was not compiled still imports (mmcv.ops imports them all) but
#   raises "mmcv op <name> was not compiled ...; rebuild with MMCV_OPS=all" when called.
#   MMCV_OPS=all builds every op (the unpatched mmcv); MMCV_OPS="nms roi_align info ..." the ones
#   named (names of mmcv/ops/csrc/pytorch/*.cpp). The slimming applies to the CPU-only build only:
#   with CUDA (FORCE_CUDA=1 or a visible GPU; also ROCm, MLU, MPS, NPU, DIOPI) mmcv's
#   cuda/cudabind.cpp registers kernels for every op, so every op is built.
# * The wheel is cached under CACHE_DIR keyed by mmcv, torch, Python and CUDA versions and, for a
#   slim build, a hash of the op list ("-ops-<hash>"), so a re-install takes seconds; delete the
#   folder to force a rebuild.
set -euo pipefail

PY=$(command -v "${1:?usage: build_mmcv.sh PYTHON [CACHE_DIR]}")
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
CACHE=${2:-${MMCV_WHEEL_CACHE:-$HOME/.cache/mmconvnextv2/wheels}}
MMCV_VERSION=2.1.0
OPS_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mmcv_ops.txt"

# the ops to compile: "all", or a sorted list of names
if [ "${MMCV_OPS:-}" = all ]; then
  ops=all
elif [ -n "${MMCV_OPS:-}" ]; then
  ops=$(echo "$MMCV_OPS" | tr ', ' '\n\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
else
  ops=$(sed -e 's/#.*//' "$OPS_FILE" | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
fi
ops=${ops% }
[ -n "$ops" ] || { echo "no mmcv ops to build (MMCV_OPS, $OPS_FILE)" >&2; exit 1; }

# mmcv's setup.py takes its CPU-only branch only without any accelerator (same tests as setup.py)
cpu_only=$("$PY" -c "
import os, torch
e = lambda k: os.getenv(k, '0') == '1'
try:
    from torch.utils.cpp_extension import ROCM_HOME
except ImportError:
    ROCM_HOME = None
mps = getattr(torch.backends, 'mps', None)
accel = (e('MMCV_WITH_DIOPI') or (torch.version.hip is not None and ROCM_HOME is not None)
         or torch.cuda.is_available() or e('FORCE_CUDA')
         or (hasattr(torch, 'is_mlu_available') and torch.is_mlu_available()) or e('FORCE_MLU')
         or (mps is not None and mps.is_available()) or e('FORCE_MPS') or e('FORCE_NPU'))
print(0 if accel else 1)")
if [ "$ops" != all ] && [ "$cpu_only" != 1 ]; then
  echo "build_mmcv.sh: building mmcv with an accelerator backend: compiling all its ops (the op list applies to CPU-only builds)"
  ops=all
fi

# already there? A full mmcv has every op; a slim one says which it has.
if "$PY" -c "
import mmcv, mmcv.ops
from mmcv.utils import ext_loader
assert mmcv.__version__ == '$MMCV_VERSION'
have = getattr(ext_loader, 'MMCV_COMPILED_OPS', None)
assert have is None or ('$ops' != 'all' and set('$ops'.split()) <= set(have))
" 2>/dev/null; then
  echo "mmcv $MMCV_VERSION with ops ($ops) is already installed"
  exit 0
fi

key=$("$PY" -c "import sys, torch; print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.split(\"+\")[0]}-' + ('cu' + torch.version.cuda if torch.version.cuda and '${FORCE_CUDA:-0}' == '1' else 'cpu'))")
if [ "$ops" != all ]; then
  # the slim wheel has its own key: the op list, and the version of the slimming below
  key="$key-ops-$(echo "slim-v1 $ops" | sha256sum | cut -c1-10)"
fi
dest="$CACHE/mmcv-$MMCV_VERSION-$key"
wheel=$(ls "$dest"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)

if [ -z "$wheel" ]; then
  echo "building mmcv $MMCV_VERSION for $key (no cached wheel in $dest); this takes" \
    "$([ "$ops" = all ] && echo '~15-20 minutes' || echo 'a few minutes')"
  "$PY" -m pip install -q "setuptools>=77,<81" wheel ninja psutil
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  src="$work/mmcv-$MMCV_VERSION"
  sed -i -e 's/-std=c++1[47]/-std=c++20/g' -e 's#/std:c++1[47]#/std:c++20#g' "$src/setup.py"
  grep -q 'c++20' "$src/setup.py" || { echo "patching mmcv's setup.py for C++20 failed" >&2; exit 1; }
  if [ "$ops" != all ]; then
    # shellcheck disable=SC2086
    "$PY" - "$src" $ops <<'SLIM'
# Slim the unpacked mmcv sdist at argv[1] down to the ops named in argv[2:].
import glob, os, re, sys

src, keep = sys.argv[1], set(sys.argv[2:])
pt = os.path.join(src, 'mmcv', 'ops', 'csrc', 'pytorch')


def fail(msg):
    sys.exit(f'build_mmcv.sh: slimming mmcv failed: {msg}')


def read(p):
    with open(p) as f:
        return f.read()


def strip_comments(text):
    return re.sub(r'//[^\n]*|/\*.*?\*/', '', text, flags=re.S)


ops = {os.path.basename(p)[:-4]: p for p in glob.glob(os.path.join(pt, '*.cpp'))}
ops.pop('pybind', None) or fail('no pybind.cpp in ' + pt)
unknown = keep - set(ops)
if unknown:
    fail(f'unknown op(s) {sorted(unknown)}; known: {sorted(ops)}')

# 1. pytorch/<op>.cpp: the op's entry points and its DISPATCH_DEVICE_IMPL keys
text = {op: strip_comments(read(p)) for op, p in ops.items()}
dispatch = {k: op for op, t in text.items()
            for k in re.findall(r'DISPATCH_DEVICE_IMPL\(\s*(\w+)', t)}

# 2. cpu/*.cpp: an op's CPU kernels, found by the keys they register (or by name)
SPCONV = {'spconv_ops', 'sparse_pool_ops', 'fused_spconv_ops'}
owners_of = {p: {op} for op, p in ops.items()}   # source file -> the op(s) it belongs to
for p in sorted(glob.glob(os.path.join(pt, 'cpu', '*.cpp'))):
    name = os.path.basename(p)[:-4]
    keys = set(re.findall(r'REGISTER_DEVICE_IMPL\(\s*(\w+)', strip_comments(read(p))))
    if keys:
        owners = {dispatch.get(k) for k in keys}
        if None in owners or len(owners) != 1:
            fail(f'cannot tell which op cpu/{name}.cpp belongs to (keys {sorted(keys)})')
    elif re.sub('_cpu$', '', name) in ops:
        owners = {re.sub('_cpu$', '', name)}
    elif name.startswith('sparse_'):
        owners = SPCONV
    else:
        fail(f'cannot tell which op cpu/{name}.cpp belongs to')
    owners_of[p] = owners
drop_files = [p for p, owners in owners_of.items() if not owners & keep]

# 3. pybind.cpp: drop the m.def of every function defined in a dropped op's file
def defines(t, fn):
    return re.search(r'(?m)^[A-Za-z_][^;{}()#]*\b' + fn + r'\s*\([^;{}]*\)\s*\{', t)

sources = {p: strip_comments(read(p)) for p in owners_of}
pybind_path = os.path.join(pt, 'pybind.cpp')
pybind = read(pybind_path)
m = re.search(r'PYBIND11_MODULE\(TORCH_EXTENSION_NAME, m\) \{\n', pybind)
if not m or not pybind.rstrip().endswith('}'):
    fail('pybind.cpp does not have the expected PYBIND11_MODULE block')
head, body = pybind[:m.end()], pybind[m.end():pybind.rstrip().rfind('}')]
stmts, start, depth, in_str, i = [], 0, 0, False, 0
while i < len(body):          # split into statements at top-level ';' (strings aware)
    c = body[i]
    if in_str:
        if c == '\\':
            i += 1
        elif c == '"':
            in_str = False
    elif c == '"':
        in_str = True
    elif c in '([{':
        depth += 1
    elif c in ')]}':
        depth -= 1
    elif c == ';' and depth == 0:
        stmts.append(body[start:i + 1])
        start = i + 1
    i += 1
if body[start:].strip():
    fail('could not split the PYBIND11_MODULE block into statements')
kept_stmts, dropped_defs = [], []
for s in stmts:
    d = re.match(r'\s*m\.def\(\s*"(\w+)"\s*,\s*&\s*(\w+)', s)
    if not d:
        fail(f'unexpected statement in PYBIND11_MODULE: {s.strip()[:80]}')
    where = [p for p in owners_of if defines(sources[p], d.group(2))]
    if len(where) != 1:
        fail(f'{d.group(2)} (m.def "{d.group(1)}") is defined in {where or "no op file"}')
    if owners_of[where[0]] & keep:
        kept_stmts.append(s)
    else:
        dropped_defs.append(d.group(1))
if not kept_stmts:
    fail('no m.def left in pybind.cpp')
with open(pybind_path, 'w') as f:
    f.write(head + ''.join(kept_stmts) + '\n}\n')
for p in drop_files:
    os.remove(p)
print(f'mmcv ops kept: {" ".join(sorted(keep))}; {len(drop_files)} source files and '
      f'{len(dropped_defs)} of {len(stmts)} functions dropped')

# 4. ext_loader.load_ext: a function that was not compiled becomes a stub that says so
loader_path = os.path.join(src, 'mmcv', 'utils', 'ext_loader.py')
loader = read(loader_path)
old = """    def load_ext(name, funcs):
        ext = importlib.import_module('mmcv.' + name)
        for fun in funcs:
            assert hasattr(ext, fun), f'{fun} miss in module {name}'
        return ext
"""
new = f"""    # patched by tools/install/build_mmcv.sh: only these ops were compiled into mmcv._ext
    MMCV_COMPILED_OPS = {tuple(sorted(keep))!r}

    def _not_compiled(fun):

        def stub(*args, **kwargs):
            raise RuntimeError(
                f'mmcv op {{fun}} was not compiled by tools/install/build_mmcv.sh; '
                'rebuild with MMCV_OPS=all')

        stub.__name__ = stub.__qualname__ = fun
        return stub

    def load_ext(name, funcs):
        ext = importlib.import_module('mmcv.' + name)
        for fun in funcs:
            if not hasattr(ext, fun):
                setattr(ext, fun, _not_compiled(fun))
        return ext
"""
if loader.count(old) != 1:
    fail('mmcv/utils/ext_loader.py does not have the expected load_ext')
with open(loader_path, 'w') as f:
    f.write(loader.replace(old, new))
SLIM
  fi
  echo "compiling mmcv ops: $ops"
  # a slim build also drops the debug info (-g0 after Python's -g): half the compile time of
  # some files, a 5x smaller wheel
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
     CFLAGS="${CFLAGS:-}$([ "$ops" = all ] || echo ' -g0')" \
     "$PY" setup.py -q bdist_wheel -d "$work/dist")
  built=$(ls "$work"/dist/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
  wheel=$built
fi

"$PY" -m pip install -q --no-deps --force-reinstall "$wheel"
# loads mmcv._ext (an op left half-removed would fail here with an undefined symbol) and runs them
"$PY" -c "
import torch, mmcv._ext
from mmcv.ops import RoIAlign, nms
from mmcv.utils import ext_loader
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
RoIAlign(2, 1.0)(torch.rand(1, 1, 8, 8), torch.tensor([[0., 0., 0., 4., 4.]]))
print('mmcv $MMCV_VERSION ops OK; compiled:', ' '.join(getattr(ext_loader, 'MMCV_COMPILED_OPS', None) or ['all']))
"
if [ -n "${built:-}" ]; then   # cache the wheel only once it has passed the check above
  mkdir -p "$dest"
  cp "$built" "$dest"/
fi
