"""The loopback HubSpot: a stateful CRM API stand-in and HubSpot's webhook sender.

async with HubSpotSandbox() as hub:             # point BATON_HUBSPOT_API_URL at hub.base_url
    portal = hub.add_portal()
    token = hub.add_token(portal.id)
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme"})
    events = hub.change_deal(portal.id, deal_id, {"dealstage": "closedwon"})
    async with HubSpotWebhooks(bot_url + "/crm/hubspot", client_secret) as sender:
        await sender.send(events)
"""

from bot.sandbox.hubspot.server import ALL_SCOPES, Call, HubSpotSandbox
from bot.sandbox.hubspot.state import Owner, Portal, Record, instant
from bot.sandbox.hubspot.webhooks import Delivery, HubSpotWebhooks, sign_v3

__all__ = [
    "ALL_SCOPES",
    "Call",
    "Delivery",
    "HubSpotSandbox",
    "HubSpotWebhooks",
    "Owner",
    "Portal",
    "Record",
    "instant",
    "sign_v3",
]
