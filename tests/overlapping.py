"""Two transactions at once, the second started while the first holds what it wrote: the
shape of the tests that show a lock makes the second wait for the first's commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def second_waits_for_first(
    first: Callable[[Callable[[], None]], None], second: Callable[[], None]
) -> None:
    """Run ``first`` in a thread until it calls the pause it is given (inside its open
    transaction), then ``second`` in another; assert the second is still waiting half a
    second on, let the first go on to its commit, and join both. An exception in either
    thread is raised here."""
    first_in, let_go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def pause() -> None:
        first_in.set()
        let_go.wait(10)

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as e:  # reported by the test's thread
            failures.append(e)
        finally:
            first_in.set()

    one = threading.Thread(target=run, args=(lambda: first(pause),))
    two = threading.Thread(target=run, args=(second,))
    one.start()
    assert first_in.wait(10)
    two.start()
    time.sleep(0.5)  # the second is waiting now
    waited = two.is_alive()
    let_go.set()
    for t in (one, two):
        t.join(30)
    assert not failures, failures
    assert waited, "the second transaction did not wait for the first"
