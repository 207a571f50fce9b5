"""The relay lease: one relay publishes at a time, another takes over when it lapses.

A crashed relay simply stops renewing; after ``duration`` any other relay may
take the lease. A relay that stops cleanly gives it back at once.
"""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.tables import RELAY_LEASE, outbox_lease
from identity.adapters.write_gate import WriteGate

logger = logging.getLogger(__name__)


class RelayLease:
    """The right to publish, held by one relay at a time for a while."""

    def __init__(
        self, gate: WriteGate, engine: AsyncEngine, holder: str, duration: timedelta
    ) -> None:
        self._gate = gate
        self._engine = engine
        self.holder = holder
        self._duration = duration
        self._held = False

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another relay holds it."""
        now = datetime.now(UTC)
        async with self._gate.writing(), self._engine.begin() as conn:
            result = await conn.execute(
                update(outbox_lease)
                .where(
                    outbox_lease.c.name == RELAY_LEASE,
                    or_(
                        outbox_lease.c.holder == self.holder,
                        outbox_lease.c.holder.is_(None),
                        outbox_lease.c.expires_at < now,
                    ),
                )
                .values(holder=self.holder, expires_at=now + self._duration)
            )
        held = result.rowcount == 1
        if held != self._held:
            logger.info(
                "outbox.lease_taken" if held else "outbox.lease_held_elsewhere",
                extra={"holder": self.holder},
            )
        self._held = held
        return held

    async def release(self) -> None:
        if not self._held:
            return
        async with self._gate.writing(), self._engine.begin() as conn:
            await conn.execute(
                update(outbox_lease)
                .where(
                    outbox_lease.c.name == RELAY_LEASE,
                    outbox_lease.c.holder == self.holder,
                )
                .values(holder=None, expires_at=None)
            )
        self._held = False
