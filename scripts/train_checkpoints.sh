#!/usr/bin/env bash
# Rebuild the shipped checkpoints from the official MNIST training set: bash scripts/train_checkpoints.sh [VARIANT...]
# DATA_DIR must hold MNIST/raw/*.gz (torchvision's layout). The classifier goes first: the CVAE's evaluation uses it.
set -euo pipefail
DATA_DIR=${DATA_DIR:-../shared/data}
declare -A EPOCHS=([classifier]=8 [ae]=30 [dae]=30 [sparse]=15 [contractive]=15 [conv]=10 [vae]=40 [cvae]=30 [aae]=20 [pca]=1)
variants=("${@:-classifier ae dae sparse contractive pca aae conv vae cvae}")
for v in ${variants[@]}; do
  if [[ -z "${EPOCHS[$v]:-}" ]]; then
    echo "no epochs set for variant '$v': add it to EPOCHS at the top of $0" >&2
    exit 2
  fi
  python -m aedemo.train --variant "$v" --epochs "${EPOCHS[$v]}" --data-dir "$DATA_DIR" --out "checkpoints/$v"
done
python -m aedemo.evaluate
