"""`python -m outropy_pipelines.cli`: the same as the `outropy` console script."""

from outropy_pipelines.cli import main

raise SystemExit(main())
