"""`make demo`: one whole call, printed as it happens.

The engine (embedded defaults, loopback, a temporary state dir) with its SIP gateway; SIPp as the
carrier (carrier.xml answers the engine's INVITE); this script as the carrier's media (the caller's
speech from espeak-ng, sent as G.711 mu-law RTP in real time, and the agent's voice received); the
Python SDK originating the call and binding the example agent (a PromptAgent answering every turn).
It prints the call's states, the turns and barge-ins the engine detects, and the voice-to-voice
latency heard at the carrier: end of the caller's speech on the wire -> first audible agent packet.
Exit status 0 when the whole call went as expected, 1 otherwise (what was missing is printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import clutchcall_core
import numpy as np
from clutchcall import CallStatus
from clutchcall.messages import AgentBinding, TurnDetection
from clutchcall.rpc import ApiClient
from clutchcall_engine.agents import BargeIn, PromptAgent, SpeechStarted, TurnEvent, TurnFinished
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import Address, EngineConfig, SipConfig
from clutchcall_engine.server import EngineServer

HERE = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
FRAME_S = 0.02
ECHO_DB = -12.0  # the line's echo of the agent's voice (an ERL of 12 dB, a handset on a 2-wire hybrid)
ECHO_MS = 100
AUDIBLE_RMS = 300.0  # about -40 dBFS: the agent's voice, not the line's silence
CALLER = "Hi, I ordered a blue jacket last week. Can you tell me when it will arrive?"
BARGE_IN = "Sorry, one more thing."
AGENT = "Thanks for calling. Your jacket shipped yesterday and it will arrive on Friday. Anything else I can do?"
T0 = time.monotonic()


def say(what: str) -> None:
    print(f"[{time.monotonic() - T0:7.3f}s] {what}", flush=True)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def tts(text: str, rate: int, voice: str) -> bytes:
    """pcm16 speech at `rate` Hz, leading and trailing silence trimmed (espeak-ng, then sox)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "--stdout", text], check=True, capture_output=True)
    trim = ["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"]
    out = ["-t", "raw", "-r", str(rate), "-e", "signed", "-b", "16", "-c", "1", "-"]
    return subprocess.run(
        ["sox", "-t", "wav", "-", *out, *trim], input=wav.stdout, check=True, capture_output=True
    ).stdout


def rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def offered_media(messages: Path) -> tuple[str, int] | None:
    """The engine's RTP address from the INVITE's SDP, as SIPp logged it (-trace_msg)."""
    if not messages.exists():
        return None
    text = messages.read_text(errors="replace")
    body = text[text.find("INVITE sip:") :] if "INVITE sip:" in text else ""
    host = next((line.split()[-1] for line in body.splitlines() if line.startswith("c=IN IP4")), None)
    port = next((int(line.split()[1]) for line in body.splitlines() if line.startswith("m=audio")), None)
    return (host, port) if host and port else None


