"""Finding the account's people: Slack is asked once per person, not once per deal."""

from __future__ import annotations

from tests.helpers import closed_won, deal


async def test_a_busy_days_deals_ask_slack_once_per_person(
    sim_driver, sim_bot, sandbox, people
) -> None:
    for index in range(5):
        reply = await closed_won(
            sim_driver, deal(crm_id=f"D-{index}", account_name=f"Account {index}")
        )
        assert reply.status == 202, reply.text
    asked = [c.args.get("email") for c in sandbox.calls_of("users.lookupByEmail")]
    assert sorted(asked) == sorted({people.ae.email, people.csm.email, people.manager.email})
    for index in range(5):
        assert sandbox.workspace.channel_by_name(f"acct-account-{index}") is not None
