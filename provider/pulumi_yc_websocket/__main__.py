"""``python -m pulumi_yc_websocket``: the command-line lookup."""

import sys

from ._cli import main

sys.exit(main())
