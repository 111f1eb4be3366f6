"""The live dashboard at `/dashboard/`: a bounded store fed by the metrics and alerts topics,
this worker's own header numbers, and the page that shows them (see `web` for the routes).
"""

from __future__ import annotations

import time

import faust

from agents.dashboard.feed import feed_store
from agents.dashboard.header import Header
from agents.dashboard.store import Store
from agents.dashboard.web import register_pages
from agents.instruments import Instruments
from agents.settings import Settings

HEADER_SAMPLE_SECONDS = 1.0


def register(app: faust.App, *, settings: Settings, instruments: Instruments) -> Store:
    """Add the dashboard to `app`: its store, the task feeding it, the header's sampler, the pages."""
    store = Store()
    header = Header(instruments, app, settings.app_id)

    async def dashboard_feed() -> None:
        await feed_store(
            store,
            bootstrap_servers=settings.bootstrap_servers,
            topics=(settings.metrics_topic, settings.alerts_topic),
        )

    async def dashboard_header() -> None:
        header.sample(time.time())

    app.task(dashboard_feed, on_leader=False)
    app.timer(interval=HEADER_SAMPLE_SECONDS)(dashboard_header)

    register_pages(app, store=store, header=header, token=settings.web_token)
    return store
