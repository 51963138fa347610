"""Candles on a Dask cluster: a real ``distributed.LocalCluster`` (2 worker processes) against ``mtdata sandbox``
running in its own process. The lazy frame computes to exactly the pandas result, its partitions downloaded by the
workers, under one rate limit for the cluster, whole after a worker is killed midway; workers write the same dataset."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import mtdata
from mtdata.cli import SANDBOX_FILE, main
from mtdata.dask import remote
from mtdata.dask.cluster import LOOPBACK
from mtdata.errors import ValidationException
from mtdata.session import Session

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.timeout(120)

NOW = "2026-11-18T09:00:00Z"
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "BTCUSD"]
START, END = "2026-11-02", "2026-11-16"  # two weeks of M1: 14 daily partitions, 56 download tasks
TASKS = len(SYMBOLS) * 14


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``mtdata sandbox`` in a child process (clock on a Wednesday); what it writes to its sandbox.json."""
    data = tmp_path_factory.mktemp("sandbox")
    command = [sys.executable, "-m", "mtdata", "sandbox", "--data-dir", str(data), "--start", NOW]
    log = (data / "sandbox.log").open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (data / SANDBOX_FILE).exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.05)
        yield json.loads((data / SANDBOX_FILE).read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One LocalCluster of 2 worker processes for the module (leases of a lost worker expire in 3 s)."""
    import dask

    locks = {"distributed.scheduler.locks.lease-timeout": "3s",
             "distributed.scheduler.locks.lease-validation-interval": "1s"}  # fmt: skip
    with (
        dask.config.set(locks),
        distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, silence_logs=logging.WARNING,
                                 **LOOPBACK) as cluster,  # fmt: skip
        distributed.Client(cluster) as opened,
    ):
        yield opened


def _faults(server: dict[str, Any], route: str = "", body: dict | None = None) -> Any:
    with httpx.Client(base_url=server["url"], headers={"auth-token": server["token"]}, timeout=30) as http:
        if body is None:
            return http.get("/sandbox/faults").json()
        return http.post(f"/sandbox/faults/{route}", json=body).raise_for_status().json()


@pytest.fixture(scope="module")
def session(server: dict[str, Any]) -> Iterator[Session]:
    with mtdata.connect(server["token"], server["accountId"], url=server["url"], progress=False) as opened:
        yield opened


@pytest.fixture(scope="module")
def truth(session: Session) -> pd.DataFrame:
    """The pandas path's frame, in the test process."""
    return session.candles(SYMBOLS, "1m", START, END)


def _as_dataset(frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """``frame`` written to a dataset by the pandas path and read back."""
    mtdata.to_parquet(frame, folder)
    return mtdata.read_parquet(folder)


def _fetched(client: Any) -> dict[str, dict[str, int]]:
    return client.run(remote.stats)


def test_lazy_frame_computes_to_the_pandas_frame_on_the_workers(client: Any, session: Session,
                                                                 truth: pd.DataFrame) -> None:  # fmt: skip
    before = _fetched(client)
    ddf = session.candles(SYMBOLS, "1m", START, END, as_dask=True)
    assert ddf.npartitions == 14 and ddf.known_divisions
    assert ddf.divisions[:2] == (pd.Timestamp(START, tz="UTC"), pd.Timestamp("2026-11-03", tz="UTC"))
    assert ddf.divisions[-1] == pd.Timestamp(END, tz="UTC") - pd.Timedelta(milliseconds=1)
    pd.testing.assert_series_equal(ddf.dtypes, truth.dtypes)
    assert ddf.index.dtype == truth.index.dtype and ddf.index.name == "time"
    assert _fetched(client) == before  # nothing downloaded while building
    here = remote.stats()["partitions"]
    got = ddf.compute()
    pd.testing.assert_frame_equal(got, truth)
    assert remote.stats()["partitions"] == here  # the test process downloaded nothing
    after = _fetched(client)
    done = {worker: after[worker]["partitions"] - before.get(worker, {}).get("partitions", 0) for worker in after}
    assert sum(done.values()) == TASKS and all(done.values()), done  # both workers downloaded
    one_day = ddf.loc["2026-11-04":"2026-11-04 23:59"].compute()
    pd.testing.assert_frame_equal(one_day, truth.loc["2026-11-04"])
    weekly = session.candles(SYMBOLS, "1m", START, END, as_dask=True, partition="W")
    assert weekly.npartitions == 2


def test_without_a_cluster_dasks_threads_use_the_session_itself(session: Session, truth: pd.DataFrame) -> None:
    before = remote.stats()["partitions"]
    ddf = session.candles(SYMBOLS, "1m", START, "2026-11-04", as_dask=True)
    pd.testing.assert_frame_equal(ddf.compute(scheduler="threads"), truth.loc[:"2026-11-03"])
    assert remote.stats()["partitions"] == before + len(SYMBOLS) * 2  # downloaded in this process


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"limit": 10}, "limit"), ({"as_xarray": True}, "as_xarray"), ({"end": None}, "end"),
     ({"partition": "fortnight"}, "partition"), ({"as_dask": False, "partition": "W"}, "partition")],
)  # fmt: skip
def test_arguments_as_dask_cannot_take_are_refused_by_name(session: Session, kwargs: dict, argument: str) -> None:
    call = {"symbols": SYMBOLS, "timeframe": "1m", "start": START, "end": END, "as_dask": True} | kwargs
    with pytest.raises(ValidationException, match=argument):
        session.candles(**call)


