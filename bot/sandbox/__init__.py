"""The loopback Slack: a stateful Web API stand-in and a driver that acts for people.

sandbox = SlackSandbox(SandboxWorkspace(bot_scopes=granted_scopes()))
api_url = await sandbox.start()            # point SLACK_API_URL here
driver = SlackDriver(sandbox, bot_url, signing_secret)
await driver.command(user, "help")
"""

from bot.sandbox.driver import LateAck, Reply, SlackDriver, sign
from bot.sandbox.rules import SlackError
from bot.sandbox.server import Call, Rejected, SlackSandbox
from bot.sandbox.state import Channel, Message, OpenView, SandboxWorkspace, User

__all__ = [
    "Call",
    "Channel",
    "LateAck",
    "Message",
    "OpenView",
    "Rejected",
    "Reply",
    "SlackDriver",
    "SlackError",
    "SlackSandbox",
    "User",
    "SandboxWorkspace",
    "sign",
]
