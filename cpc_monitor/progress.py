"""The contract's name for the progress method (design/progress.md):
`from cpc_monitor.progress import assess`. The method lives in cpc_monitor.evaluation.progress."""
from cpc_monitor.evaluation.progress import *  # noqa: F401,F403
