#!/usr/bin/env bash
# Trains the two class-agnostic designs of issue 36 side by side on a GPU machine, on from the
# committed network: the network alone, and the network with the random walker's probability as an
# input channel (--walker-channel). Each run writes a resumable checkpoint; the checkpoints come back
# split into parts of at most 14 MiB (the device tool returns files of at most 16 MiB); join them
# with `cat any-alone.pt.part* > any-alone.pt`.
#
# usage (repository root): Training/device_train.sh OUT_DIR [MINUTES] [BATCH] [DEVICE] [INIT] [DESIGNS]
#   data/real-slices (pseudo_targets.py) and data/device/phantoms.npz (pack_volumes.py) must exist;
#   INIT (from Training/) is the exported network both start from (../Models/sim-any.safetensors),
#   DESIGNS which of "alone walker" to train.
set -euo pipefail
out=$1
minutes=${2:-8}
batch=${3:-32}
device=${4:-cuda}
init=${5:-../Models/sim-any.safetensors}
designs=${6:-alone walker}
steps=$(cd Training && python3 -c "import json,safetensors;print(json.loads(safetensors.safe_open('$init','pt').metadata()['delineate'])['trainingSteps'])")
budget=$((steps + 1500))
mkdir -p "$out" /tmp/device-checkpoints
cd Training
common=(--data ../data/device/phantoms.npz --variant any --init "$init"
    --focus ../data/real-slices --memory-depth 6 --minutes "$minutes" --max-steps "$budget" --lr 5e-4
    --final-lr 5e-5 --hold-out 0.3 --single-click-share 0.5 --state-reset 0.3 --probability-dropout 0.3
    --dice-weight 1 --batch "$batch" --threads 4 --device "$device")
pids=()
for design in $designs; do
    extra=()
    [ "$design" = walker ] && extra=(--walker-channel --seed 8)
    PYTHONUNBUFFERED=1 python3 train_sim.py "${common[@]}" "${extra[@]}" --out "/tmp/device-checkpoints/any-$design.pt" \
        >"$out/$design.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
for design in $designs; do tail -n 3 "$out/$design.log"; done
for name in any-alone any-walker; do
    if [ -f "/tmp/device-checkpoints/$name.pt" ]; then
        split -b 14M -d "/tmp/device-checkpoints/$name.pt" "$out/$name.pt.part"
    fi
done
exit $status