def test_a_dask_frame_is_written_to_a_dataset_only(session: Session, tmp_path: Path) -> None:
    ddf = session.candles("EURUSD", "1m", START, "2026-11-03", as_dask=True)
    with pytest.raises(ValidationException, match="path"):
        mtdata.to_parquet(ddf, tmp_path / "one.parquet")
    assert list(tmp_path.iterdir()) == []


def test_the_token_stays_out_of_keys_reprs_and_logs(client: Any, session: Session, server: dict[str, Any]) -> None:
    token = server["token"]
    ddf = session.candles(["EURUSD", "NOPE"], "1m", START, "2026-11-03", as_dask=True)
    assert not [key for key in ddf.__dask_graph__() if token in str(key)]
    assert token not in repr(remote.Connection.of(session))
    with pytest.raises(ValidationException, match="symbols") as refused:
        ddf.compute()  # a task fails: Dask logs it with its arguments
    assert token not in str(refused.value)
    deadline = time.monotonic() + 10
    while "Compute Failed" not in (text := repr([*client.get_worker_logs().values(), client.get_scheduler_logs()])):
        assert time.monotonic() < deadline, "no worker logged the failed task"
        time.sleep(0.1)
    assert token not in text


def test_one_rate_limit_for_the_cluster_and_429s_waited_out(client: Any, server: dict[str, Any],
                                                            truth: pd.DataFrame) -> None:  # fmt: skip
    with mtdata.connect(server["token"], server["accountId"], url=server["url"], progress=False,
                        concurrency=2) as narrow:  # fmt: skip
        ddf = narrow.candles(SYMBOLS, "1m", START, END, as_dask=True)
        name = remote.semaphore_name(remote.Connection.of(narrow))
        _faults(server, "rate-limit", {"count": 6, "retryAfterSeconds": 0.3, "scope": "rest"})
        got = ddf.compute()
    pd.testing.assert_frame_equal(got, truth)
    assert _faults(server)["rateLimits"] == []  # every 429 was answered, and waited out

    def semaphore(dask_scheduler: Any, name: str) -> tuple[int, int]:
        extension = dask_scheduler.extensions["semaphores"]
        return extension.max_leases[name], extension.metrics["acquire_total"][name]

    slots, leases = client.run_on_scheduler(semaphore, name=name)
    assert slots == 2 and leases == TASKS  # every download task of both workers held one of the 2 leases


def test_workers_write_the_dataset_of_the_pandas_path(client: Any, session: Session, truth: pd.DataFrame,
                                                      tmp_path: Path) -> None:  # fmt: skip
    mtdata.to_parquet(truth, tmp_path / "pandas")
    mtdata.to_parquet(truth.loc[: "2026-11-08"], tmp_path / "dask")  # the first week by pandas, then appended
    ddf = session.candles(SYMBOLS, "1m", "2026-11-06", END, as_dask=True)
    mtdata.to_parquet(ddf, tmp_path / "dask")
    files = sorted(path.relative_to(tmp_path / "pandas") for path in (tmp_path / "pandas").rglob("*.*"))
    assert files == sorted(path.relative_to(tmp_path / "dask") for path in (tmp_path / "dask").rglob("*.*"))
    assert not [path for path in (tmp_path / "dask").iterdir() if path.name.startswith(".")]  # staging removed
    for name in files:
        pandas_part = pd.read_parquet(tmp_path / "pandas" / name)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / name), pandas_part)
    pd.testing.assert_frame_equal(mtdata.read_parquet(tmp_path / "dask"), mtdata.read_parquet(tmp_path / "pandas"))


