"""``when_done``: an agent reacts to an event once, whether it is still to come or past."""

from __future__ import annotations

import simpy

from agents.callbacks import when_done


def test_an_event_still_to_come_calls_back_once_when_processed_in_attach_order() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float, object]] = []
    done = env.timeout(3, value="delivered")
    when_done(done, lambda e: seen.append(("first", env.now, e.value)))
    when_done(done, lambda e: seen.append(("second", env.now, e.value)))
    env.run()
    assert seen == [("first", 3, "delivered"), ("second", 3, "delivered")]


def test_an_event_already_processed_calls_back_at_once_with_its_value() -> None:
    env = simpy.Environment()
    done = env.timeout(1, value="failed")
    env.run()
    seen: list[object] = []
    when_done(done, lambda e: seen.append((env.now, e.value)))
    assert seen == [(1, "failed")]
