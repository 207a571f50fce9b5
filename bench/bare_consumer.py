"""The reference for audit ingest: a bare aiokafka consumer reading topics.

``python -m bench.bare_consumer SPEC.json``: assign every partition of the
topics (no group, like ``audit rebuild``), seek to the beginning, read to the
end offsets found at the start with the same fetch settings as the rebuild
(read_committed, 2000 records per poll), decode nothing. Prints the messages
and the seconds from the consumer's start to the last message.
"""

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


async def read_all(bootstrap: str, topics: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_poll_records=2000,
    )
    await consumer.start()
    messages = 0
    try:
        known = await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            if topic in known
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp: offset for tp, offset in end.items() if offset > 0}
        while remaining:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < end[tp]:
                        messages += 1
                if records and records[-1].offset + 1 >= end[tp]:
                    remaining.pop(tp, None)
    finally:
        await consumer.stop()
    return {"messages": messages, "seconds": time.monotonic() - started}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(read_all(spec["bootstrap"], spec["topics"]))))


if __name__ == "__main__":
    main()
