"""The small readers behind audit rows: trace headers, user agents, ranks."""

import pytest

from audit.domain.figures import nearest_rank
from audit.domain.trace_context import TraceIds, parse_traceparent
from audit.domain.user_agent import describe_user_agent
from tests.audit.stream import CHROME_WINDOWS, MOBILE_SAFARI

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-{SPAN}-01", TraceIds(TRACE, SPAN)),
        (f"00-{TRACE.upper()}-{SPAN}-00", TraceIds(TRACE, SPAN)),
        (f"01-{TRACE}-{SPAN}-01-future", TraceIds(TRACE, SPAN)),
        (f"00-{TRACE}-{SPAN}-01-extra", None),
        (f"ff-{TRACE}-{SPAN}-01", None),
        (f"00-{'0' * 32}-{SPAN}-01", None),
        (f"00-{TRACE}-{'0' * 16}-01", None),
        (f"00-{TRACE[:-1]}-{SPAN}-01", None),
        ("", None),
        (None, None),
    ],
)
def test_traceparent(header: str | None, expected: TraceIds | None) -> None:
    assert parse_traceparent(header) == expected


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (MOBILE_SAFARI, "Mobile Safari"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            "Chrome on Android (mobile)",
        ),
        ("python-httpx/0.28.1", "python-httpx"),
        ("curl/8.5.0", "curl"),
        ("Mozilla/5.0", "an unknown client"),
        ("", None),
        (None, None),
    ],
)
def test_user_agent_names(agent: str | None, name: str | None) -> None:
    assert describe_user_agent(agent) == name


@pytest.mark.parametrize(
    ("count", "index"), [(1, 0), (12, 11), (20, 18), (100, 94), (101, 95)]
)
def test_nearest_rank_of_the_95th_percentile(count: int, index: int) -> None:
    assert nearest_rank(count, 0.95) == index
