"""``python -m mtdata``: the same as the ``mtdata`` command."""

from .cli import main

raise SystemExit(main())
