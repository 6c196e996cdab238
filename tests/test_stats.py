"""The handoff's numbers (flows.stats) on hand-built facts, and the facts storage gathers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from flows.stats import (
    EARLY,
    LATE,
    MIDDLE,
    AccountFacts,
    CheckinFact,
    EscalationFact,
    Facts,
    NudgeFact,
    OutcomeFact,
    RatingFact,
    Stats,
    alerts,
    churn_bucket,
    compute_stats,
    filter_facts,
)
from storage.kinds import MessageKind
from storage.models import (
    Account,
    Checkin,
    Milestone,
    OutboxMessage,
    OutboxStatus,
    OwnershipEvent,
    Packet,
    PacketRating,
    Person,
    RenewalOutcome,
)
from storage.stats import stats_facts, stats_facts_of

UTCZ = ZoneInfo("UTC")
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2027, 4, 1, tzinfo=UTC)
MON = datetime(2027, 2, 1, 10, tzinfo=UTC)  # a Monday; escalation time: Thu 09:00


def acct(i: int, closed: datetime = MON, **kw) -> AccountFacts:  # noqa: ANN003
    return AccountFacts(i, f"Acme {i}", kw.pop("model", "A"), closed, closed, **kw)


def churn(i: int, effective: date, reason: str | None = "economic") -> OutcomeFact:
    return OutcomeFact(i, effective, "churned", effective, reason)


def stats(**kw) -> Stats:  # noqa: ANN003
    kw = {k: tuple(v) for k, v in kw.items()}
    return compute_stats(Facts(START, END, **kw), UTCZ)


# --- n = 0 -------------------------------------------------------------------------------
def test_no_facts_give_no_numbers_and_no_alerts() -> None:
    s = stats()
    assert s.packet_completion.value is None and s.packet_completion.n == 0
    assert s.packet_hours.value is None and s.packet_rating.value is None
    assert s.first_value_days.value is None and s.first_value_30d.value is None
    assert all(r.value is None and r.n == 0 for r in s.churn_reasons.values())
    assert all(r.value is None for r in s.churn_timing.values())
    assert s.icp_churn.value is None and s.icp_ratio.value is None
    assert s.milestone_on_time.value is None and s.milestone_on_time_by_person == {}
    assert s.renewal_by_model == {} and s.expansion_by_model == {} and s.mismatch_by_ae == {}
    assert alerts(s) == []


# --- the packet ----------------------------------------------------------------------------
def test_packet_completion_by_the_escalation_time_and_its_median_hours() -> None:
    thu_9 = datetime(2027, 2, 4, 9, tzinfo=UTC)
    s = stats(
        accounts=[
            acct(1, packet_completed_at=MON + timedelta(hours=2)),
            acct(2, packet_completed_at=thu_9),  # exactly at the escalation: on time
            acct(3, packet_completed_at=thu_9 + timedelta(minutes=1)),  # late
            acct(4),  # never: late
            acct(5, closed=START - timedelta(days=1), packet_completed_at=MON),  # before
        ]
    )
    assert (s.packet_completion.count, s.packet_completion.n) == (2, 4)
    assert s.packet_completion.value == 0.5
    assert s.packet_completion.accounts == (1, 2)
    assert s.packet_hours.n == 3 and s.packet_hours.value == 71.0  # 2, 71, 71.0167


def test_a_holiday_inside_the_two_business_days_moves_the_escalation() -> None:
    facts = Facts(START, END, (acct(1, packet_completed_at=datetime(2027, 2, 4, 12, tzinfo=UTC)),))
    assert compute_stats(facts, UTCZ).packet_completion.value == 0.0
    holiday = compute_stats(facts, UTCZ, holidays={date(2027, 2, 2)})
    assert holiday.packet_completion.value == 1.0  # the escalation is Friday 09:00 now


def test_the_aes_zone_sets_the_gate_clock() -> None:
    # Closed Monday 23:30 UTC = Tuesday in Tokyo: the escalation is Friday 09:00 Tokyo.
    closed = datetime(2027, 2, 1, 23, 30, tzinfo=UTC)
    done = datetime(2027, 2, 4, 12, tzinfo=UTC)  # Thursday 21:00 Tokyo
    s = stats(accounts=[acct(1, closed, packet_completed_at=done, tz="Asia/Tokyo")])
    assert s.packet_completion.value == 1.0
    bad = stats(accounts=[acct(1, closed, packet_completed_at=done, tz="Mars/Olympus")])
    assert bad.packet_completion.value == 0.0  # an unknown zone: the default (UTC)


def test_an_account_still_inside_its_two_days_is_not_counted_yet() -> None:
    s = compute_stats(Facts(START, MON + timedelta(days=1), (acct(1),)), UTCZ)
    assert s.packet_completion.n == 0


def test_packet_rating_is_the_last_ten_and_the_fields_missing_most() -> None:
    old = [RatingFact(i, 1, ("champion",), START + timedelta(days=i)) for i in range(5)]
    recent = [
        RatingFact(10 + i, 3, ("success_metric", "champion") if i < 4 else ("budget",), MON)
        for i in range(10)
    ]
    later = RatingFact(99, 1, (), END)  # after the window: not counted
    s = stats(ratings=[*old, *recent, later])
    assert s.packet_rating.value == 3.0 and s.packet_rating.n == 10
    assert s.missing_fields.top == (("budget", 6), ("champion", 4), ("success_metric", 4))
    assert [a.key for a in alerts(s)] == ["packet_rating"]
    assert alerts(stats(ratings=recent[:2])) == []  # fewer than 3 ratings: no alert
    assert [a.key for a in alerts(stats(ratings=recent[:3]))] == ["packet_rating"]
    assert alerts(stats(ratings=[RatingFact(1, 4, (), MON)] * 10)) == []


# --- first value ---------------------------------------------------------------------------
def test_time_to_first_value_and_the_30_day_eligibility() -> None:
    early = START - timedelta(days=20)  # its 30th day is in the window
    s = stats(
        accounts=[
            acct(1, MON, first_value_at=MON + timedelta(days=10)),
            acct(2, MON, first_value_at=MON + timedelta(days=40)),
            acct(3, END - timedelta(days=29)),  # not 30 days old at the end: not eligible
            acct(4, early, first_value_at=early + timedelta(days=30)),  # exactly 30: in time
            acct(5, early),
            acct(6, START - timedelta(days=31), first_value_at=START),  # 30th day before
        ]
    )
    assert s.first_value_days.value == 25.0 and s.first_value_days.n == 2
    assert (s.first_value_30d.count, s.first_value_30d.n) == (2, 4)
    assert s.first_value_30d.accounts == (1, 4)


# --- churn ---------------------------------------------------------------------------------
def _churns(mismatches: int, total: int, early: int | None = None) -> Stats:
    closed = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = [acct(i, closed) for i in range(total)]
    early = 0 if early is None else early
    outcomes = [
        churn(
            i,
            date(2026, 2, 1) if i < early else date(2027, 2, 1),
            "expectation_mismatch" if i < mismatches else "product_fit",
        )
        for i in range(total)
    ]
    # the early ones churned before the window: move them inside, 0-90 days after close
    accounts = [
        acct(i, datetime(2027, 1, 2, tzinfo=UTC)) if i < early else a
        for i, a in enumerate(accounts)
    ]
    outcomes = [
        churn(i, date(2027, 2, 1), o.reason) if i < early else o for i, o in enumerate(outcomes)
    ]
    return stats(accounts=accounts, outcomes=outcomes)


def test_churn_root_causes_and_the_mismatch_alert() -> None:
    s = _churns(mismatches=2, total=10)  # 20 %: not above
    assert s.churn_reasons["expectation_mismatch"].value == 0.2
    assert s.churn_reasons["product_fit"].value == 0.8
    assert s.churn_reasons["economic"].value == 0.0
    assert "unknown" not in s.churn_reasons
    assert alerts(s) == []
    s = _churns(mismatches=3, total=10)
    (alert,) = alerts(s)
    assert alert.key == "expectation_mismatch" and alert.value == 0.3 and alert.threshold == 0.2
    assert alert.accounts == (0, 1, 2) and alert.advice.endswith(".")


def test_no_churn_alert_below_five_churns() -> None:
    assert alerts(_churns(mismatches=4, total=4, early=4)) == []
    assert {a.key for a in alerts(_churns(mismatches=5, total=5, early=5))} == {
        "expectation_mismatch",
        "early_churn",
    }


def test_churn_timing_buckets_and_the_early_alert() -> None:
    s = _churns(mismatches=0, total=10, early=4)  # 40 %: not above
    assert s.churn_timing[EARLY].value == 0.4 and s.churn_timing[LATE].value == 0.6
    assert alerts(s) == []
    (alert,) = alerts(_churns(mismatches=0, total=10, early=5))
    assert alert.key == "early_churn" and alert.accounts == (0, 1, 2, 3, 4)


def test_churn_timing_edges() -> None:
    closed = datetime(2026, 1, 1, 12, tzinfo=UTC)
    days = [90, 91, 365, 366]
    s = stats(
        accounts=[acct(i, closed) for i in range(4)],
        outcomes=[churn(i, date(2026, 1, 1) + timedelta(days=d)) for i, d in enumerate(days)],
    )
    # only those effective in the window count
    effective = [date(2026, 1, 1) + timedelta(days=d) for d in days]
    assert [START.date() <= e < END.date() for e in effective] == [False, False, True, True]
    assert s.churn_timing[MIDDLE].count == 1 and s.churn_timing[LATE].count == 1
    start = date(2026, 1, 1)
    assert [churn_bucket(closed, start + timedelta(days=d)) for d in (-3, 0, *days)] == [
        EARLY,
        EARLY,
        EARLY,
        MIDDLE,
        MIDDLE,
        LATE,
    ]
    unknown = stats(outcomes=[churn(1, date(2027, 1, 1), None)]).churn_reasons["unknown"]
    assert unknown.value == 1.0


def test_icp_exceptions_churn_rate_and_ratio() -> None:
    closed = datetime(2026, 6, 1, tzinfo=UTC)
    accounts = [acct(i, closed, icp_exception=i < 4) for i in range(14)]
    outcomes = [
        churn(0, date(2027, 2, 1)),
        churn(1, date(2027, 2, 1)),
        churn(4, date(2027, 2, 1)),
        churn(5, date(2027, 2, 1)),
        churn(13, date(2026, 12, 1)),  # churned before the window: not live
    ]
    s = stats(accounts=accounts, outcomes=outcomes)
    assert (s.icp_churn.count, s.icp_churn.n, s.icp_churn.value) == (2, 4, 0.5)
    assert (s.non_icp_churn.count, s.non_icp_churn.n, s.non_icp_churn.value) == (2, 9, 0.222)
    assert s.icp_ratio.value == 2.25  # 0.5 / (2/9), from the unrounded rates


# --- milestones ----------------------------------------------------------------------------
def test_milestone_on_time_by_role_and_person_and_escalations() -> None:
    thu_9 = datetime(2027, 2, 4, 9, tzinfo=UTC)
    nudges = [
        NudgeFact(1, 1, "U_AE", "ae", MON, thu_9),  # on time (exactly)
        NudgeFact(1, 1, "U_CSM", "csm", MON, thu_9),
        NudgeFact(2, 1, "U_CSM", "csm", MON, thu_9 + timedelta(hours=1)),  # late
        NudgeFact(3, 2, None, "ops", MON, None),  # never done
        NudgeFact(4, 2, "U_CSM", "csm", END - timedelta(hours=1), None),  # not due yet
        NudgeFact(5, 2, "U_CSM", "csm", START - timedelta(days=1), START),  # before
    ]
    escalations = [
        EscalationFact(1, "U_CSM", MON),
        EscalationFact(1, "U_CSM", MON),
        EscalationFact(2, "U_AE", END),  # after the window
    ]
    s = stats(accounts=[acct(1), acct(2)], nudges=nudges, escalations=escalations)
    assert (s.milestone_on_time.count, s.milestone_on_time.n) == (1, 3)
    assert s.milestone_on_time_by_role["csm"].value == 0.5
    assert s.milestone_on_time_by_role["ae"].value == 1.0
    assert s.milestone_on_time_by_role["ops"].value == 0.0
    assert s.milestone_on_time_by_person["U_CSM"].n == 2
    assert s.milestone_on_time_by_person["unassigned"].n == 1
    assert s.escalations_by_person == {"U_CSM": 2}


# --- renewals, check-ins -----------------------------------------------------------------
def test_renewal_and_expansion_rate_per_model() -> None:
    accounts = [acct(1, model="A"), acct(2, model="A"), acct(3, model="B"), acct(4, model="B")]
    eff = date(2027, 3, 1)
    outcomes = [
        OutcomeFact(1, eff, "renewed", eff, None, Decimal("100000"), Decimal("115000")),
        OutcomeFact(2, eff, "renewed", eff, None, None, Decimal("50000")),  # prior unknown
        churn(3, eff),
        OutcomeFact(4, eff, "renewed", eff, None, Decimal("0.10"), Decimal("0.20")),
        OutcomeFact(4, date(2026, 3, 1), "renewed", date(2026, 3, 1)),  # before the window
    ]
    s = stats(accounts=accounts, outcomes=outcomes)
    assert s.renewal_by_model["A"].value == 1.0 and s.renewal_by_model["A"].n == 2
    assert s.renewal_by_model["B"].value == 0.5
    assert s.expansion_by_model["A"].value == 0.15 and s.expansion_by_model["A"].n == 1
    assert s.expansion_by_model["B"].value == 1.0


def test_checkin_mismatch_rate_per_ae() -> None:
    s = stats(
        checkins=[
            CheckinFact(1, "U_AE", True, MON),
            CheckinFact(1, "U_AE", False, MON),
            CheckinFact(1, "U_AE", False, MON),
            CheckinFact(2, None, True, MON),
            CheckinFact(2, "U_AE", True, END),
        ]
    )
    assert s.mismatch_by_ae["U_AE"].value == 0.333 and s.mismatch_by_ae["U_AE"].n == 3
    assert s.mismatch_by_ae["unassigned"].value == 1.0


def test_filter_facts_narrows_to_a_model_a_person_or_accounts() -> None:
    facts = Facts(
        START,
        END,
        accounts=(
            acct(1, model="A", ae_user_id="U1"),
            acct(2, model="B", csm_user_id="U1"),
            acct(3, model="B", ae_user_id="U2"),
        ),
        ratings=tuple(RatingFact(i, 4, (), MON) for i in (1, 2, 3)),
        checkins=tuple(CheckinFact(i, None, False, MON) for i in (1, 2, 3)),
    )
    assert [a.account_id for a in filter_facts(facts, model="b").accounts] == [2, 3]
    person = filter_facts(facts, person="U1")
    assert [r.account_id for r in person.ratings] == [1, 2]
    assert [c.account_id for c in person.checkins] == [1, 2]
    both = filter_facts(facts, model="B", person="U1")
    assert [a.account_id for a in both.accounts] == [2]
    assert filter_facts(facts, account_ids={3}).ratings == (RatingFact(3, 4, (), MON),)
    assert filter_facts(facts) == facts


# --- any facts -----------------------------------------------------------------------------
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 6, 1))
ids = st.integers(1, 6)
money = st.none() | st.decimals(0, 10**6, places=2)
any_facts = st.builds(
    Facts,
    st.just(START),
    st.just(END),
    accounts=st.lists(
        st.builds(
            AccountFacts,
            ids,
            st.text(max_size=3),
            st.sampled_from("ABCD"),
            moments,
            moments,
            st.none() | moments,
            st.none() | moments,
            st.none() | st.sampled_from(["U1", "U2"]),
            st.none() | st.sampled_from(["U1", "U3"]),
            st.booleans(),
            st.none() | st.sampled_from(["UTC", "Asia/Tokyo", "Nope/Zone", ""]),
        ),
        max_size=6,
    ).map(tuple),
    ratings=st.lists(
        st.builds(RatingFact, ids, st.integers(-1, 7), st.lists(st.text()).map(tuple), moments)
    ).map(tuple),
    outcomes=st.lists(
        st.builds(
            OutcomeFact,
            ids,
            days,
            st.sampled_from(["renewed", "churned", "odd"]),
            days,
            st.none() | st.sampled_from(["expectation_mismatch", "economic", "x"]),
            money,
            money,
        )
    ).map(tuple),
    nudges=st.lists(
        st.builds(
            NudgeFact,
            st.integers(1, 4),
            ids,
            st.none() | st.just("U1"),
            st.sampled_from(["ae", "csm"]),
            moments,
            st.none() | moments,
        )
    ).map(tuple),
    escalations=st.lists(st.builds(EscalationFact, ids, st.none() | st.just("U1"), moments)).map(
        tuple
    ),
    checkins=st.lists(
        st.builds(CheckinFact, ids, st.none() | st.just("U1"), st.booleans(), moments)
    ).map(tuple),
)


@given(any_facts)
def test_any_facts_give_rates_in_range_or_none(facts: Facts) -> None:
    s = compute_stats(facts, UTCZ, holidays={date(2027, 2, 2)})
    rates = [
        s.packet_completion,
        s.first_value_30d,
        s.icp_churn,
        s.non_icp_churn,
        s.milestone_on_time,
        *s.churn_reasons.values(),
        *s.churn_timing.values(),
        *s.milestone_on_time_by_role.values(),
        *s.milestone_on_time_by_person.values(),
        *s.renewal_by_model.values(),
        *s.mismatch_by_ae.values(),
    ]
    for rate in rates:
        assert (rate.value is None) == (rate.n == 0)
        assert rate.value is None or 0 <= rate.value <= 1
        assert 0 <= rate.count <= rate.n
    assert s.packet_rating.value is None or 1 <= s.packet_rating.value <= 5
    for measure in (s.packet_hours, s.first_value_days, s.icp_ratio):
        assert measure.value is None or measure.value >= 0
    assert all(m.value is None or m.value >= -1 for m in s.expansion_by_model.values())
    for alert in alerts(s):
        assert alert.value is not None and alert.advice
    for model in "ABCD":
        compute_stats(filter_facts(facts, model=model, person="U1"), UTCZ)


# --- storage -------------------------------------------------------------------------------
TEAM, OTHER = "T_STATS", "T_OTHER"


def _account(session: Session, team: str, crm: str, closed: datetime, **kw) -> Account:  # noqa: ANN003
    account = Account(
        team_id=team,
        crm_id=crm,
        name=crm,
        contract_start=closed.date(),
        renewal_date=date(2028, 1, 1),
        ae_email="ae@example.test",
        csm_email="csm@example.test",
        closed_at=closed,
        **{"ae_user_id": "U_AE", "csm_user_id": "U_CSM", **kw},
    )
    session.add(account)
    session.flush()
    return account


def _outbox(session: Session, team: str, account: Account, key: str, **kw) -> None:  # noqa: ANN003
    session.add(
        OutboxMessage(
            team_id=team,
            dedupe_key=key,
            account_id=account.id,
            channel=kw.pop("channel", "U_AE"),
            text="x",
            due_at=kw.get("sent_at") or MON,
            status=OutboxStatus.SENT if kw.get("sent_at") else OutboxStatus.PENDING,
            **kw,
        )
    )


def _seed(session: Session) -> dict[str, int]:
    session.add(Person(team_id=TEAM, user_id="U_AE", tz="Asia/Tokyo"))
    acme = _account(session, TEAM, "acme", MON, packet_completed_at=MON, retention_model="B")
    old = _account(session, TEAM, "old", datetime(2026, 1, 5, tzinfo=UTC), ae_user_id="U_OLD")
    _account(session, TEAM, "future", END + timedelta(days=1))
    other = _account(session, OTHER, "theirs", MON)
    session.add(Packet(team_id=TEAM, account_id=acme.id, answers={"icp_exception": ["yes"]}))
    session.add(Packet(team_id=TEAM, account_id=old.id, answers={"icp_exception": False}))
    for team, account in ((TEAM, acme), (OTHER, other)):
        session.add(
            PacketRating(
                team_id=team,
                account_id=account.id,
                rated_by="U_CSM",
                rating=3,
                missing=["champion"],
                created_at=MON,
            )
        )
    session.add(
        PacketRating(
            team_id=TEAM, account_id=old.id, rated_by="U", rating=5, missing=[], created_at=END
        )
    )
    for renewal, outcome, arr in (
        (date(2026, 1, 5), "renewed", "90000"),
        (date(2027, 1, 5), "renewed", "99000"),
    ):
        session.add(
            RenewalOutcome(
                team_id=TEAM,
                account_id=old.id,
                renewal_date=renewal,
                outcome=outcome,
                new_arr=Decimal(arr),
                effective_date=renewal,
                recorded_by="U",
                recorded_at=MON,
            )
        )
    session.add(
        RenewalOutcome(
            team_id=TEAM,
            account_id=acme.id,
            renewal_date=date(2027, 5, 1),
            outcome="churned",
            reason="economic",
            effective_date=date(2027, 5, 1),  # after the window
            recorded_by="U",
            recorded_at=MON,
        )
    )
    session.add(
        RenewalOutcome(
            team_id=OTHER,
            account_id=other.id,
            renewal_date=date(2027, 2, 1),
            outcome="churned",
            reason="economic",
            effective_date=date(2027, 2, 1),
            recorded_by="U",
            recorded_at=MON,
        )
    )
    ms = {}
    for key, team, account in (("in", TEAM, acme), ("early", TEAM, acme), ("o", OTHER, other)):
        milestone = Milestone(
            team_id=team,
            account_id=account.id,
            renewal_date=date(2028, 1, 1),
            key=key,
            title=key,
            due_date=MON.date(),
            owners=["ae", "csm"],
            done_at=MON + timedelta(days=1) if key == "in" else None,
            created_at=MON,
        )
        session.add(milestone)
        session.flush()
        ms[key] = milestone.id
    nudge = MessageKind.MILESTONE_NUDGE
    first = MON + timedelta(hours=1)
    _outbox(session, TEAM, acme, "n1", kind=nudge, milestone_id=ms["in"], round=0, sent_at=first)
    _outbox(
        session,
        TEAM,
        acme,
        "n2",
        kind=nudge,
        milestone_id=ms["in"],
        round=1,
        sent_at=MON + timedelta(days=3),
    )
    _outbox(session, TEAM, acme, "n3", kind=nudge, milestone_id=ms["in"], round=2)  # unsent
    _outbox(
        session,
        TEAM,
        acme,
        "n4",
        kind=nudge,
        milestone_id=ms["early"],
        round=0,
        sent_at=START - timedelta(days=1),
    )
    _outbox(session, OTHER, other, "n5", kind=nudge, milestone_id=ms["o"], round=0, sent_at=first)
    esc = MessageKind.MILESTONE_ESCALATION
    for manager in ("U_M1", "U_M2"):  # one escalation, two managers
        _outbox(
            session,
            TEAM,
            acme,
            f"e-{manager}",
            kind=esc,
            milestone_id=ms["in"],
            round=0,
            channel=manager,
            sent_at=MON + timedelta(days=2),
        )
    _outbox(session, TEAM, acme, "g", kind=MessageKind.GATE_ESCALATION, channel="U_M1", sent_at=MON)
    _outbox(
        session,
        TEAM,
        acme,
        "g-old",
        kind=MessageKind.GATE_ESCALATION,
        channel="U_M1",
        sent_at=START - timedelta(seconds=1),
    )
    _outbox(
        session, OTHER, other, "g", kind=MessageKind.GATE_ESCALATION, channel="U_M1", sent_at=MON
    )
    session.add(
        OwnershipEvent(
            team_id=TEAM,
            account_id=acme.id,
            at=MON + timedelta(days=10),
            cause="reassigned",
            ae_user_id="U_AE2",
            retention_model="B",
            commercial="ae",
        )
    )
    for number, (team, account, at) in enumerate(
        (
            (TEAM, acme, MON + timedelta(days=1)),
            (TEAM, acme, MON + timedelta(days=11)),
            (TEAM, acme, END),
            (OTHER, other, MON),
        )
    ):
        session.add(
            Checkin(
                team_id=team,
                account_id=account.id,
                number=number,
                submission_key=f"s{number}",
                logged_by="U_CSM",
                checkin_date=at.date(),
                summary="s",
                sentiment="good",
                mismatch=number == 1,
                created_at=at,
                updated_at=at,
            )
        )
    session.flush()
    return {"acme": acme.id, "old": old.id, **ms}


def test_stats_facts_reads_exactly_this_teams_window(db) -> None:  # noqa: ANN001
    made = db.run_sync(_seed)
    facts = db.run_sync(stats_facts, TEAM, START, END)
    acme, old = made["acme"], made["old"]
    assert [a.account_id for a in facts.accounts] == [acme, old]
    a = facts.accounts[0]
    assert (a.icp_exception, a.tz, a.retention_model, a.ae_user_id) == (
        True,
        "Asia/Tokyo",
        "B",
        "U_AE",
    )
    assert a.closed_at == MON and a.packet_completed_at == MON
    assert facts.accounts[1].icp_exception is False and facts.accounts[1].tz is None
    assert facts.ratings == (RatingFact(acme, 3, ("champion",), MON),)
    assert [(o.account_id, o.renewal_date, o.prior_arr, o.new_arr) for o in facts.outcomes] == [
        (old, date(2026, 1, 5), None, Decimal("90000")),
        (old, date(2027, 1, 5), Decimal("90000"), Decimal("99000")),
    ]
    done = MON + timedelta(days=1)
    assert facts.nudges == (
        NudgeFact(made["in"], acme, "U_AE", "ae", MON + timedelta(hours=1), done),
        NudgeFact(made["in"], acme, "U_CSM", "csm", MON + timedelta(hours=1), done),
    )
    assert sorted((e.user_id, e.kind, e.at) for e in facts.escalations) == [
        ("U_AE", "gate_escalation", MON),
        ("U_AE", "milestone_escalation", MON + timedelta(days=2)),
        ("U_CSM", "milestone_escalation", MON + timedelta(days=2)),
    ]
    assert facts.checkins == (
        CheckinFact(acme, "U_AE", False, MON + timedelta(days=1)),
        CheckinFact(acme, "U_AE2", True, MON + timedelta(days=11)),
    )
    s = compute_stats(facts, UTCZ)
    assert s.milestone_on_time.value == 1.0 and s.escalations_by_person == {"U_AE": 2, "U_CSM": 1}
    assert s.expansion_by_model == {"A": s.expansion_by_model["A"]}
    assert s.expansion_by_model["A"].value == 0.1
    assert db.run_sync(stats_facts, "T_NOBODY", START, END) == Facts(START, END)


def test_several_windows_read_at_once_are_each_as_read_alone(db) -> None:  # noqa: ANN001
    """The digest reads this week's facts and last week's in one pass; each window's are
    exactly what reading it alone gives, whatever the windows (overlapping, nested,
    apart, empty)."""
    db.run_sync(_seed)
    day = timedelta(days=1)
    windows = [
        (START, END),
        (START - 7 * day, END - 7 * day),
        (START + 3 * day, START + 4 * day),
        (END + 40 * day, END + 41 * day),
        (START - 400 * day, START - 300 * day),
        (MON + timedelta(hours=1), MON + timedelta(hours=1)),
    ]
    together = db.run_sync(stats_facts_of, TEAM, windows)
    assert together == [db.run_sync(stats_facts, TEAM, start, end) for start, end in windows]
    assert together[0].nudges and together[0].escalations and together[0].checkins
    assert db.run_sync(stats_facts_of, TEAM, []) == []
