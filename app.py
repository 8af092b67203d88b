"""The autoencoder playground: `python app.py`, then open http://127.0.0.1:7860 (a Hugging Face Space runs this).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself) and AEDEMO_HUB_REPO (load the models
from that Hub repo instead of checkpoints/).
"""

from aedemo.space import build_demo, launch_kwargs

demo = build_demo()
# one queue for every tab; small handlers may run side by side (the Train tab limits itself to one run)
demo.queue(default_concurrency_limit=8, max_size=256)

if __name__ == "__main__":
    demo.launch(prevent_thread_lock=True, **launch_kwargs())
    # the test-set statistics the tabs compare against: computed once the server is up, not by the first visitor
    demo.store.warm_up()
    demo.block_thread()
