"""``python -m seqgan_gumbel``: the command line."""

import sys

from seqgan_gumbel.cli import main

sys.exit(main())
