"""``python -m linkage``."""

import sys

from linkage.cli import main

sys.exit(main())
