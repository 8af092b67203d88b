"""The autoencoder playground: `python app.py`, then open http://127.0.0.1:7860 (a Hugging Face Space runs this).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself) and AEDEMO_HUB_REPO (load the models
from that Hub repo instead of checkpoints/).
"""

import os
import sys

# Handlers run one digit at a time in Gradio's worker threads: one core each beats two OpenMP threads waiting on
# each other (a thread team per worker, spinning whenever another request or a training run holds a core). It
# must be set before torch loads; the Train tab sets its own thread count for its run.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Gradio imports IPython, when it is installed, for notebook magics a script never uses: ~0.4 s of start-up.
# Every such import in Gradio (and tqdm) is guarded by `except ImportError`, which this raises. Inside IPython or
# Jupyter it is already loaded, and this changes nothing.
if "IPython" not in sys.modules:
    sys.modules["IPython"] = None

from aedemo.space import build_demo, launch_kwargs  # noqa: E402

demo = build_demo()

if __name__ == "__main__":
    demo.launch(prevent_thread_lock=True, **launch_kwargs())
    # the test-set statistics the tabs compare against: computed once the server is up, not by the first visitor
    demo.store.warm_up()
    demo.block_thread()
