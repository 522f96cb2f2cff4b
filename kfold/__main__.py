"""``python -m kfold``: the same as the ``kfold`` command."""
import sys

from kfold.cli import main

sys.exit(main())
