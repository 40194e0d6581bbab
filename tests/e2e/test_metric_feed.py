"""POST /webhooks/metric: numbers pushed from where they live become check-ins (issue 14).

Sent over real HTTP to the workspace's URL from `/okr webhooks`, signed
`X-Okrbot-Signature: sha256=<hex HMAC of the body>` with the secret it shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from okrbot.store.models import CheckIn, KeyResult
from tests.e2e.harness import WEBHOOK_SECRET, RunningBot
from tests.e2e.test_tracker_webhooks import Hook, webhook_setup
from tests.e2e.test_webhooks import announcements

TEAM_CHANNEL = "CTEAM"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def send(bot: RunningBot, hook: Hook, payload: dict | None = None, *, body: bytes | None = None, secret: str | None = None) -> httpx.Response:
    body = json.dumps(payload).encode() if body is None else body
    signature = "sha256=" + hmac.new((secret or hook.secret).encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(f"{bot.url}{hook.path}", content=body, headers={"Content-Type": "application/json", "X-Okrbot-Signature": signature}, timeout=30)


def reading(kr: str, value: float, at: datetime, delivery: str | None = None, source: str = "dbt") -> dict:
    return {"kr": kr, "value": value, "at": at.isoformat().replace("+00:00", "Z"), "source": source, "delivery": delivery or str(uuid.uuid4())}


def current(bot: RunningBot, number: int, team: str = "T1") -> float | None:
    with bot.db.session_scope() as session:
        return session.exec(select(KeyResult.current).where(KeyResult.team_id == team, KeyResult.number == number)).one()


def history(bot: RunningBot, number: int, team: str = "T1") -> list[tuple[datetime, float, str]]:
    with bot.db.session_scope() as session:
        kr = session.exec(select(KeyResult.id).where(KeyResult.team_id == team, KeyResult.number == number)).one()
        rows = session.exec(select(CheckIn.at, CheckIn.value, CheckIn.author).where(CheckIn.kr_id == kr).order_by(CheckIn.at)).all()
    return [(at, value, author) for at, value, author in rows]


@pytest.fixture
def metric(bot, slack, client, okr) -> Hook:
    """KR-1 "Weekly active teams" 0 → 100 (team channel CTEAM), KR-2 a milestone KR; T1's metric URL."""
    okr.ok(f'objective add "Grow usage" team <#{TEAM_CHANNEL}|growth>')
    okr.ok('kr add O-1 "Weekly active teams" from 0 to 100')
    okr.ok('kr add O-1 "Launch steps" by initiatives')
    return webhook_setup(bot, slack, client)["metric"]


pytestmark = pytest.mark.usefixtures("valid_blockkit")


def test_a_reading_becomes_a_check_in_by_its_source_and_is_announced(bot, slack, okr, metric):
    response = send(bot, metric, reading("KR-1", 42, T0))
    assert response.status_code == 200 and response.json() == {"ok": True, "kr": "KR-1", "current": True}
    assert current(bot, 1) == 42
    assert history(bot, 1) == [(T0, 42.0, "dbt")]
    (announced,) = announcements(slack)
    assert "KR-1" in announced and "42%" in announced
    assert "dbt" in okr.ok("history KR-1").text


def test_a_redelivered_reading_is_applied_once(bot, slack, metric):
    payload = reading("KR-1", 42, T0, delivery="run-81")
    answers = [send(bot, metric, payload) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200] and answers[1].json()["duplicate"] is True
    assert len(history(bot, 1)) == 1 and len(announcements(slack)) == 1


def test_an_older_reading_is_kept_in_history_but_does_not_become_current(bot, slack, metric):
    send(bot, metric, reading("KR-1", 50, T0 + timedelta(days=2)))
    late = send(bot, metric, reading("KR-1", 30, T0))
    assert late.status_code == 200 and late.json()["current"] is False
    assert current(bot, 1) == 50
    assert [value for _, value, _ in history(bot, 1)] == [30.0, 50.0]
    assert len(announcements(slack)) == 1  # the late one moved nothing


