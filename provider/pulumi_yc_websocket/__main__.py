"""``python -m pulumi_yc_websocket``: the command-line lookup."""

import sys

from .cli import main

sys.exit(main())
