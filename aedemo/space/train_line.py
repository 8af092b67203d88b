"""The Space's line of Train runs: one trains at a time, the others wait their turn in the order they came.

Gradio's queue did this before (the Train event's concurrency limit of 1), but a run waiting there could not be
reached: Stop could only leave a note for it, read when its turn came, and until then the visitor's Train button
stayed greyed out behind someone else's run of up to two minutes. Here a waiting run is its handler, waiting on
this line: Stop takes it out at once, and while it waits it can tell its visitor how many runs are ahead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Runs that may wait behind the one training. Each waiting run is a handler that Gradio counts as running, so the
# cap is this line's: a caller without a page (gradio_client, /call/train) could otherwise line up runs of up to
# 120 s each for hours.
MAX_RUNS_WAITING = 8


@dataclass(eq=False)  # places compare by identity: list.remove and index find this run's, not an equal one
class Place:
    """One run's place in the line."""

    session: str | None
    started: bool = False  # its turn came and it began to train: Stop stops it rather than cancelling it
    cancelled: bool = False  # Stop was pressed before it started: it leaves the line untrained


class LineRefused(Exception):
    """A run the line will not take; the message says why, for the visitor."""


def refusal(in_line: list[str | None], session: str | None) -> str | None:
    """Why a run may not join the line, given the sessions of the runs in it, the first one's training (None: it
    may): a second one from a session with one in the line already, or any while MAX_RUNS_WAITING wait. (A second run
    of a session would start from the session's models as they were before its first run's model joined them: that
    model was dropped, and the second took its name.)"""
    if session is not None and session in in_line:
        return "A run of yours is already training or waiting for its turn: press Train again once it has ended."
    waiting = len(in_line[1:])
    if waiting >= MAX_RUNS_WAITING:
        return f"{waiting} runs are waiting to train on this Space: try again in a few minutes."
    return None


class TrainingLine:
    """Runs in the order they joined; the first one's turn is now. Thread-safe: Gradio runs each handler's steps
    on worker threads."""

    PRESS_SECONDS = 30.0  # how long a press of Train is expected to take to reach the line (a press that never
    # reaches it, its run refused by Gradio's validator, leaves its record: it must not cancel a run pressed later)

    def __init__(self) -> None:
        self._places: list[Place] = []
        self._pressed: dict[str, list] = {}  # session -> [when Train was pressed, cancelled since], until its run joins
        self._changed = threading.Condition()

    def sessions_waiting(self) -> list[str | None]:
        """The sessions of the runs waiting behind the first one."""
        with self._changed:
            return [p.session for p in self._places[1:]]

    def why_refused(self, session: str | None) -> str | None:
        """refusal() for a run of `session` joining now."""
        with self._changed:
            return refusal([p.session for p in self._places], session)

    def expect(self, session: str | None) -> None:
        """Train was pressed in `session`: its run is on its way (Gradio's steps before the run's handler take a
        round trip or two), and a Stop pressed meanwhile cancels it. It found nothing to stop, and the run trained.

        Said again for the same run (the press, then the run's validator, which is all an API call goes through),
        the first record stands: a Stop pressed in between is not forgotten."""
        if session is not None:
            with self._changed:
                pressed = self._pressed.get(session)
                if not pressed or time.monotonic() - pressed[0] >= self.PRESS_SECONDS:
                    self._pressed[session] = [time.monotonic(), False]

    def forget(self, session: str | None) -> None:
        """The run of the session's press will not come (refused: its settings, or by the line): a Stop pressed
        next has no run on its way to cancel."""
        with self._changed:
            self._pressed.pop(session, None)

    def join(self, session: str | None) -> Place:
        """A place at the end of the line, or LineRefused with why_refused()'s message. A run cancelled on its way
        gets a place that is not in the line, cancelled."""
        with self._changed:
            why = self.why_refused(session)
            if why:
                raise LineRefused(why)
            place = Place(session)
            pressed = self._pressed.pop(session, None) if session is not None else None
            if pressed and pressed[1] and time.monotonic() - pressed[0] < self.PRESS_SECONDS:
                place.cancelled = True
            else:
                self._places.append(place)
            return place

    def wait(self, place: Place, timeout: float) -> int:
        """Wait up to `timeout` seconds for `place`'s turn, or its cancelling: the number of runs ahead of it then
        (0: its turn, or it is cancelled; see `place.cancelled`)."""
        with self._changed:
            self._changed.wait_for(lambda: place.cancelled or self._ahead(place) == 0, timeout)
            return 0 if place.cancelled else self._ahead(place)

    def start(self, place: Place) -> bool:
        """Mark the run started, if its turn has come and no Stop cancelled it (False: it must not train)."""
        with self._changed:
            if place.cancelled or self._ahead(place) != 0:
                return False
            place.started = True
            return True

    def cancel(self, session: str | None) -> tuple[bool, bool]:
        """Stop, for the line: cancel the session's runs that have not started, those on their way to it included.
        Returns (whether any was cancelled, whether a run of the session has started: the caller stops that one)."""
        with self._changed:
            mine = [p for p in self._places if p.session == session and not p.started]
            for p in mine:
                p.cancelled = True
                self._places.remove(p)
            pressed = self._pressed.get(session) if session is not None else None
            on_its_way = bool(pressed) and time.monotonic() - pressed[0] < self.PRESS_SECONDS
            if on_its_way:
                pressed[1] = True
            self._changed.notify_all()
            started = any(p.session == session and p.started for p in self._places)
            return bool(mine) or on_its_way, started

    def leave(self, place: Place) -> None:
        """The run is over (trained, cancelled, or its visitor gone): the next one's turn comes."""
        with self._changed:
            if place in self._places:
                self._places.remove(place)
            self._changed.notify_all()

    def _ahead(self, place: Place) -> int:
        return self._places.index(place) if place in self._places else 0
