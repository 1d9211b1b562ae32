"""Serve CPC Monitor to more people: several Streamlit processes behind nginx, with sticky
sessions, started and stopped by one command (docs/deployment.md).

    python deploy/serve.py [--processes 3] [--port 8080] [--listen 127.0.0.1] [--db PATH]

It writes nginx's configuration from deploy/nginx.conf.template into a run folder, starts
the Streamlit processes on loopback ports and nginx in the foreground, prints the address,
and stops them all on Ctrl-C (or when one of them dies). Requires Debian's nginx
(`apt-get install nginx`).

Without sign-in, every page is read-only behind the proxy: the write guard
(cpc_monitor/app/access.py) sees nginx's forwarding headers, and imports go through the
command line on the server. With sign-in (an [auth] section in .streamlit/secrets.toml),
editors and admins named in the roles file write through the proxy too."""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpc_monitor import serving as serving_  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = "nginx"
MAX_BODY = "300m"  # above the app's largest accepted upload (CPC_LIMIT_CSV_BYTES, 250 MB)


def nginx_config(run: Path, listen: str, app_ports: Sequence[int], max_body: str = MAX_BODY) -> str:
    """nginx.conf for `app_ports` (Streamlit on 127.0.0.1) behind `listen` ("127.0.0.1:8080")."""
    numbered = list(enumerate(app_ports, start=1))
    fields = {
        "RUN": str(run), "LISTEN": listen, "MAX_BODY": max_body,
        "UPSTREAM_SERVERS": "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in app_ports),
        "PROCESS_UPSTREAMS": "\n".join(f"    upstream cpc_{n} {{ server 127.0.0.1:{port} max_fails=0; }}"
                                       for n, port in numbered),
        "ROUTES": "\n".join(f'        "{n}" cpc_{n};' for n, _ in numbered),
        "NEW_ROUTE_COOKIES": "\n".join(f'        "cpc_new 127.0.0.1:{port}" "cpc_route={n}; Path=/; HttpOnly; SameSite=Lax";'
                                       for n, port in numbered),
    }
    text = TEMPLATE.read_text()
    for name, value in fields.items():
        text = text.replace(f"@{name}@", value)
    left = re.search(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError(f"{TEMPLATE} has a field serve.py does not fill: {left.group()}")
    return text


def allowed_hosts(extra: Sequence[str]) -> list[str]:
    """The project's server.allowedHosts (.streamlit/config.toml) plus `extra` names."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    names = list(config.get("server", {}).get("allowedHosts", []))
    return names + [n for n in extra if n not in names]


@dataclass
class Deployment:
    url: str  # where browsers go: nginx
    run: Path  # the run folder: nginx.conf, logs
    app_pids: list[int] = field(default_factory=list)  # the Streamlit processes
    nginx_pid: int | None = None


@contextlib.contextmanager
def serving(processes: int = 3, port: int = 8080, listen_host: str = "127.0.0.1", db: str | None = None,
            run: Path | None = None, host_names: Sequence[str] = (), app_ports: Sequence[int] = ()
            ) -> Iterator[Deployment]:
    """Start `processes` Streamlit processes and nginx on `listen_host:port`; stop them all on exit."""
    if shutil.which(NGINX) is None:
        raise RuntimeError("nginx is not installed: `apt-get install nginx` (Debian's package)")
    with contextlib.ExitStack() as stack:
        if run is None:
            run = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cpc-serve-")))
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o755)  # nginx's workers (user nobody when started as root) use its temp folders
        ports = list(app_ports) or [serving_.free_port() for _ in range(processes)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               # One secret for every process, so a cookie Streamlit signs is valid on each.
               "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET")
               or secrets.token_hex(32)}
        # One database for every process, built here if missing: three processes that each
        # built the sample on their first page would race to write the same file.
        path = Path(db or os.environ.get("CPC_DB") or ROOT / "data" / "cpc.duckdb").resolve()
        env["CPC_DB"] = str(path)
        if not path.exists():
            subprocess.run([sys.executable, "-m", "cpc_monitor", "sample", "--db", str(path)], cwd=ROOT, check=True)
        hosts = [arg for name in allowed_hosts(host_names) for arg in ("--server.allowedHosts", name)]
        procs: list[subprocess.Popen] = []
        stack.callback(serving_.stop, procs)
        logs = [run / f"streamlit-{app_port}.log" for app_port in ports]
        for app_port, log in zip(ports, logs):
            procs.append(serving_.start_streamlit(app_port, env, log, options=hosts))
        for app_port in ports:
            serving_.wait_healthy(f"http://127.0.0.1:{app_port}", procs, logs)
        conf = run / "nginx.conf"
        conf.write_text(nginx_config(run, f"{listen_host}:{port}", ports))
        nginx = [NGINX, "-p", str(run), "-e", str(run / "error.log"), "-c", str(conf)]
        check = subprocess.run([*nginx, "-t", "-q"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused {conf}:\n{check.stderr}")
        log = run / "nginx.out"
        logs.append(log)
        with open(log, "w") as out:
            procs.append(subprocess.Popen(nginx, stdout=out, stderr=subprocess.STDOUT))
        host = f"[{listen_host}]" if ":" in listen_host else listen_host
        url = f"http://{'127.0.0.1' if listen_host in ('0.0.0.0', '::') else host}:{port}"
        serving_.wait_healthy(url, procs, logs)
        yield Deployment(url=url, run=run, app_pids=[p.pid for p in procs[:-1]], nginx_pid=procs[-1].pid)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=3, help="Streamlit processes (default 3)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument("--listen", default="127.0.0.1",
                        help="nginx's address (default 127.0.0.1; 0.0.0.0 to serve other computers)")
    parser.add_argument("--db", help="the database (default: $CPC_DB, else data/cpc.duckdb)")
    parser.add_argument("--run", type=Path, default=ROOT / "run",
                        help="folder for nginx.conf and the logs (default ./run, git-ignored)")
    parser.add_argument("--host-name", action="append", default=[], metavar="NAME",
                        help="a name browsers use to reach this machine (added to server.allowedHosts); repeatable")
    parser.add_argument("--app-port", type=int, action="append", default=[], metavar="PORT",
                        help="a Streamlit port (default: free ports on 127.0.0.1); repeat once per process")
    args = parser.parse_args(argv)
    if args.app_port and len(args.app_port) != args.processes:
        parser.error(f"give --app-port once per process ({args.processes})")
    stopping = False

    def stop(signum, frame):  # SIGTERM as Ctrl-C: leave the with-block, which stops every process
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        with serving(args.processes, args.port, args.listen, args.db, args.run, args.host_name,
                     args.app_port) as deployment:
            print(f"CPC Monitor: {deployment.url} ({args.processes} Streamlit processes behind nginx; "
                  f"read-only through the proxy unless sign-in is set up). Config and logs: {deployment.run}. "
                  "Ctrl-C stops all.", flush=True)
            while True:
                time.sleep(1)
                # One process gone: stop the others rather than serve a partial deployment.
                for pid in [*deployment.app_pids, deployment.nginx_pid]:
                    with contextlib.suppress(ChildProcessError):
                        if os.waitpid(pid, os.WNOHANG) != (0, 0):
                            print(f"process {pid} stopped; stopping the rest", file=sys.stderr)
                            return 1
    except KeyboardInterrupt:
        stopping = True
    except RuntimeError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    if stopping:
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
