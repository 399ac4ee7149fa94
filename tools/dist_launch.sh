# Sourced by dist_train.sh and dist_test.sh: `torchrun_ NPROC SCRIPT [ARGS...]`.
# A single node without PORT gets torchrun's --standalone rendezvous (a free port and a run
# id of its own: two jobs on one machine never meet); otherwise the static rendezvous at
# MASTER_ADDR:PORT (default 127.0.0.1:29500), as in OpenMMLab's scripts.
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}

torchrun_() {
    local nproc=$1
    shift
    local rendezvous
    if [ "$NNODES" -eq 1 ] && [ -z "${PORT:-}" ]; then
        rendezvous=(--standalone)
    else
        rendezvous=(--nnodes="$NNODES" --node_rank="$NODE_RANK"
                    --master_addr="$MASTER_ADDR" --master_port="${PORT:-29500}")
    fi
    PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON" -m torch.distributed.run "${rendezvous[@]}" --nproc_per_node="$nproc" "$@"
}
