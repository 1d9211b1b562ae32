"""`python -m cpc_monitor`: the command line."""
import sys

from .cli import main

sys.exit(main())
