"""The autoencoder playground: `python app.py`, then open http://127.0.0.1:7860 (a Hugging Face Space runs this).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself) and AEDEMO_HUB_REPO (load the models
from that Hub repo instead of checkpoints/).
"""

import importlib.abc
import importlib.machinery
import os
import signal
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


class _NoStubRewrite(importlib.abc.MetaPathFinder):
    """Load gradio.component_meta with its create_or_modify_pyi made a no-op.

    On every import Gradio re-derives the .pyi stub of each of its ~80 component classes (parsing their source,
    rendering templates) and rewrites the file if it differs: 1.0-1.4 s of the 2.2-2.8 s `import gradio` took on
    the AMD EPYC of docs/performance.md (benchmarks/app_startup.py). The stubs serve only editors, and Gradio's
    wheel ships them. When Gradio is loaded some other way (already imported, an editable install), this finds
    nothing and Gradio starts as usual.
    """

    def find_spec(self, name, path, target=None):
        if name != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)  # one module, once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_without_stub_rewrite(module) -> None:
            exec_module(module)
            module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader.exec_module = exec_without_stub_rewrite
        return spec


if "gradio" not in sys.modules:
    sys.meta_path.insert(0, _NoStubRewrite())

from aedemo.space import build_demo, launch_kwargs  # noqa: E402

demo = build_demo()

if __name__ == "__main__":
    # A Space (or Docker) stops the app with SIGTERM: taken as Ctrl-C, Gradio closes its server and deletes the files
    # it served, where the default handler killed the process at once and left them
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    demo.launch(prevent_thread_lock=True, **launch_kwargs())
    try:
        # the test-set statistics the tabs compare against: computed once the server is up, not by the first visitor
        demo.store.warm_up()
    except KeyboardInterrupt:  # stopped while warming up; block_thread handles a stop after that itself
        demo.close()
    else:
        demo.block_thread()
