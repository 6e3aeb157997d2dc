"""`python -m bench` (`make bench`): every benchmark module of this package, each with its defaults.

A benchmark is a module here with `main(argv)` that writes its figures to bench/results/.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "main"):
            print(f"== bench.{name}", file=sys.stderr)
            module.main([])


if __name__ == "__main__":
    main()
