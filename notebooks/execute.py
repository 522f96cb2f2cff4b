"""Rebuild the notebooks from their jupytext twins and execute them in place.

    .venv/bin/python notebooks/execute.py [notebooks/01_boston_housing_kfold.py ...]

For each ``NN_*.py`` (jupytext percent format, the file reviewers read) this
writes ``NN_*.ipynb`` and executes it at its teaching values (the ``parameters``
cell as written; nbmake's mocks are for CI only), saving the outputs and figures.
The lines that TensorFlow's C++ runtime prints to stderr before its logging is
set up (``TF_CPP_MIN_LOG_LEVEL`` does not reach them) are dropped from the saved
outputs. CI runs the notebooks with ``pytest`` (nbmake), in quick mode.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
# Printed by TensorFlow's C++ code before absl logging is initialized.
_TF_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\] .*)\n?", re.MULTILINE)


def _strip_tf_noise(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = _TF_NOISE.sub("", output.text)
                if not output.text:
                    continue
            outputs.append(output)
        cell.outputs = outputs


def execute(script: Path) -> None:
    notebook = script.with_suffix(".ipynb")
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", str(script)], check=True)
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(script.parent)}}).execute()
    print(f"{notebook.name}: executed in {time.perf_counter() - start:.0f} s")
    _strip_tf_noise(nb)
    nbformat.write(nb, notebook)


if __name__ == "__main__":
    scripts = [Path(p) for p in sys.argv[1:]] or sorted(HERE.glob("[0-9][0-9]_*.py"))
    for script in scripts:
        execute(script.resolve())
