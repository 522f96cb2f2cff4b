"""``python -m kfold``: the same as the ``kfold`` command."""
import sys

from .cli import main

sys.exit(main())
