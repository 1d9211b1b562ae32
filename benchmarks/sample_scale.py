"""Time `build_sample` at a large scale: seconds, peak memory and file size.

Usage: `python benchmarks/sample_scale.py [SCALE]` from the project root (default 1000).
The database is built in a temporary folder and removed afterwards."""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

from cpc_monitor.intake.sample import build_sample  # noqa: E402


def main(scale: int) -> None:
    """Build the sample at `scale` and print what it cost."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        started = time.perf_counter()
        counts = build_sample(path, seed=1, scale=scale)
        seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"scale {scale}: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB, file {size_mb:.0f} MB")
    for table, rows in counts.items():
        print(f"  {table:<22} {rows:>10,}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
