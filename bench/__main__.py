"""Run every ``bench/bench_*.py`` in its own process (each gets a fresh database)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    for script in sorted(here.glob("bench_*.py")):
        print(f"# {script.stem}", file=sys.stderr, flush=True)
        result = subprocess.run(  # noqa: S603 - our own scripts
            [sys.executable, "-m", f"bench.{script.stem}", *sys.argv[1:]],
            cwd=here.parent,
            check=False,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
