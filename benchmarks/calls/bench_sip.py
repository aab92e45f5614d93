"""SIP call setups per second per core: our gateway (B2BUA, answering inbound calls) beside Kamailio (Debian,
a stateful proxy forwarding to a SIPp uas), both driven by SIPp's built-in uac at rising rates on loopback.

For each rate SIPp places `rate x --seconds` calls (INVITE, 200, ACK, BYE); a rate passes when no call
fails. CPU seconds are read from /proc for the server's processes, so the figure is setups per CPU
second (= per core). Prints one table: rate, ours (ok/failed, setups per core), Kamailio, and the ratio.

    CLUTCHCALL_CORE_PKG=build/bindings/pkg .venv/bin/python benchmarks/calls/bench_sip.py [--rates 100,200,400,800]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]

GATEWAY = """
import asyncio, sys, itertools
from clutchcall_engine.config import Address, SipConfig
from clutchcall_engine.sip.gateway import SipGateway

class Events:
    counter = itertools.count(1)
    async def status_changed(self, sid, status, end_reason=None, detail=""): pass
    async def inbound_call(self, tenant, from_, to, codec): return f"CA{next(self.counter)}"
    async def dtmf(self, sid, digit, duration_ms): pass

async def main():
    port = int(sys.argv[1])
    cfg = SipConfig(enabled=True, listen=Address("127.0.0.1", port), rtp_ports=(30000, 39999),
                    invite_rate=1e6, invite_burst=1_000_000)
    gw = SipGateway(cfg, Events())
    await gw.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

