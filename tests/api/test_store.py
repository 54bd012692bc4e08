"""The store's methods, on SQLite and on PostgreSQL alike (``db`` is each in turn)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from backend.services.jsontext import dumps
from backend.services.store import Store, client_key, is_postgres, now_iso, open_store

pytestmark = pytest.mark.both_stores


@pytest.fixture
def store(db):
    store = open_store(db)
    yield store
    store.close()


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")


DOC = {"status": "idle", "spec": {"hidden": [3]}, "training": {"epoch": 2, "history": {}},
       "weights": [0.1, -0.0, 1e308, 5e-324, 123456789012345678901234567890, 1.0],
       "name": "zürich \u2603 \"quoted\"", "replaced_by": None}


def test_open_store_picks_the_database_the_db_names(db, store):
    assert isinstance(store, Store)
    assert type(store).__name__ == ("PostgresStore" if is_postgres(db) else "SQLiteStore")
    assert store.integrity() == "ok"


def test_a_document_comes_back_exactly_as_it_was_saved(store):
    created = now_iso()
    store.save("n1", "hash", DOC, created, created, data={"x": [[0.5, 1]], "y": [1]},
               client="10.0.0.1")
    token_hash, doc, created_at, updated_at = store.load("n1")
    assert (token_hash, created_at, updated_at) == ("hash", created, created)
    assert doc == {**DOC, "data": {"x": [[0.5, 1]], "y": [1]}}
    assert dumps(doc) == dumps({**DOC, "data": {"x": [[0.5, 1]], "y": [1]}})  # order, types
    assert json.dumps(doc["weights"][1]) == "-0.0" and isinstance(doc["weights"][2], float)
    assert store.load("missing") is None


def test_later_saves_change_the_document_and_keep_the_data_client_and_parent(store):
    store.save("n1", "hash", DOC, ago(1), ago(1), data={"x": [1]}, client="a", parent="p")
    later = now_iso()
    store.save("n1", "hash", dumps({**DOC, "status": "trained"}), ago(1), later)
    _, doc, _, updated_at = store.load("n1")
    assert doc["status"] == "trained" and doc["data"] == {"x": [1]} and updated_at == later
    assert store.forks("p", 10) == ["n1"]
    assert store.created_by("a", ago(2)) == 1
    # a first save again (an import over the same id) replaces the row whole
    store.save("n1", "other", DOC, ago(1), later, data={"x": [2]}, client="b")
    assert store.load("n1")[0] == "other" and store.load("n1")[1]["data"] == {"x": [2]}
    assert store.created_by("a", ago(2)) == 0 and store.created_by("b", ago(2)) == 1


def test_forks_are_the_last_changed_not_replaced_ones(store):
    for i in range(5):
        store.save(f"f{i}", "h", {**DOC, "replaced_by": "x" if i == 3 else None},
                   ago(1), ago(1 - i / 10), data={}, parent="p")
    store.save("other", "h", DOC, ago(1), ago(0), data={}, parent="q")
    assert store.forks("p", 3) == ["f4", "f2", "f1"]
    assert store.forks("p", 10) == ["f4", "f2", "f1", "f0"]
    assert store.forks("nobody", 10) == []


def test_the_hourly_count_is_by_client_hash_and_time(store):
    for i, (client, days) in enumerate((("a", 0), ("a", 0.01), ("a", 2), ("b", 0))):
        store.save(f"n{i}", "h", DOC, ago(days), ago(days), data={}, client=client)
    store.save("n9", "h", DOC, ago(0), ago(0), data={})
    assert store.created_by("a", ago(1 / 24)) == 2
    assert store.created_by("b", ago(1 / 24)) == 1
    assert store.created_by("c", ago(1 / 24)) == 0
    assert client_key("a") != "a" and len(client_key("a")) == 32  # the address is not kept


def test_pruning_follows_the_rule_and_spares_those_kept(store):
    ages = {"old": (31, None), "replaced": (3, "x"), "recent": (29, None),
            "fresh_replaced": (1, "x"), "kept": (400, None)}
    for name, (days, replaced_by) in ages.items():
        store.save(name, "h", {**DOC, "replaced_by": replaced_by}, ago(400), ago(400),
                   data={})
        store.touch(name, ago(days))
    assert store.prune(ago(30), ago(2), keep={"kept"}) == 2
    assert {n for n in ages if store.load(n) is not None} == {"recent", "fresh_replaced",
                                                              "kept"}
    assert store.count() == 3
    assert store.prune(ago(30), ago(2), keep={"kept"}) == 0


def test_touch_delete_count_and_size(store):
    empty = store.size()
    assert store.count() == 0 and empty >= 0
    for i in range(20):
        store.save(f"n{i}", "h", DOC, ago(0), ago(0), data={"x": list(range(2000 + i))})
    assert store.count() == 20 and store.size() > empty
    store.touch("n0", ago(40))
    assert store.prune(ago(30), ago(2), set()) == 1
    assert store.delete("n1") and not store.delete("n1")
    assert store.count() == 18


def test_many_threads_at_once(store):
    def work(t: int) -> None:
        for i in range(20):
            store.save(f"t{t}-{i}", "h", DOC, now_iso(), now_iso(), data={}, client=str(t))
            assert store.load(f"t{t}-{i}") is not None

    threads = [threading.Thread(target=work, args=(t,)) for t in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 240 and store.created_by("3", ago(1)) == 20


def test_a_store_opened_again_finds_everything(db, store):
    store.save("n1", "h", DOC, ago(0), ago(0), data={"x": [1]}, parent="p")
    second = open_store(db)  # a restart, or another replica on the same database
    try:
        assert second.load("n1")[1] == store.load("n1")[1]
        assert second.forks("p", 5) == ["n1"]
        second.save("n2", "h", DOC, ago(0), ago(0), data={})
        assert store.count() == 2
    finally:
        second.close()


def test_without_postgresql_its_tests_skip_unless_it_is_required(monkeypatch):
    from tests.pgserver import REQUIRE, unavailable

    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        unavailable("PostgreSQL's programs are not installed")
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE}=1"):
        unavailable("PostgreSQL's programs are not installed")


def test_processes_opening_a_new_sqlite_file_at_once_all_start(tmp_path):
    """The Ray engine's hosts open the file together: one makes the table and its columns,
    the others find them made (not 'duplicate column name')."""
    import subprocess
    import sys

    from tests.conftest import REPO

    for round_ in range(10):  # a race: each round may catch it
        path = tmp_path / f"shared-{round_}.db"
        code = ("import sys; from backend.services.store_sqlite import SQLiteStore; "
                "SQLiteStore(sys.argv[1]).close()")
        opening = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=REPO,
                                    stderr=subprocess.PIPE) for _ in range(4)]
        for process in opening:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err.decode()[-500:]
