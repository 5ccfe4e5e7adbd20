"""``python -m sa3dhp`` runs the command line."""

import sys

from sa3dhp.cli import main

sys.exit(main())
