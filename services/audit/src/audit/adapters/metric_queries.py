"""Rates and figures: the summary, time series and the alert measurements."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.tables import events, minute_counts
from audit.domain.alerts import IpActivity, Measurements, RuleThresholds
from audit.domain.audit_event import LOGIN_TYPES
from audit.domain.figures import (
    DAY,
    LoginCounts,
    Summary,
    nearest_rank,
    window_end,
    window_start,
)
from shared.events import EventType, FailureReason

TOP_IPS = 50
_LOGINS = [t.value for t in LOGIN_TYPES]


async def summary(conn: AsyncConnection, now: datetime, window: timedelta) -> Summary:
    start, end = window_start(now, window), window_end(now)
    day_start = window_start(now, DAY)
    counts = minute_counts.c
    in_window, in_day = counts.bucket_start >= start, counts.bucket_start >= day_start
    rows = await conn.execute(
        select(
            counts.event_type,
            counts.success,
            func.sum(case((in_window, counts.count), else_=0)),
            func.sum(case((in_day, counts.count), else_=0)),
            func.sum(case((in_window, counts.duration_ms_sum), else_=0)),
            func.sum(case((in_window, counts.duration_count), else_=0)),
        )
        .where(
            counts.bucket_start >= min(start, day_start),
            counts.bucket_start < end,
        )
        .group_by(counts.event_type, counts.success)
    )
    window_counts: dict[tuple[str, bool], int] = {}
    day_counts: dict[str, int] = {}
    duration_sum, duration_count = 0.0, 0
    row: Any
    for row in rows:
        kind, success, window_n, day_n, d_sum, d_count = row
        window_counts[(kind, bool(success))] = int(window_n or 0)
        day_counts[kind] = day_counts.get(kind, 0) + int(day_n or 0)
        if kind in _LOGINS:
            duration_sum += float(d_sum or 0)
            duration_count += int(d_count or 0)
    logins = LoginCounts(
        successes=sum(
            n for (k, s), n in window_counts.items() if k == EventType.LOGIN_SUCCESS
        ),
        failures=sum(
            n for (k, s), n in window_counts.items() if k == EventType.LOGIN_FAILED
        ),
        duration_ms_sum=duration_sum,
        duration_count=duration_count,
    )
    return Summary(
        window=window,
        window_start=start,
        as_of=now,
        logins=logins,
        registrations=window_counts.get(
            (EventType.REGISTRATION_SUCCESS.value, True), 0
        ),
        lockouts_24h=day_counts.get(EventType.ACCOUNT_LOCKED.value, 0),
        password_resets_24h=day_counts.get(EventType.PASSWORD_RESET_SUCCESS.value, 0),
        password_reset_requests_24h=day_counts.get(
            EventType.PASSWORD_RESET_REQUESTED.value, 0
        ),
        p95_login_ms=(
            await _login_durations(
                conn, events.c.occurred_at >= start, events.c.occurred_at < end
            )
        )[1],
    )


async def _login_durations(
    conn: AsyncConnection, *time_range: ColumnElement[bool]
) -> tuple[int, float | None]:
    """How many timed logins, and their 95th percentile (nearest rank)."""
    timed = (
        events.c.event_type.in_(_LOGINS),
        events.c.duration_ms.is_not(None),
        *time_range,
    )
    count = int(
        await conn.scalar(select(func.count()).select_from(events).where(*timed)) or 0
    )
    if not count:
        return 0, None
    value = await conn.scalar(
        select(events.c.duration_ms)
        .where(*timed)
        .order_by(events.c.duration_ms)
        .limit(1)
        .offset(nearest_rank(count, 0.95))
    )
    return count, None if value is None else round(float(value), 1)


async def timeseries(
    conn: AsyncConnection,
    now: datetime,
    event_types: Sequence[EventType],
    bucket: timedelta,
    buckets: int,
) -> list[dict[str, object]]:
    """``buckets`` consecutive buckets ending with the one holding ``now``."""
    size = int(bucket.total_seconds())
    last = _floor(now, size)
    first = last - bucket * (buckets - 1)
    series = {first + bucket * i: [0, 0] for i in range(buckets)}
    counts = minute_counts.c
    query = select(counts.bucket_start, counts.success, counts.count).where(
        counts.bucket_start >= first, counts.bucket_start < last + bucket
    )
    if event_types:
        query = query.where(counts.event_type.in_([t.value for t in event_types]))
    row: Any
    for row in await conn.execute(query):
        start, success, count = row
        slot = series[_floor(start, size)]
        slot[0] += count
        if not success:
            slot[1] += count
    return [
        {"bucket_start": start.isoformat(), "count": c, "failures": f}
        for start, (c, f) in series.items()
    ]


def _floor(at: datetime, seconds: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


async def measure(
    conn: AsyncConnection, now: datetime, t: RuleThresholds
) -> Measurements:
    """What the alert rules need, each over its own window ending at ``now``."""
    attempts, failures = await _logins(conn, now - t.failure_rate_window, now)
    slow_logins, p95 = await _login_durations(
        conn, *_recent(now - t.slow_login_window, now)
    )
    return Measurements(
        login_attempts=attempts,
        login_failures=failures,
        lockouts=await _count(
            conn,
            now - t.lockouts_window,
            now,
            events.c.event_type == EventType.ACCOUNT_LOCKED.value,
        ),
        reset_requests=await _count(
            conn,
            now - t.reset_requests_window,
            now,
            or_(
                events.c.event_type == EventType.PASSWORD_RESET_REQUESTED.value,
                _reset_refused_unknown(),
            ),
        ),
        reset_token_failures_by_ip=await _by_ip(
            conn,
            now - t.reset_token_failures_window,
            now,
            events.c.event_type == EventType.PASSWORD_RESET_FAILED.value,
            or_(
                events.c.reason.is_(None),
                events.c.reason != FailureReason.UNKNOWN_EMAIL.value,
            ),
            order_by_addresses=False,
        ),
        failed_logins_by_ip=await _by_ip(
            conn,
            now - t.stuffing_window,
            now,
            events.c.event_type == EventType.LOGIN_FAILED.value,
            order_by_addresses=True,
        ),
        slow_window_logins=slow_logins,
        login_p95_ms=p95,
    )


def _reset_refused_unknown() -> ColumnElement[bool]:
    # A refused request for an unknown address is still a reset request.
    return (events.c.event_type == EventType.PASSWORD_RESET_FAILED.value) & (
        events.c.reason == FailureReason.UNKNOWN_EMAIL.value
    )


def _recent(since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
    return (events.c.occurred_at > since, events.c.occurred_at <= until)


async def _logins(
    conn: AsyncConnection, since: datetime, until: datetime
) -> tuple[int, int]:
    failed = case((events.c.success.is_(False), 1), else_=0)
    row = (
        await conn.execute(
            select(func.count(), func.coalesce(func.sum(failed), 0)).where(
                events.c.event_type.in_(_LOGINS), *_recent(since, until)
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def _count(
    conn: AsyncConnection,
    since: datetime,
    until: datetime,
    condition: ColumnElement[bool],
) -> int:
    query = (
        select(func.count())
        .select_from(events)
        .where(condition, *_recent(since, until))
    )
    return int(await conn.scalar(query) or 0)


async def _by_ip(
    conn: AsyncConnection,
    since: datetime,
    until: datetime,
    *conditions: ColumnElement[bool],
    order_by_addresses: bool,
) -> tuple[IpActivity, ...]:
    total = func.count().label("total")
    addresses = func.count(distinct(func.lower(events.c.email))).label("addresses")
    query = (
        select(events.c.ip, total, addresses)
        .where(events.c.ip.is_not(None), *conditions, *_recent(since, until))
        .group_by(events.c.ip)
        .order_by((addresses if order_by_addresses else total).desc(), events.c.ip)
        .limit(TOP_IPS)
    )
    rows: Any = await conn.execute(query)
    return tuple(
        IpActivity(ip=str(ip), events=int(n), addresses=int(k)) for ip, n, k in rows
    )
