"""Nobody takes over an account or borrows authority: who may create and change accounts
(`/baton new`), and who may arrange cover for someone else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.sandbox import SlackDriver, SlackSandbox, User
from storage.accounts import account_by_crm
from tests.helpers import account_channel, ask, closed_won, deal, opened_view

SOON = (date.today() + timedelta(days=30)).isoformat()


def ephemeral_texts(sandbox: SlackSandbox, user: User) -> list[str]:
    return [e.text for e in sandbox.workspace.ephemerals if e.user == user.id]


async def new_account_form(driver: SlackDriver, user: User):  # noqa: ANN201
    await driver.command(user, "new")
    return opened_view(driver.workspace, user.id)


def form(**values: str) -> dict[str, str]:
    base = {"account_name": "Acme Robotics", "crm_id": "D-100", "arr": "80000"}
    return {**base, **values}


@pytest.fixture
async def acme(driver, people) -> int:  # noqa: ANN001
    """Acme (D-100): Ana is its AE, Chen its CSM, Maya its manager."""
    reply = await closed_won(driver, deal())
    assert reply.status == 202
    return reply.json["account_id"]


async def test_a_member_who_is_nobody_to_baton_cannot_open_the_form(
    driver, sandbox, bot, people
) -> None:
    mallory = sandbox.workspace.add_user("mal", "Mallory", "mal@example.test")
    await driver.command(mallory, "new")
    assert ephemeral_texts(sandbox, mallory)
    assert ephemeral_texts(sandbox, mallory)[-1].startswith("You can't create accounts in Baton")
    assert sandbox.workspace.views_of(mallory.id) == []


async def test_an_existing_crm_id_is_not_taken_over_by_its_own_ae(
    driver, sandbox, bot, people, acme
) -> None:
    """Ana may create accounts (an AE Baton knows), but not rewrite Acme to make herself
    its manager: the modal says so and nothing changes."""
    db, team = bot.services.db, sandbox.workspace.team_id
    before = db.run_sync(account_by_crm, team, "D-100")
    mallory = sandbox.workspace.add_user("mal", "Mallory", "mal@example.test")
    view = await new_account_form(driver, people.ae)
    reply = await driver.submit(
        people.ae,
        view,
        form(ae=mallory.id, csm=people.csm.id, manager=people.ae.id, arr="1"),
    )
    errors = reply.json["errors"]
    assert list(errors) == ["crm_id"]
    assert "only its manager (maya@example.test) or a workspace admin" in errors["crm_id"]
    after = db.run_sync(account_by_crm, team, "D-100")
    assert (after.ae_email, after.manager_email, after.arr, after.renewal_date) == (
        before.ae_email,
        before.manager_email,
        before.arr,
        before.renewal_date,
    )
    assert mallory.id not in account_channel(sandbox.workspace).members


async def test_the_accounts_manager_and_an_admin_may_change_it(
    driver, sandbox, bot, people, acme
) -> None:
    db, team = bot.services.db, sandbox.workspace.team_id
    view = await new_account_form(driver, people.manager)
    ok = await driver.submit(
        people.manager, view, form(ae=people.ae.id, csm=people.csm.id, arr="90000")
    )
    assert ok.status == 200 and not ok.text
    assert db.run_sync(account_by_crm, team, "D-100").arr == 90000
    ola = sandbox.workspace.add_user("ola", "Ola Admin", "ola@example.test")
    ola.is_admin = True
    view = await new_account_form(driver, ola)
    ok = await driver.submit(ola, view, form(ae=people.ae.id, csm=people.csm.id, arr="95000"))
    assert ok.status == 200 and not ok.text
    assert db.run_sync(account_by_crm, team, "D-100").arr == 95000


async def test_a_known_ae_creates_only_their_own_deals_and_never_names_themselves_manager(
    driver, sandbox, bot, people, acme
) -> None:
    db, team = bot.services.db, sandbox.workspace.team_id
    view = await new_account_form(driver, people.ae)
    other = form(crm_id="G-1", account_name="Globex", ae=people.csm.id, csm=people.manager.id)
    assert list((await driver.submit(people.ae, view, other)).json["errors"]) == ["ae"]
    selfmade = form(
        crm_id="G-1", account_name="Globex", ae=people.ae.id, csm=people.csm.id,
        manager=people.ae.id,
    )  # fmt: skip
    assert list((await driver.submit(people.ae, view, selfmade)).json["errors"]) == ["manager"]
    assert db.run_sync(account_by_crm, team, "G-1") is None
    fine = form(
        crm_id="G-1", account_name="Globex", ae=people.ae.id, csm=people.csm.id,
        manager=people.manager.id,
    )  # fmt: skip
    reply = await driver.submit(people.ae, view, fine)
    assert reply.status == 200 and not reply.text
    assert db.run_sync(account_by_crm, team, "G-1") is not None


async def test_a_crafted_submission_is_refused_like_the_command(
    driver, sandbox, bot, people, acme
) -> None:
    """The view's callback id is no secret: submitting it without having been allowed to
    open it is checked again."""
    mallory = sandbox.workspace.add_user("mal", "Mallory", "mal@example.test")
    view = await new_account_form(driver, people.manager)
    view.user = mallory.id
    reply = await driver.submit(mallory, view, form(crm_id="Z-1", ae=mallory.id, csm=people.csm.id))
    assert reply.json["errors"]["account_name"].startswith("You can't create accounts")
    assert bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "Z-1") is None


async def test_baton_creators_names_who_may_create(driver, sandbox, bot, people, acme) -> None:
    ops = sandbox.workspace.add_user("ops", "Oli Ops", "oli@example.test")
    sandbox.workspace.add_usergroup("sales-ops", [ops.id])
    settings = bot.services.settings
    settings.baton_creators = "@sales-ops"
    from bot.people.managers import refresh_managers

    await refresh_managers(bot.services, force=True)
    # Ana is a known AE, but BATON_CREATORS now says who creates (besides managers, admins).
    await driver.command(people.ae, "new")
    assert ephemeral_texts(sandbox, people.ae)
    assert sandbox.workspace.views_of(people.ae.id) == []
    view = await new_account_form(driver, ops)
    reply = await driver.submit(
        ops, view, form(crm_id="G-2", account_name="Initech", ae=people.ae.id, csm=people.csm.id)
    )
    assert reply.status == 200 and not reply.text
    assert bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "G-2") is not None


# --- cover: borrowed authority ------------------------------------------------------------
async def cover_answer(driver: SlackDriver, user: User, text: str) -> str:
    return await ask(driver, user, text)


async def test_managing_some_account_is_no_licence_to_cover_anyone(
    driver, sandbox, bot, people, acme
) -> None:
    ws = sandbox.workspace
    vic = ws.add_user("vic", "Vic Other", "vic@example.test")
    sam = ws.add_user("sam", "Sam Backup", "sam@example.test")
    ae2 = ws.add_user("bo", "Bo Seller", "bo@example.test")
    # Vic manages another account (Globex), not any of Chen's.
    await closed_won(
        driver,
        deal(
            crm_id="G-1",
            account_name="Globex",
            ae_email="bo@example.test",
            csm_email="sam@example.test",
            manager_email="vic@example.test",
        ),
    )
    cover = f"cover <@{people.csm.id}> with <@{sam.id}> until {SOON}"
    refused = await cover_answer(driver, vic, cover)
    assert refused.startswith(f"Only <@{people.csm.id}>, a manager of their accounts")
    assert await cover_answer(driver, ae2, cover) == refused
    assert refused == await cover_answer(driver, vic, f"cover <@{people.csm.id}> off")
    # Maya manages Acme, where Chen is the CSM: she may.
    assert "covers for" in await cover_answer(driver, people.manager, cover)
    assert "ended" in await cover_answer(driver, people.manager, f"cover <@{people.csm.id}> off")


async def test_workspace_managers_admins_and_the_person_may_arrange_cover(
    driver, sandbox, bot, people, acme
) -> None:
    ws = sandbox.workspace
    sam = ws.add_user("sam", "Sam Backup", "sam@example.test")
    lead = ws.add_user("lee", "Lee Lead", "lee@example.test")
    ola = ws.add_user("ola", "Ola Admin", "ola@example.test")
    ola.is_admin = True
    bot.services.settings.baton_managers = lead.id
    cover = f"cover <@{people.csm.id}> with <@{sam.id}> until {SOON}"
    for actor in (people.csm, lead, ola):
        assert "covers for" in await cover_answer(driver, actor, cover)


async def test_manager_groups_are_read_at_start_and_refreshed_by_the_tick(
    settings, clock, sandbox, people
) -> None:
    from bot.outbox.tick import run_tick
    from bot.runtime.runner import BotServer

    ws = sandbox.workspace
    lee = ws.add_user("lee", "Lee Lead", "lee@example.test")
    kim = ws.add_user("kim", "Kim Lead", "kim@example.test")
    group = ws.add_usergroup("cs-leads", [lee.id])
    server = BotServer(
        settings.model_copy(update={"baton_managers": "@cs-leads"}),
        clock,
        ticker=False,
        process_before_response=True,
    )
    await server.start(host="127.0.0.1", port=0)
    driver = SlackDriver(sandbox, server.url, settings.slack_signing_secret or "")
    try:
        await closed_won(driver, deal())
        assign = f"assign acme csm <@{people.manager.id}>"
        # Nobody ran /baton week: Lee is a manager from the start.
        assert (await cover_answer(driver, lee, assign)).startswith("Done:")
        group.users.append(kim.id)
        again = f"assign acme csm <@{people.csm.id}>"
        assert (await cover_answer(driver, kim, again)).startswith("Only a manager")
        clock.advance(timedelta(minutes=6))
        await run_tick(server.services)
        assert (await cover_answer(driver, kim, again)).startswith("Done:")
    finally:
        await driver.close()
        await server.stop()
