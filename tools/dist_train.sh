#!/usr/bin/env bash
# Distributed training through torchrun (mmengine's `--launcher pytorch`).
#   tools/dist_train.sh CONFIG NPROC [train.py args]
# One machine: torchrun's --standalone rendezvous on a free port, so several runs can share a
# machine; set PORT to use a fixed port instead. Multi-node: set NNODES, NODE_RANK,
# MASTER_ADDR and PORT on every node. Without CUDA the processes use the gloo backend on the
# CPU. PYTHON selects the interpreter.
set -euo pipefail
CONFIG=$1
NPROC=$2
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/dist_launch.sh
source "$DIR/dist_launch.sh"
# torchrun ends every process when one fails and names the failed rank; a frozen process
# is caught by the collective timeout (env_cfg.dist_cfg.timeout, seconds).
status=0
torchrun_ "$NPROC" "$DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "dist_train.sh: training failed (exit status $status); continue from the last" \
        "checkpoint with: $0 $CONFIG $NPROC ${*:3} --resume" >&2
fi
exit "$status"
