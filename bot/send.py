"""Messages a listener owes right now: recorded in the outbox first, then sent at once.

Going through the outbox even for immediate messages keeps one guarantee everywhere: a
redelivered webhook or a double click owes the same dedupe key, so Slack sees it once.
"""

from __future__ import annotations

import asyncio

from bot.delivery import DeliveryReport, deliver_due
from bot.services import Services
from storage.outbox import OwedMessage, enqueue


async def send_now(services: Services, *messages: OwedMessage) -> DeliveryReport:
    ids = []
    for message in messages:
        new_id = await asyncio.to_thread(enqueue, services.engine, message)
        if new_id is not None:
            ids.append(new_id)
    if not ids:
        return DeliveryReport()
    return await deliver_due(services.engine, services.sender, services.clock(), ids=ids)


async def owe(services: Services, *messages: OwedMessage) -> int:
    """Record messages due later; returns how many were newly owed."""
    owed = 0
    for message in messages:
        owed += await asyncio.to_thread(enqueue, services.engine, message) is not None
    return owed
