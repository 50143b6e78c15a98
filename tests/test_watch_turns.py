"""The track watch runs in every process of the server; two rounds at once raise a finding once, not once each."""

import threading
import time
from datetime import time as clock
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.findings import service as findings_service
from api.models.findings import Finding, FindingKind
from api.roads.travel import SameTravel
from api.tracks.watch import watch_round
from routing.matrix import GreatCircle
from tests.factories import make_team
from tests.sheets.test_day_under_way import Morning


def test_two_processes_watching_at_once_tell_a_team_running_late_once(
    client: TestClient,
    app: FastAPI,
    session: Session,
    time_machine: TimeMachineFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = Morning(client, app, session, time_machine)
    make_team(session, day.branch, work_date=day.work_date)  # a team to take what the late one misses
    day.at(clock(15, 30))  # nothing visited yet: eight stops no longer fit before 18:00
    publish = findings_service.publish_for_team

    def slowly(*args: Any, **kwargs: Any) -> Any:  # a round that takes a while between its look and its write
        time.sleep(0.5)
        return publish(*args, **kwargs)

    monkeypatch.setattr(findings_service, "publish_for_team", slowly)
    rounds = [
        threading.Thread(
            target=watch_round, args=(app.state.sessionmaker, timedelta(minutes=30), SameTravel(GreatCircle("driving")))
        )
        for _ in range(2)
    ]

    for each in rounds:
        each.start()
    for each in rounds:
        each.join(timeout=60)

    told = select(func.count()).select_from(Finding).where(Finding.kind == FindingKind.TEAM_RUNNING_LATE)
    session.expire_all()
    assert session.scalar(told) == 1
