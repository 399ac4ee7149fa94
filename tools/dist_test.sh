#!/usr/bin/env bash
# Distributed evaluation through torchrun.
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# Ports and nodes as in dist_train.sh (PORT, NNODES, NODE_RANK, MASTER_ADDR, PYTHON).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/dist_launch.sh
source "$DIR/dist_launch.sh"
torchrun_ "$NPROC" "$DIR/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
