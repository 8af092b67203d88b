#!/usr/bin/env bash
# On a machine with a CUDA GPU: the GPU tests, then the GPU figures README quotes (training speed against
# pytorch/examples' loop, seconds per epoch of every variant, the Train tab's first run).
#   bash scripts/gpu_check.sh [DATA_DIR]      # DATA_DIR holds MNIST/raw/*.gz (default: $AEDEMO_DATA_DIR)
# Each part's output also goes to $LOGS/ (default: a temporary folder). Every part runs; the exit status is 1 when
# any failed (it was the last part's alone: failing GPU tests ended in 0).
set -uo pipefail
data=${1:-${AEDEMO_DATA_DIR:-}}
data=${data:+$(realpath "$data")}  # as given from where the script was called, before the cd below
cd "$(dirname "$0")/.."
logs=${LOGS:-$(mktemp -d)}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
data_args=(${data:+--data-dir "$data"})
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || status=1
python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)" || status=1
python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tee "$logs/pytest.log" | tail -30 || status=1
timeout 240 python3 benchmarks/train_speed.py --device cuda "${data_args[@]}" --repeats 3 2>&1 | tee "$logs/speed.log" \
  || status=1
timeout 300 python3 benchmarks/train_epochs.py --device cuda "${data_args[@]}" 2>&1 | tee "$logs/epochs.log" || status=1
exit $status
