"""What the operator's Prometheus scrapes from GET /metrics (prometheus-client, text format).

One registry per application (so tests and replicas in one process never mix). Labels are
fixed words — outcomes and Bot API method names — never a chat id or a question's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
MATCH_BUCKETS: Final = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

InboxDepth = Callable[[], tuple[int, float | None]]  # (unfinished updates, oldest age in s)


class _Inbox(Collector):
    """Inbox depth and oldest age, read from the store when scraped."""

    def __init__(self, depth: InboxDepth) -> None:
        self._depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            count, oldest = self._depth()
        except Exception:
            return
        yield GaugeMetricFamily(
            "agreement_inbox_depth", "Updates kept in the inbox and not answered yet", count
        )
        yield GaugeMetricFamily(
            "agreement_inbox_oldest_age_seconds",
            "Age of the oldest update not answered yet (0 when there is none)",
            oldest or 0.0,
        )


class Metrics:
    """The bot's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "agreement_updates_received", "Updates received and kept", registry=r
        )
        self.duplicates = Counter(
            "agreement_duplicates_dropped", "Updates delivered again and dropped", registry=r
        )
        self.replies = Counter(
            "agreement_replies",
            "Replies sent, by outcome",
            ["outcome"],
            registry=r,
        )
        self.retries = Counter(
            "agreement_bot_api_retries", "Bot API calls retried", ["method"], registry=r
        )
        self.failures = Counter(
            "agreement_bot_api_failures",
            "Bot API calls that failed for good",
            ["method"],
            registry=r,
        )
        self.match_seconds = Histogram(
            "agreement_match_seconds",
            "Time to answer one message (reading, matching, building the reply)",
            buckets=MATCH_BUCKETS,
            registry=r,
        )
        self.knowledge_entries = Gauge(
            "agreement_knowledge_entries", "Entries in the knowledge base answering now", registry=r
        )
        self.reloads = Counter(
            "agreement_knowledge_reloads", "Knowledge base reloads that took effect", registry=r
        )

    def watch_inbox(self, depth: InboxDepth) -> None:
        """Report the inbox's depth and oldest age on every scrape."""
        self.registry.register(_Inbox(depth))

    def replied(self, outcome: str) -> None:
        """One reply sent: answer, suggest (did-you-mean), decline, smalltalk or info."""
        self.replies.labels(outcome).inc()

    @contextmanager
    def timing_match(self) -> Iterator[None]:
        """Time the answering of one message."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.match_seconds.observe(time.perf_counter() - start)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
