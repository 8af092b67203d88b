"""The installable package: the library stands without the app's dependencies, and pyproject.toml and
requirements.txt name the same ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_the_library_imports_without_the_app_s_dependencies():
    # `pip install .` brings no Gradio or pandas: none of the library's modules may need them
    code = ("import sys; import aedemo, aedemo.train, aedemo.evaluate, aedemo.hub, aedemo.card, aedemo.preprocess; "
            "print(sorted(m for m in ('gradio', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_space_s_training_worker_imports_without_gradio():
    # what a GPU machine that only trains loads (tests/test_gpu.py, there without Gradio); the Space's names import
    # Gradio on first use, as every test that builds the app does
    code = "import sys; import aedemo.space.train_worker, aedemo.space.images; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=;\[ ]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_pyproject_installs_what_the_space_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [line.split("#")[0] for line in (ROOT / "requirements.txt").read_text().splitlines()]
    space = _names([line for line in lines if line.strip()])
    library = _names(project["dependencies"])
    assert library | _names(project["optional-dependencies"]["space"]) == space
    assert not {"gradio", "pandas"} & library


def test_the_wheel_carries_the_bundled_digits_with_their_license_and_the_code_s(tmp_path):
    # the MNIST files are CC BY-SA 3.0, not the code's MIT: a wheel without their notice passed them on unattributed
    import shutil
    import zipfile

    pytest.importorskip("setuptools", minversion="77")
    source = tmp_path / "source"
    shutil.copytree(ROOT / "aedemo", source / "aedemo", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel")], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("aedemo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {"aedemo/assets/mnist/t10k-images-idx3-ubyte.gz", "aedemo/assets/mnist/t10k-labels-idx1-ubyte.gz",
               "aedemo/assets/mnist/NOTICE.md"}
    assert bundled <= names
    licenses = {n.split("/licenses/", 1)[1] for n in names if ".dist-info/licenses/" in n}
    assert licenses == {"LICENSE", "aedemo/assets/mnist/NOTICE.md"}
