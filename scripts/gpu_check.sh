#!/usr/bin/env bash
# On a machine with a CUDA GPU: the GPU tests, then the GPU figures README quotes (training speed against
# pytorch/examples' loop, seconds per epoch of every variant, the Train tab's first run).
#   bash scripts/gpu_check.sh [DATA_DIR]      # DATA_DIR holds MNIST/raw/*.gz (default ../shared/data)
# Each part's output also goes to $LOGS/ (default: a temporary folder).
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
logs=${LOGS:-$(mktemp -d)}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tee "$logs/pytest.log" | tail -30
timeout 240 python3 benchmarks/train_speed.py --device cuda --data-dir "$data" --repeats 3 2>&1 | tee "$logs/speed.log"
timeout 300 python3 benchmarks/train_epochs.py --device cuda --data-dir "$data" 2>&1 | tee "$logs/epochs.log"
