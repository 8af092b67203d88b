#!/usr/bin/env bash
# Rebuild the shipped checkpoints from the official MNIST training set: bash scripts/train_checkpoints.sh [VARIANT...]
# DATA_DIR must hold MNIST/raw/*.gz (torchvision's layout).
set -euo pipefail
DATA_DIR=${DATA_DIR:-../shared/data}
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
variants=("$@")
if [[ ${#variants[@]} -eq 0 ]]; then
  for run in "${RUNS[@]}"; do variants+=("${run%%:*}"); done
fi
for v in "${variants[@]}"; do
  if [[ -z "${EPOCHS[$v]:-}" ]]; then
    echo "no epochs set for variant '$v': add it to RUNS at the top of $0" >&2
    exit 2
  fi
  python -m aedemo.train --variant "$v" --epochs "${EPOCHS[$v]}" --data-dir "$DATA_DIR" \
    --matmul-precision "${PRECISION[$v]}" --out "checkpoints/$v"
done
python -m aedemo.evaluate
