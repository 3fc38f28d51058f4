"""Password hashing runs on the slow-work threads (http_defer), not on the
HTTP threads: a burst of logins must not hold up other requests, and a
shutdown in the middle of one still answers every parked request."""

import threading
import time

import requests

from conftest import TEST_PASSWORD

ONE_OF_EACH = {"SHEAF_WORKERS": "1", "SHEAF_PASSWORD_CONCURRENCY": "1"}


def start_logins(srv, email, n):
    """n logins at once; returns (threads, results, finished-at list)."""
    results, finished = [], []
    lock = threading.Lock()

    def go():
        r = requests.post(srv.url + "/api/auth/login", timeout=60,
                          json={"email": email, "password": TEST_PASSWORD})
        with lock:
            results.append(r.status_code)
            finished.append(time.monotonic())

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, results, finished


def test_logins_do_not_block_other_requests(sheaf_factory):
    # One HTTP thread and one hashing thread: if hashing ran on the HTTP
    # thread, /health would queue behind every login sent before it.
    srv = sheaf_factory.start(env=ONE_OF_EACH)
    email = srv.user.email
    n = 8
    threads, results, finished = start_logins(srv, email, n)
    time.sleep(0.05)   # let the logins arrive first
    health = srv.get("/health")
    health_done = time.monotonic()
    me = srv.user.get("/api/users/me")
    for t in threads:
        t.join()
    assert health.status_code == 200
    assert me.status_code == 200
    assert results == [200] * n
    done_before = sum(1 for f in finished if f < health_done)
    assert done_before < n, "every login finished before /health was answered"


def test_shutdown_answers_parked_requests(sheaf_factory):
    srv = sheaf_factory.start(env=ONE_OF_EACH)
    email = srv.user.email
    threads, results, _ = start_logins(srv, email, 6)
    time.sleep(0.1)
    rc = srv.stop()
    for t in threads:
        t.join()
    assert rc == 0
    # Every login that reached the server got its answer; none was dropped.
    assert results and all(code == 200 for code in results), results
