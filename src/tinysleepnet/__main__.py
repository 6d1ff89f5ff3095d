"""``python -m tinysleepnet``: the same as the ``tinysleepnet`` command."""

import sys

from .cli import main

sys.exit(main())
