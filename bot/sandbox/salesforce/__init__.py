"""A loopback Salesforce org: the REST query API over HTTPS (what simple-salesforce calls),
and Salesforce's sending side (Outbound Messages, a flow's HTTP callout).

org = SalesforceOrg()
owner = org.add_user("Ada Lovelace", "ada@example.com")
deal = org.add_opportunity("Acme", owner_id=owner, close_date=date(2025, 3, 31))
sandbox = SalesforceSandbox(org, page_size=200)
instance_url = await sandbox.start()        # https://127.0.0.1:<port>; trust sandbox.ca_file
Salesforce(instance_url=instance_url, session_id=org.access_token, session=...)
await OutboundMessenger(door_url, org.organization_id, org=org).send([deal])
"""

from bot.sandbox.salesforce.org import FieldDef, SalesforceOrg
from bot.sandbox.salesforce.senders import (
    Delivery,
    FlowCallout,
    OutboundMessage,
    OutboundMessenger,
)
from bot.sandbox.salesforce.server import ApiCall, SalesforceSandbox
from bot.sandbox.salesforce.soql import SoqlError

__all__ = [
    "ApiCall",
    "Delivery",
    "FieldDef",
    "FlowCallout",
    "OutboundMessage",
    "OutboundMessenger",
    "SalesforceOrg",
    "SalesforceSandbox",
    "SoqlError",
]
