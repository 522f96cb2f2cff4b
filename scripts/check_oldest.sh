#!/usr/bin/env bash
# Install the oldest stack that setup.cfg declares into a fresh virtual environment and run the quick
# test tier against it.
#
# The oldest stack is read from setup.cfg: the lower bound of `keras` and `numpy` in install_requires
# and of `tensorflow-cpu` in its extra, each pinned exactly (`keras>=3.8` installs keras 3.8.0). The
# other packages (the `test` extra, TensorFlow's own dependencies) are whatever pip resolves beside
# those pins. kfold itself is installed from this checkout (editable), and the tests run from it.
#
# Usage:
#   scripts/check_oldest.sh [--venv DIR] [PYTEST_ARGS...]
#
#   --venv DIR    build the environment in DIR instead of a temporary folder that is removed on exit;
#                 an environment already in DIR is reused and brought to the pins, which saves the
#                 download when checking again.
#   PYTEST_ARGS   replace the default selection, `-m "not slow" -n 2` (the quick tier on two
#                 processes), e.g. `tests/split -n 0`.
#
# Environment: PYTHON, the interpreter that creates the environment (default python3).
# Exits non-zero when the install or a test fails.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
venv=""
if [[ $# -ge 2 && "$1" == "--venv" ]]; then
    venv="$2"
    shift 2
fi
if [[ $# -gt 0 ]]; then
    pytest_args=("$@")
else
    pytest_args=(-m "not slow" -n 2)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [[ -z "$venv" ]]; then
    venv="$tmp/venv"
fi

# The pins: `name==lower bound` for each package of the oldest stack, from setup.cfg.
"$python" - "$repo/setup.cfg" >"$tmp/constraints.txt" <<'EOF'
import configparser
import re
import sys

config = configparser.ConfigParser()
config.read(sys.argv[1])
lines = config["options"]["install_requires"].splitlines()
lines += config["options.extras_require"]["tensorflow-cpu"].splitlines()
wanted = {"keras", "numpy", "tensorflow-cpu"}
found = {}
for line in lines:
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", line)
    if match and match.group(1).lower() in wanted:
        lower = re.search(r">=\s*([0-9][0-9.]*)", match.group(2))
        if lower is None:
            sys.exit(f"setup.cfg: no lower bound (>=) for {match.group(1)}: {line.strip()!r}")
        found[match.group(1).lower()] = lower.group(1)
missing = wanted - set(found)
if missing:
    sys.exit(f"setup.cfg: no requirement for {sorted(missing)}")
for name in sorted(found):
    print(f"{name}=={found[name]}")
EOF

echo "check_oldest: pins from setup.cfg: $(tr '\n' ' ' <"$tmp/constraints.txt")"
echo "check_oldest: environment in $venv"

start=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
cd "$repo"
"$venv/bin/python" -m pip install -q -c "$tmp/constraints.txt" -e ".[tensorflow-cpu,test]"
install_s=$((SECONDS - start))

# What was installed, and a check that the pins hold in the environment that runs the tests.
"$venv/bin/python" - "$tmp/constraints.txt" <<'EOF'
import sys
from importlib import metadata

print(f"check_oldest: python {sys.version.split()[0]}")
for name in ("keras", "tensorflow-cpu", "numpy", "ml-dtypes", "h5py", "tensorboard", "protobuf",
             "matplotlib", "scipy", "pandas", "scikit-learn", "pytest", "keras-kfold"):
    try:
        print(f"check_oldest: {name} {metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(f"check_oldest: {name} not installed")
bad = []
for line in open(sys.argv[1]):
    name, version = line.strip().split("==")
    installed = metadata.version(name)
    if [int(part) for part in installed.split(".")[:3]] != [
        int(part) for part in (version.split(".") + ["0", "0"])[:3]
    ]:
        bad.append(f"{name} {installed} (pinned {version})")
if bad:
    sys.exit(f"check_oldest: the pins did not hold: {', '.join(bad)}")
import keras
import tensorflow

print(f"check_oldest: imported keras {keras.__version__}, tensorflow {tensorflow.__version__}")
EOF

echo "check_oldest: install took ${install_s}s; running pytest ${pytest_args[*]}"
# Nothing is printed after pytest, so that its closing line (with the time the tests took) is the
# last line of the output; the exit status is pytest's.
status=0
"$venv/bin/python" -m pytest "${pytest_args[@]}" || status=$?
exit "$status"
