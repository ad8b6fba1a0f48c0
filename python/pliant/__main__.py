"""`python -m pliant optimize|sweep ...` (see pliant/cli.py)."""
import sys

from .cli import main

sys.exit(main())