def test_a_reading_without_time_or_delivery_is_now_and_the_same_body_is_one_delivery(bot, metric):
    body = json.dumps({"kr": "kr1", "value": 7}).encode()
    assert send(bot, metric, body=body).status_code == 200
    assert send(bot, metric, body=body).json()["duplicate"] is True
    assert current(bot, 1) == 7 and history(bot, 1)[0][2] == "feed"


def test_a_wrong_signature_is_401_and_records_nothing(bot, metric):
    assert send(bot, metric, reading("KR-1", 42, T0), secret="not-it").status_code == 401
    assert send(bot, metric, reading("KR-1", 42, T0), secret=WEBHOOK_SECRET).status_code == 401  # the shared secret is not this URL's
    assert history(bot, 1) == [] and current(bot, 1) == 0  # still its start


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        ({"kr": "KR-9", "value": 1}, 404, "KR-9"),
        ({"kr": "KR-2", "value": 1}, 422, "initiatives"),
        ({"kr": "O-1", "value": 1}, 400, '"KR-3"'),
        ({"kr": "KR-1", "value": "lots"}, 400, "number"),
        ({"kr": "KR-1", "value": 1, "at": "yesterday"}, 400, "ISO 8601"),
        ({"kr": "KR-1", "value": 1, "at": "2026-11-02T09:00:00"}, 400, "time zone"),
        ({"kr": "KR-1", "value": 1, "at": "2999-01-01T00:00:00Z"}, 400, "future"),
    ],
    ids=["unknown kr", "milestone kr", "not a kr", "not a number", "not a time", "no zone", "future"],
)
def test_a_reading_okrbot_cannot_use_is_refused_saying_why(bot, metric, payload, status, says):
    response = send(bot, metric, payload)
    assert response.status_code == status and says in response.json()["error"]
    assert history(bot, 1) == []


def test_an_unreadable_body_is_400_with_an_example(bot, metric):
    response = send(bot, metric, body=b"kr=KR-1&value=3")
    assert response.status_code == 400 and '{"kr": "KR-3", "value": 42' in response.json()["error"]


def test_the_shared_url_takes_the_only_workspace_or_the_one_named(bot, slack, metric):
    assert send(bot, Hook("/webhooks/metric", WEBHOOK_SECRET), reading("KR-1", 12, T0)).status_code == 200
    assert current(bot, 1) == 12


def test_a_thousand_readings_with_replays_and_late_arrivals_leave_exact_values_and_history(bot, okr, metric):
    """900 readings on 3 KRs, each `at` a different minute, sent in shuffled order (late ones
    come after newer ones) with 100 redeliveries mixed in, 4 senders at once."""
    okr.ok('kr add O-1 "Paying teams" from 0 to 500')
    okr.ok('kr add O-1 "Churned teams" from 40 to 10')
    krs = {"KR-1": 1, "KR-3": 3, "KR-4": 4}
    rng = random.Random(14)
    minutes = rng.sample(range(60 * 24 * 30), 900)
    readings = [reading(rng.choice(list(krs)), round(rng.uniform(0, 500), 2), T0 + timedelta(minutes=m)) for m in minutes]
    deliveries = readings + rng.sample(readings, 100)
    rng.shuffle(deliveries)

    with ThreadPoolExecutor(max_workers=4) as senders:
        answers = list(senders.map(lambda payload: send(bot, metric, payload), deliveries))

    assert [a.status_code for a in answers] == [200] * 1000
    assert sum(1 for a in answers if a.json().get("duplicate")) == 100
    for name, number in krs.items():
        mine = [r for r in readings if r["kr"] == name]
        newest = max(mine, key=lambda r: r["at"])
        assert current(bot, number) == newest["value"], name
        expected = sorted((datetime.fromisoformat(r["at"].replace("Z", "+00:00")), r["value"]) for r in mine)
        assert [(at, value) for at, value, _ in history(bot, number)] == expected, name
