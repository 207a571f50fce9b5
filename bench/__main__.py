"""``python -m bench [--quick] [--only NAMES]``: see bench.suite."""

from bench.suite import main

raise SystemExit(main())
