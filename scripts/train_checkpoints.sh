#!/usr/bin/env bash
# Rebuild the shipped checkpoints from the official MNIST training set: bash scripts/train_checkpoints.sh [VARIANT...]
# DATA_DIR (default: $AEDEMO_DATA_DIR) holds MNIST/raw/*.gz (torchvision's layout); with neither set, the trainer
# looks in its download cache and downloads MNIST there.
set -euo pipefail
DATA_DIR=${DATA_DIR:-${AEDEMO_DATA_DIR:-}}
# Every shipped model, its epochs and the matmul precision it was trained at, in the order a full rebuild trains them:
# the classifier first (the CVAE's evaluation uses it). Those trained before --matmul-precision existed ran at torch's
# default, "highest"; the flag's default is now "medium" (an entry without one). A new variant goes here, as name:epochs,
# and nowhere else in this script.
RUNS=(classifier:8:highest ae:30:highest dae:30:highest sparse:15:highest contractive:15:medium pca:1:highest
      aae:20:highest conv:10:highest vae:40:highest cvae:30:medium)
declare -A EPOCHS PRECISION
for run in "${RUNS[@]}"; do
  IFS=: read -r name epochs precision <<< "$run"
  EPOCHS[$name]=$epochs
  PRECISION[$name]=${precision:-medium}  # the trainer's default: a new variant's entry may leave it out
done
# every name checked before any training: a typo at the end of the list was found after an hour of training, with
# the checkpoints before it already overwritten
for v in "$@"; do
  if [[ -z "${EPOCHS[$v]:-}" ]]; then
    echo "no epochs set for variant '$v' (known: ${!EPOCHS[*]}): add it to RUNS at the top of $0" >&2
    exit 2
  fi
done
# the ones named, in RUNS' order (the classifier before the CVAE it scores), or all of them
variants=()
for run in "${RUNS[@]}"; do
  name=${run%%:*}
  if [[ $# -eq 0 || " $* " == *" $name "* ]]; then variants+=("$name"); fi
done
for v in "${variants[@]}"; do
  python -m aedemo.train --variant "$v" --epochs "${EPOCHS[$v]}" ${DATA_DIR:+--data-dir "$DATA_DIR"} \
    --matmul-precision "${PRECISION[$v]}" --out "checkpoints/$v"
done
python -m aedemo.evaluate
