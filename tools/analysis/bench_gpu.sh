#!/usr/bin/env bash
# The GPU benchmark behind the README's GPU table, as one script (about 13 minutes):
#   [WHEELS=.whl] [OUT=work_dirs/bench_gpu] tools/analysis/bench_gpu.sh
# On a machine without the OpenMMLab packages, WHEELS holds pure-Python wheels of mmengine,
# mmcv-lite, mmpretrain and their missing needs (the backbone, FCMAE and this benchmark never
# import mmcv's compiled ops).
set -u
OUT=${OUT:-work_dirs/bench_gpu}
mkdir -p "$OUT"
if [ -d "${WHEELS:-.whl}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "${WHEELS:-.whl}"/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee $OUT/gpu.txt
python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)" | tee -a $OUT/gpu.txt
python3 -c "import mmconvnextv2, mmpretrain; print('imports OK')" 2>&1 | tail -3 | tee -a $OUT/gpu.txt
B=tools/analysis/benchmark.py
run() { echo "### $*" | tee -a $OUT/log.txt; timeout "$1" python3 $B "${@:2}" 2>&1 | grep -v Warning | tee -a $OUT/log.txt | grep -E "^\||device|Error|error" ; }
run 90 --suite backbone --arch tiny --batch 256 --dtype bf16 --channels-last --rounds 20 --warmup 5 --no-memory --out $OUT/bb_tiny_bf16_cl.json
run 50 --suite backbone --arch tiny --batch 256 --dtype fp32 --rounds 10 --warmup 3 --no-memory --out $OUT/bb_tiny_fp32.json
run 80 --suite backbone --arch tiny --batch 128 --dtype bf16 --channels-last --backward --rounds 10 --warmup 3 --no-memory --out $OUT/bb_tiny_bf16_bwd.json
run 120 --suite fcmae --arch tiny --batch 64 --dtype bf16 --rounds 10 --warmup 3 --out $OUT/fcmae_tiny_bf16.json
run 240 --suite fcmae --arch tiny --batch 64 --dtype bf16 --ratios 0.6 0.75 --compile --rounds 10 --warmup 3 --no-memory --out $OUT/fcmae_tiny_bf16_compile.json
echo "### profile" | tee -a $OUT/log.txt
timeout 90 python3 tools/analysis/profile_fcmae.py --arch tiny --batch 64 --dtype bf16 --ratio 0.6 --out $OUT/profile_fcmae_tiny_bf16.json 2>&1 | grep -E "^\||FCMAE|rror" | tee -a $OUT/log.txt
run 50 --suite decoder --arch tiny --batch 64 --dtype bf16 --rounds 10 --warmup 3 --no-memory --out $OUT/decoder_tiny_bf16.json
run 150 --suite backbone --arch tiny --batch 256 --dtype bf16 --channels-last --compile --rounds 20 --warmup 5 --no-memory --out $OUT/bb_tiny_bf16_cl_compile.json
exit 0