KAMAILIO_CFG = """#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children={children}
disable_tcp=yes
listen=udp:127.0.0.1:{port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        # SIPp's built-in uac ignores Record-Route: its in-dialog requests come without Route, to the proxy
        $du = "sip:127.0.0.1:{uas_port}";
        t_relay(); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    record_route();
    $du = "sip:127.0.0.1:{uas_port}";
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def tree(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout.split()
    return [pid, *[q for p in out for q in tree(int(p))]]


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def run_uac(
    target: int, rate: int, calls: int, workdir: Path, hold_ms: int = 0, during: object = None
) -> tuple[int, int, int]:
    """(successful, failed, peak concurrent calls) of `calls` calls from SIPp's built-in uac, each held `hold_ms`;
    `during()` is called every 0.2 s while SIPp runs."""
    stat = workdir / f"uac_{target}_{rate}_{hold_ms}.csv"
    limit = calls * 1000 // max(rate, 1) / 1000 * 4 + hold_ms / 1000 + 10
    args = ["sipp", "-sn", "uac", "-i", LOOPBACK, "-p", str(free_port()), "-r", str(rate), "-m", str(calls)]
    args += ["-d", str(hold_ms), "-timeout", f"{limit:.0f}s", "-nostdin", "-trace_stat", "-stf", str(stat)]
    args += ["-fd", "1", "-mp", str(free_port()), f"{LOOPBACK}:{target}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    deadline = time.monotonic() + limit + 20
    while proc.poll() is None and time.monotonic() < deadline:
        if callable(during):
            during()
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    rows = [line.split(";") for line in stat.read_text().splitlines() if line.strip()]
    header, last = rows[0], rows[-1]
    peak = max(int(r[header.index("CurrentCall")]) for r in rows[1:])
    return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")]), peak


def measure(
    pids_of: object, target: int, rates: list[int], seconds: float, workdir: Path
) -> list[tuple[int, int, float]]:
    assert callable(pids_of)
    results = []
    for rate in rates:
        before = cpu_seconds(pids_of())
        ok, failed, _ = run_uac(target, rate, int(rate * seconds), workdir)
        cpu = cpu_seconds(pids_of()) - before
        results.append((ok, failed, ok / cpu if cpu > 0 else float("inf")))
        if failed:
            break  # past this rate the server sheds calls
    return results


def held(pids_of: object, target: int, calls: int, hold_s: float, workdir: Path) -> tuple[int, int, int, float]:
    """Concurrent calls held: `calls` calls placed at 200/s, each held `hold_s`; (ok, failed, peak held, peak RSS)."""
    assert callable(pids_of)
    peak_rss = [rss_mib(pids_of())]
    ok, failed, peak = run_uac(
        target, 200, calls, workdir, int(hold_s * 1000), lambda: peak_rss.append(rss_mib(pids_of()))
    )
    return ok, failed, peak, max(peak_rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="100,200,400,800")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--held-calls", type=int, default=2000, help="calls held at once in the second table")
    parser.add_argument("--hold", type=float, default=15.0, help="seconds each held call lasts")
    opts = parser.parse_args()
    rates = [int(r) for r in opts.rates.split(",")]
    for tool in ("sipp", "kamailio"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian sip-tester, kamailio)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        env = dict(os.environ)
        if os.environ.get("CLUTCHCALL_CORE_PKG"):  # a dev build of the core (bindings/README.md), else the wheel
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [os.environ["CLUTCHCALL_CORE_PKG"], env.get("PYTHONPATH")])
            )
        gw = subprocess.Popen([sys.executable, "-c", GATEWAY, str(port)], stdout=subprocess.PIPE, text=True, env=env)
        assert gw.stdout is not None and gw.stdout.readline().strip() == "ready"
        ours = measure(lambda: [gw.pid], port, rates, opts.seconds, workdir)
        ours_held = held(lambda: [gw.pid], port, opts.held_calls, opts.hold, workdir)
        gw.send_signal(signal.SIGTERM)
        gw.wait(10)

        uas_port, kam_port = free_port(), free_port()
        uas = subprocess.Popen(
            ["sipp", "-sn", "uas", "-i", LOOPBACK, "-p", str(uas_port), "-nostdin", "-mp", str(free_port())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        cfg = workdir / "kamailio.cfg"
        cfg.write_text(KAMAILIO_CFG.format(children=1, port=kam_port, uas_port=uas_port))
        kam = subprocess.Popen(
            ["kamailio", "-f", str(cfg), "-DD", "-E", "-P", str(workdir / "k.pid"), "-Y", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.5)
        try:
            theirs = measure(lambda: tree(kam.pid), kam_port, rates, opts.seconds, workdir)
            theirs_held = held(lambda: tree(kam.pid), kam_port, opts.held_calls, opts.hold, workdir)
        finally:
            kam.terminate()
            kam.wait(10)
            uas.terminate()
            uas.wait(10)

    print(
        f"SIP setups per CPU second (SIPp uac, {opts.seconds:g} s per rate, loopback, Python {sys.version.split()[0]})"
    )
    print(
        f"{'rate/s':>7} | {'ours ok/failed':>15} {'setups/core-s':>14} | "
        f"{'Kamailio ok/failed':>19} {'setups/core-s':>14} | ratio"
    )
    for i, rate in enumerate(rates):
        o = ours[i] if i < len(ours) else None
        k = theirs[i] if i < len(theirs) else None
        cell_o = f"{o[0]:>8}/{o[1]:<6} {o[2]:>14.0f}" if o else f"{'-':>15} {'-':>14}"
        cell_k = f"{k[0]:>12}/{k[1]:<6} {k[2]:>14.0f}" if k else f"{'-':>19} {'-':>14}"
        ratio = f"{o[2] / k[2]:.3f}" if o and k and k[2] not in (0, float("inf")) else "-"
        print(f"{rate:>7} | {cell_o} | {cell_k} | {ratio}")

    print(f"\nConcurrent calls held ({opts.held_calls} calls at 200/s, each held {opts.hold:g} s)")
    print(f"{'':>9} | {'ok/failed':>13} {'peak held':>10} {'peak RSS MiB':>13}")
    for name, (ok, failed, peak, rss) in (("ours", ours_held), ("Kamailio", theirs_held)):
        print(f"{name:>9} | {ok:>6}/{failed:<6} {peak:>10} {rss:>13.1f}")


if __name__ == "__main__":
    main()