class CarrierMedia(asyncio.DatagramProtocol):
    """The carrier's side of the RTP: plays the caller (mu-law, 20 ms, real time) and hears the agent.

    Like a real line it also sends the agent's voice back, ECHO_DB quieter and ECHO_MS later, so
    the engine has to tell the agent's own echo from the caller.
    """

    def __init__(self) -> None:
        self.peer: tuple[str, int] | None = None
        self.heard: list[tuple[float, float]] = []  # (arrival, rms) of every downlink packet
        self.bad = 0
        self._queue: list[np.ndarray] = []  # the caller's frames, pcm16 at 8 kHz
        self._echo: deque[np.ndarray] = deque([np.zeros(160)] * (ECHO_MS // 20), maxlen=ECHO_MS // 20)
        self._transport: asyncio.DatagramTransport | None = None
        self._seq = secrets.randbelow(1 << 16)
        self._ts = secrets.randbelow(1 << 32)
        self._ssrc = secrets.randbelow(1 << 32)
        self.sent_until = 0.0  # when the last queued caller frame left

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            packet = clutchcall_core.rtp.parse(data)
        except ValueError:
            self.bad += 1
            return
        if packet.payload_type == 0:
            pcm = clutchcall_core.g711.ulaw_decode(packet.payload)
            self.heard.append((time.monotonic(), rms(pcm)))
            self._latest = np.frombuffer(pcm, dtype="<i2").astype(np.float64)

    def speak(self, pcm8k: bytes) -> None:
        samples = np.frombuffer(pcm8k, dtype="<i2").astype(np.float64)
        self._queue += [np.resize(samples[i : i + 160], 160) for i in range(0, len(samples), 160)]

    @property
    def speaking(self) -> bool:
        return bool(self._queue)

    async def run(self) -> None:
        next_at = time.monotonic()
        self._latest = np.zeros(160)
        while True:
            caller = self._queue.pop(0) if self._queue else None
            echo = self._echo[0] * 10 ** (ECHO_DB / 20)
            self._echo.append(self._latest)
            self._latest = np.zeros(160)
            mixed = echo if caller is None else caller + echo
            payload = clutchcall_core.g711.ulaw_encode(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())
            if self._transport is not None and self.peer is not None:
                packet = clutchcall_core.rtp.build(
                    payload, payload_type=0, sequence=self._seq, timestamp=self._ts, ssrc=self._ssrc
                )
                self._transport.sendto(packet, self.peer)
                if caller is not None:
                    self.sent_until = time.monotonic()
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + 160) & 0xFFFFFFFF
            next_at += FRAME_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def first_audible_after(self, t: float) -> float | None:
        return next((at for at, level in self.heard if at > t and level >= AUDIBLE_RMS), None)

    def quiet_since(self, t: float, packets: int = 20) -> float | None:
        """The start of the first run of `packets` quiet packets after `t`."""
        run: list[float] = []
        for at, level in self.heard:
            if at <= t:
                continue
            run = [*run, at] if level < AUDIBLE_RMS else []
            if len(run) >= packets:
                return run[0]
        return None


async def until(what: str, predicate: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


EVENTS: list[tuple[float, TurnEvent]] = []


def on_turn_event(sid: str, event: TurnEvent) -> None:
    EVENTS.append((time.monotonic(), event))
    if isinstance(event, SpeechStarted):
        say(f"turn   {sid}: caller started speaking (stream {event.speech_ms} ms)")
    elif isinstance(event, TurnFinished):
        spoken = event.speech_ended_ms - event.speech_started_ms
        silence = event.at_ms - event.speech_ended_ms
        say(f"turn   {sid}: turn finished after {spoken} ms of speech and {silence} ms of silence")
    elif isinstance(event, BargeIn):
        say(f"barge  {sid}: the caller talks over the agent: its queued audio is flushed")


def report_answer(what: str, spoke_until: float, heard: float) -> None:
    finished = [t for t, e in EVENTS if isinstance(e, TurnFinished) and t > spoke_until]
    detail = ""
    if finished:
        detail = f" (turn finished {1000 * (finished[0] - spoke_until):.0f} ms after the caller's last packet"
        detail += f", first agent packet {1000 * (heard - finished[0]):.0f} ms later)"
    say(f"agent  {what}: voice-to-voice {1000 * (heard - spoke_until):.0f} ms at the carrier{detail}")


def loopback_config(work: Path, sip_port: int, sipp_port: int) -> EngineConfig:
    """An embedded engine on loopback: every listener on a free port, the SIP gateway at sip_port with its
    trunk (the SIPp carrier) at sipp_port, 100 RTP ports from a random base, state under work/engine."""
    rtp_first = 30_000 + secrets.randbelow(20_000)
    config = EngineConfig(
        moqt_addr=Address(LOOPBACK, 0),
        http_addr=Address(LOOPBACK, 0),
        rest_addr=Address(LOOPBACK, 0),
        rpc_addr=Address(LOOPBACK, 0),
        state_dir=work / "engine",
        sip=SipConfig(
            enabled=True,
            listen=Address(LOOPBACK, sip_port),
            trunk=Address(LOOPBACK, sipp_port),
            rtp_ports=(rtp_first, rtp_first + 99),
        ),
    )
    config.state_dir.mkdir(parents=True)
    return config


async def watch_status(api: ApiClient, sid: str, seen: list[int]) -> None:
    while True:
        call = await api.calls.get(sid=sid)
        if not seen or call.status != seen[-1]:
            seen.append(int(call.status))
            say(f"call   {sid}: {CallStatus(call.status).name.lower()}")
        if CallStatus.is_terminal(call.status):
            return
        await asyncio.sleep(0.05)


async def demo(work: Path) -> list[str]:
    problems: list[str] = []
    caller = tts(CALLER, 8000, "en-us")
    barge = tts(BARGE_IN, 8000, "en-us")
    agent_voice = tts(AGENT, 16000, "en-gb")
    sip_port, sipp_port, media_port = (
        free_port(socket.SOCK_DGRAM),
        free_port(socket.SOCK_DGRAM),
        free_port(socket.SOCK_DGRAM),
    )
    config = loopback_config(work, sip_port, sipp_port)
    server = EngineServer(config, calls=True)
    await server.start()
    assert server.agents is not None and server.calls is not None
    rest = server.calls.rest_port
    say(f"engine up: MoQT {LOOPBACK}:{server.moqt_port}, REST {LOOPBACK}:{rest}, SIP {LOOPBACK}:{sip_port}")
    server.agents.binder.register("demo-concierge", lambda _binding: PromptAgent(agent_voice))
    server.agents.binder.observer = on_turn_event
    sipp = subprocess.Popen(
        [
            *("sipp", "-sf", str(HERE / "carrier.xml"), "-i", LOOPBACK, "-p", str(sipp_port), "-m", "1"),
            *("-key", "rtpport", str(media_port), "-mp", str(free_port(socket.SOCK_DGRAM))),
            *("-timeout", "90s", "-timeout_error", "-nostdin", "-trace_err"),
            *("-error_file", str(work / "sipp-errors.log"), "-trace_msg", "-message_file", str(work / "sipp.log")),
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
    )
    say(f"carrier up: SIPp on {LOOPBACK}:{sipp_port}, media on {LOOPBACK}:{media_port}")
    loop = asyncio.get_running_loop()
    transport, media = await loop.create_datagram_endpoint(CarrierMedia, local_addr=(LOOPBACK, media_port))
    player = asyncio.create_task(media.run())
    token = mint_token(
        load_or_create_dev_key(config.state_dir),
        tenant="demo",
        publish=["voice"],
        subscribe=["voice"],
        ttl_s=3600,
        audience=config.audience,
    )
    api = ApiClient.connect_rest(f"http://{LOOPBACK}:{server.calls.rest_port}", token=token)
    statuses: list[int] = []
    watcher: asyncio.Task[None] | None = None
    sid = ""
    barge_at = float("inf")
    try:
        call = await api.calls.originate(to="+15550100", from_="+15550199", idempotency_key=secrets.token_hex(8))
        sid = call.sid
        say(f"sdk    originate -> {sid}")
        watcher = asyncio.create_task(watch_status(api, sid, statuses))
        await until("the carrier to answer", lambda: CallStatus.IN_PROGRESS in statuses, 15)
        await api.agents.bind(sid=sid, agent=AgentBinding(agent_id="demo-concierge", turn_detection=TurnDetection()))
        say("sdk    agent demo-concierge bound (turn detection: the IDL's defaults)")
        await until("the engine's SDP at the carrier", lambda: offered_media(work / "sipp.log"), 5)
        media.peer = offered_media(work / "sipp.log")
        say(f"carrier: the engine's media is at {media.peer[0]}:{media.peer[1]}")  # type: ignore[index]
        say(f"carrier: the line echoes the agent back {-ECHO_DB:.0f} dB down, {ECHO_MS} ms late")
        await asyncio.sleep(0.5)
        binder_session = server.agents.binder.session(sid)

        say(f'caller "{CALLER}"')
        first_at = time.monotonic()
        media.speak(caller)
        await until("the caller to finish", lambda: not media.speaking, 30)
        spoke_until = media.sent_until
        await until("the agent's answer", lambda: media.first_audible_after(spoke_until), 10)
        heard = media.first_audible_after(spoke_until)
        assert heard is not None
        report_answer("answers", spoke_until, heard)

        await asyncio.sleep(1.5)  # the agent talks on, its echo coming back on the line
        say(f'caller (over the agent) "{BARGE_IN}"')
        barge_at = time.monotonic()
        media.speak(barge)
        await until("the agent to stop talking", lambda: media.quiet_since(barge_at), 5)
        quiet = media.quiet_since(barge_at)
        assert quiet is not None
        say(f"agent  silenced {1000 * (quiet - barge_at):.0f} ms after the caller started talking over it")
        await until("the caller to finish", lambda: not media.speaking, 10)
        spoke_until = media.sent_until
        await until("the agent's second answer", lambda: media.first_audible_after(spoke_until), 10)
        heard = media.first_audible_after(spoke_until)
        assert heard is not None
        report_answer("answers again", spoke_until, heard)
        await asyncio.sleep(3.0)  # listen to the agent (and its echo) a while longer

        stats = binder_session.stats if binder_session is not None else None
        barge_ins = [t for t, e in EVENTS if isinstance(e, BargeIn)]
        self_interruptions = [t for t in barge_ins if not barge_at <= t <= barge_at + 2.0]
        # a speech start is the caller's only within 2 s of an utterance's start; any other came from the echo
        starts = [t for t, e in EVENTS if isinstance(e, SpeechStarted)]
        false_starts = [t for t in starts if not any(at <= t <= at + 2.0 for at in (first_at, barge_at))]
        guard = binder_session.echo if binder_session is not None else None
        delay = guard.delay_ms if guard is not None else None
        say(
            f"summary: {stats.turns if stats else 0} turns, {len(barge_ins)} barge-in, "
            f"{len(self_interruptions)} self-interruptions, {len(false_starts)} false speech starts; "
            "echo frames suppressed: "
            f"{stats.echo_suppressed if stats else 0}, echo delay learnt: "
            + ("none" if delay is None else f"{delay:.0f} ms")
        )
        if stats is None or stats.turns != 2:
            problems.append(f"expected 2 turns, the engine saw {stats.turns if stats else 0}")
        if len(barge_ins) - len(self_interruptions) != 1:
            problems.append(f"expected one barge-in when the caller talked over the agent, saw {barge_ins}")
        if self_interruptions:
            problems.append(f"the agent interrupted itself {len(self_interruptions)} times (its echo)")
        if false_starts or len(starts) != 2:
            problems.append(f"expected one speech start per utterance, saw {len(starts)}, {len(false_starts)} false")
        ended = await api.calls.hangup(sid=sid)
        say(f"sdk    hangup -> {CallStatus(ended.status).name.lower()}")
        async with asyncio.timeout(5):
            await watcher
    except Exception as exc:  # the demo reports what went wrong and still tears everything down
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        if watcher is not None:
            watcher.cancel()
        if sid and not (statuses and CallStatus.is_terminal(statuses[-1])):
            with contextlib.suppress(Exception):
                await api.calls.hangup(sid=sid)
        player.cancel()
        transport.close()
        with contextlib.suppress(Exception):
            await api.aclose()
        try:
            async with asyncio.timeout(10):
                code = await asyncio.to_thread(sipp.wait)
            if code != 0:
                problems.append(f"SIPp exited with status {code} (see {work / 'sipp-errors.log'})")
        except TimeoutError:
            sipp.kill()
            problems.append("SIPp did not finish (no BYE?)")
        await server.stop(0.5)
        say("engine and carrier stopped")
    return problems


def main() -> int:
    missing = [t for t in ("espeak-ng", "sox", "sipp") if shutil.which(t) is None]
    if missing:
        print(f"make demo needs {', '.join(missing)} (Debian espeak-ng, sox, sip-tester: make system-deps)")
        return 1
    with tempfile.TemporaryDirectory(prefix="clutchcall-demo-") as tmp:
        problems = asyncio.run(demo(Path(tmp)))
    for p in problems:
        print(f"demo: {p}", file=sys.stderr)
    print("demo: the whole call went through" if not problems else "demo: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
