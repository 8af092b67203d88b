#!/usr/bin/env bash
# Rebuild the shipped checkpoints from the official MNIST training set: bash scripts/train_checkpoints.sh [VARIANT...]
# DATA_DIR must hold MNIST/raw/*.gz (torchvision's layout).
set -euo pipefail
DATA_DIR=${DATA_DIR:-../shared/data}
# Every shipped model and its epochs, in the order a full rebuild trains them: the classifier first (the CVAE's
# evaluation uses it). A new variant goes here, and nowhere else in this script.
RUNS=(classifier:8 ae:30 dae:30 sparse:15 contractive:15 pca:1 aae:20 conv:10 vae:40 cvae:30)
declare -A EPOCHS
for run in "${RUNS[@]}"; do EPOCHS[${run%%:*}]=${run#*:}; done
variants=("$@")
if [[ ${#variants[@]} -eq 0 ]]; then
  for run in "${RUNS[@]}"; do variants+=("${run%%:*}"); done
fi
for v in "${variants[@]}"; do
  if [[ -z "${EPOCHS[$v]:-}" ]]; then
    echo "no epochs set for variant '$v': add it to RUNS at the top of $0" >&2
    exit 2
  fi
  python -m aedemo.train --variant "$v" --epochs "${EPOCHS[$v]}" --data-dir "$DATA_DIR" --out "checkpoints/$v"
done
python -m aedemo.evaluate
