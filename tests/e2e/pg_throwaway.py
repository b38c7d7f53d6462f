"""A throwaway PostgreSQL 15 cluster of a test's own (initdb as `postgres`, trust authentication
on 127.0.0.1 only, stopped with `-m immediate` and removed at the end), for the fault rounds that
need a superuser or a cluster laid out on a small volume: test_reliability_disk_full_postgres.py
(data files on a full tablespace) and test_reliability_wal_full_postgres.py (the WAL on a full
volume). Needs root (initdb refuses root, so it runs as `postgres` through runuser) and
PostgreSQL's server binaries; without them the caller is skipped with a loud warning."""
import contextlib
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import free_port

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def skip(why, test):
    print("\n" + "*" * 78 + f"\nWARNING: {why}: the {test} is SKIPPED\n" + "*" * 78)
    pytest.skip(why)


def as_postgres(*args, timeout=120):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, cwd="/", timeout=timeout)


def require_root_and_initdb(test):
    if os.geteuid() != 0 or not os.path.exists(os.path.join(PG_BIN, "initdb")):
        skip("needs root and PostgreSQL's initdb", test)


@contextlib.contextmanager
def small_tmpfs(size, test, prefix="enlace-pg-small-"):
    """A tmpfs of `size` (e.g. "16m") owned by `postgres`; unmounted and removed afterwards."""
    mount = tempfile.mkdtemp(prefix=prefix)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mount)
        skip(f"cannot mount a tmpfs ({r.stderr.strip()})", test)
    try:
        shutil.chown(mount, "postgres", "postgres")
        yield mount
    finally:
        subprocess.run(["umount", "-l", mount], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)


class Cluster:
    """One throwaway cluster: `start()`, `stop()`, `psql(sql)` as the superuser, `log()`."""

    def __init__(self, directory, port):
        self.directory = directory
        self.port = port
        self.data = os.path.join(directory, "data")
        self.log_path = os.path.join(directory, "server.log")

    def pg_ctl(self, *args, timeout=60):
        return as_postgres(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, *args, timeout=timeout)

    def start(self):
        r = self.pg_ctl("-l", self.log_path, "-w", "-t", "30", "start")
        assert r.returncode == 0, r.stdout + r.stderr + self.log()[-2000:]

    def running(self):
        return self.pg_ctl("status").returncode == 0

    def stop(self):
        self.pg_ctl("-m", "immediate", "-w", "-t", "30", "stop")

    def psql(self, sql, database="postgres"):
        r = as_postgres(os.path.join(PG_BIN, "psql"), "-q", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-c", sql, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout.strip()

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""


@contextlib.contextmanager
def throwaway_cluster(initdb_args=(), settings=""):
    """initdb (with `initdb_args`), the settings appended to postgresql.conf, started; stopped and
    removed at the end."""
    directory = tempfile.mkdtemp(prefix="enlace-pg-cluster-")
    shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    started = False
    try:
        r = as_postgres(os.path.join(PG_BIN, "initdb"), "-D", cluster.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                        "--locale=C", *initdb_args)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(os.path.join(cluster.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {cluster.port}\nunix_socket_directories = '{directory}'\n"
                    "fsync = on\nsynchronous_commit = on\nshared_buffers = 16MB\nmax_connections = 40\n" + settings)
        cluster.start()
        started = True
        yield cluster
    finally:
        if started:
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
