#!/usr/bin/env bash
# Distributed training through torchrun (mmengine's `--launcher pytorch`).
#   tools/dist_train.sh CONFIG NPROC [train.py args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node. Without CUDA the
# processes use the gloo backend on the CPU. PYTHON selects the interpreter.
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
DIR=$(cd "$(dirname "$0")" && pwd)
# torchrun ends every process when one fails and names the failed rank; a frozen process
# is caught by the collective timeout (env_cfg.dist_cfg.timeout, seconds).
status=0
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "dist_train.sh: training failed (exit status $status); continue from the last" \
        "checkpoint with: $0 $CONFIG $NPROC ${*:3} --resume" >&2
fi
exit "$status"
