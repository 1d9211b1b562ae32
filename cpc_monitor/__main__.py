"""`python -m cpc_monitor`: the command line."""
import sys

from cpc_monitor.cli import main

sys.exit(main())
