"""The worker's logging: quiet levels cost nothing per debug line."""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.settings import Settings


def test_a_worker_logging_at_warn_builds_no_debug_records(tmp_path: Path) -> None:
    """At `-l warn` (Faust's default level), Faust's terminal spinner set the root logger to DEBUG
    to spin on every line, so each debug line of aiokafka and Faust was built, then dropped by the
    handler: 176,000 records, about 5 s, for 20,000 tweets. The worker logs at the level it is given.
    """
    app = create_app(Settings(data_dir=str(tmp_path)), CollectorRegistry())
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        worker = app.conf.Worker(app, loglevel="warn", redirect_stdouts=False)
        worker._setup_logging()  # noqa: SLF001 - what `resonance worker` does before it starts
        assert logging.getLogger("aiokafka").getEffectiveLevel() == logging.WARNING
        assert not logging.getLogger("faust.topics").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