def test_a_refused_dask_write_changes_nothing(client: Any, session: Session, tmp_path: Path) -> None:
    ddf = session.candles(["EURUSD"], "1m", START, "2026-11-04", as_dask=True)
    mtdata.to_parquet(ddf, tmp_path / "data")
    before = {path: path.stat().st_mtime_ns for path in (tmp_path / "data").rglob("*")}
    with pytest.raises(ValidationException, match="timeframe"):
        mtdata.to_parquet(ddf, tmp_path / "data", timeframe="5m")
    with pytest.raises(ValidationException, match="disagrees"):  # a resample keeps attrs['timeframe']
        mtdata.to_parquet(ddf.map_partitions(lambda part: part[part.index.minute % 5 == 0]), tmp_path / "data")
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "data").rglob("*")} == before
    with pytest.raises(ValidationException, match="timeframe"):
        mtdata.to_parquet(ddf, tmp_path / "new", timeframe="1h")
    assert not (tmp_path / "new").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValidationException, match="something else"):  # checked on a worker, before any work
        mtdata.to_parquet(ddf, tmp_path / "other")
    assert [path.name for path in (tmp_path / "other").iterdir()] == ["notes.txt"]


def test_export_on_the_cluster_writes_the_pandas_dataset(
    client: Any, server: dict[str, Any], truth: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = truth[truth["symbol"].isin(["EURUSD", "BTCUSD"])]
    args = ["export", "--symbols", "EURUSD,BTCUSD", "--start", START, "--end", "2026-11-05", "--out",
            str(tmp_path / "out"), "--url", server["url"], "--token", server["token"], "--account-id",
            server["accountId"]]  # fmt: skip
    assert main([*args, "--dask", client.scheduler.address]) == 0
    wanted = two.loc[: "2026-11-04"]
    assert f"wrote {len(wanted):,} 1m candles" in capsys.readouterr().out
    pd.testing.assert_frame_equal(mtdata.read_parquet(tmp_path / "out"), _as_dataset(wanted, tmp_path / "pandas"))


def test_export_on_a_local_cluster_of_its_own(server: dict[str, Any], truth: pd.DataFrame, tmp_path: Path) -> None:
    args = ["export", "--symbols", "GBPUSD", "--start", "2026-11-05", "--end", "2026-11-06", "--out",
            str(tmp_path / "out"), "--url", server["url"], "--token", server["token"], "--account-id",
            server["accountId"], "--workers", "1"]  # fmt: skip
    assert main(args) == 0
    day = truth[truth["symbol"] == "GBPUSD"].loc["2026-11-05"]
    pd.testing.assert_frame_equal(mtdata.read_parquet(tmp_path / "out"), _as_dataset(day, tmp_path / "pandas"))


def test_export_refuses_a_cluster_of_no_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--symbols", "EURUSD", "--start", START, "--out", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_workers_use_the_cache_the_session_names(client: Any, server: dict[str, Any], truth: pd.DataFrame,
                                                tmp_path: Path) -> None:  # fmt: skip
    with mtdata.connect(server["token"], server["accountId"], url=server["url"], progress=False,
                        cache=tmp_path) as cached:  # fmt: skip
        ddf = cached.candles(SYMBOLS, "1m", START, "2026-11-04", as_dask=True)
        first = ddf.compute()
        stored = sorted(tmp_path.rglob("*.parquet"))
        assert len(stored) >= len(SYMBOLS) * 2  # written by the workers: this process downloaded nothing
        _faults(server, "rate-limit", {"count": 1, "retryAfterSeconds": 60, "scope": "rest"})
        try:
            again = ddf.compute()
            assert _faults(server)["rateLimits"][0]["count"] == 1  # no request reached the server
        finally:
            httpx.delete(server["url"] + "/sandbox/faults", headers={"auth-token": server["token"]})
    pd.testing.assert_frame_equal(first, truth.loc[:"2026-11-03"])
    pd.testing.assert_frame_equal(again, first)
    assert sorted(tmp_path.rglob("*.parquet")) == stored


def test_a_worker_killed_midway_loses_and_repeats_nothing(client: Any, session: Session, server: dict[str, Any],
                                                          truth: pd.DataFrame) -> None:  # fmt: skip
    ddf = session.candles(SYMBOLS, "1m", START, END, as_dask=True)
    _faults(server, "delay", {"seconds": 0.2, "scope": "rest", "count": 40})  # downloads in flight for a while
    future = client.compute(ddf)
    deadline = time.monotonic() + 30
    while not any(client.processing().values()):
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.02)
    busy = next(worker for worker, keys in client.processing().items() if keys)
    os.kill(client.run(os.getpid, workers=[busy])[busy], signal.SIGKILL)
    got = future.result(timeout=90)
    assert busy not in client.scheduler_info()["workers"]  # the worker did die midway
    pd.testing.assert_frame_equal(got, truth)
    assert not got.reset_index().duplicated(["time", "symbol"]).any()
