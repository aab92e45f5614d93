"""The legacy barge against SIPp: a SIPp uas is the carrier (the caller, playing a known PCMU pcap), a second
SIPp uas the supervisor (dialled directly by SIP URI, playing another pcap), and the test is the agent side
(publishing voice/<sid>/downlink, reading voice/<sid>/uplink through the MoQT client).

Per mode, each of the three streams (what the supervisor's RTP port receives, what the caller's receives,
and the uplink) is decoded and matched frame by frame against the saturated sums of exactly the parties
that listener may hear (HEARS), each sum encoded and decoded through the same G.711: every frame must be
one such sum, exactly, and the frames of each party must appear in order, each at most once. A frame with
a party that listener must not hear matches nothing and fails the test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clutchcall import BargeMode, CallStatus, Codec, EndReason, ErrorCode
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.server import EngineServer
from clutchcall_engine.sip.conference import HEARS, Party
from clutchcall_engine.sip.gateway import SignallingError, SipGateway
from clutchcall_engine.sip.media import relay_bridge
from clutchcall_engine.sip.metrics import SipCollector
from clutchcall_runtime.moqt.client import connect
from rtp_fixtures import parse_rtp, rtp, tone_frames, write_pcap
from sip_support import LOOPBACK, SIPP, RecordingEvents, finished, free_port, gateway, scenario_with, sip_config, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")
FRAMES = 100  # 2 s of 20 ms PCMU frames from the caller and from the supervisor
AGENT_FRAMES = 150  # 3 s published on the downlink
SID = "CA-barge"
S = CallStatus


def run(coro: object, timeout: float = 90.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


def ulaw(pcm: np.ndarray, law: str = "ulaw") -> bytes:
    """Saturated PCM through G.711 (mu-law, or A-law with law="alaw")."""
    import clutchcall_core.g711 as g711

    encode = g711.ulaw_encode if law == "ulaw" else g711.alaw_encode
    return encode(np.clip(pcm, -32768, 32767).astype("<i2").tobytes())


def pcm_of(codes: bytes, law: str = "ulaw") -> np.ndarray:
    import clutchcall_core.g711 as g711

    decode = g711.ulaw_decode if law == "ulaw" else g711.alaw_decode
    return np.frombuffer(decode(codes), "<i2").astype(np.int32)


def party_frames() -> dict[Party, list[bytes]]:
    """Three distinct known streams: the caller's sweep, the supervisor's two-tone chord, the agent's noise."""
    caller = [ulaw(np.array(f)) for f in tone_frames(FRAMES)]
    n = np.arange(FRAMES * 160)
    chord = 9000 * np.sin(2 * np.pi * 523 * n / 8000) + 7000 * np.sin(2 * np.pi * 659 * n / 8000 + n / 4000)
    supervisor = [ulaw(chord[f * 160 : (f + 1) * 160]) for f in range(FRAMES)]
    rng = np.random.default_rng(11)
    agent = [ulaw(rng.normal(0, 6000, 160)) for _ in range(AGENT_FRAMES)]
    return {Party.CALLER: caller, Party.SUPERVISOR: supervisor, Party.AGENT: agent}


def match_frames(
    received: list[bytes], heard: tuple[Party, ...], frames: dict[Party, list[bytes]], law: str = "ulaw"
) -> list[tuple[int | None, ...]]:
    """For each received frame (in `law`), which frame of each heard party (mu-law; None: silent) it is the
    G.711 sum of; every frame must match, and each party's frame indices must rise strictly (each frame heard
    once, in order)."""
    decoded = [np.vstack([*(pcm_of(f) for f in frames[p]), np.zeros(160, np.int32)]) for p in heard]
    sums = decoded[0][:, None, :] if len(heard) == 1 else decoded[0][:, None, :] + decoded[1][None, :, :]
    shape = sums.shape
    table = pcm_of(ulaw(sums.reshape(-1), law), law).reshape(shape)  # sums through the same G.711: exact
    last = [-1] * len(heard)
    matched: list[tuple[int | None, ...]] = []
    for k, frame in enumerate(received):
        hits = np.argwhere(np.all(table == pcm_of(frame, law), axis=2))
        silent = [len(frames[p]) for p in heard]
        ok = [
            tuple(int(h) for h in hit[: len(heard)])
            for hit in hits
            if all(int(h) == silent[i] or int(h) > last[i] for i, h in enumerate(hit[: len(heard)]))
        ]
        ok = [hit for hit in ok if not all(h == silent[i] for i, h in enumerate(hit))]
        assert ok, f"frame {k} of {len(received)} is no in-order sum of {[p.value for p in heard]}"
        hit = min(ok)
        last = [h if h != silent[i] else last[i] for i, h in enumerate(hit)]
        matched.append(tuple(None if h == silent[i] else h for i, h in enumerate(hit)))
    return matched


def rtp_packets(sock: socket.socket) -> list[tuple[int, bytes]]:
    """(payload type, payload) of every packet the socket holds."""
    out = []
    with contextlib.suppress(BlockingIOError):
        while True:
            pt, _, _, payload = parse_rtp(sock.recv(2048))
            out.append((pt, payload))
    return out


def rtp_payloads(sock: socket.socket) -> list[bytes]:
    packets = rtp_packets(sock)
    assert {pt for pt, _ in packets} <= {0}
    return [payload for _, payload in packets]


@dataclass
class BargeRig:
    gw: SipGateway
    events: RecordingEvents
    app: Any  # the MoQT client: the agent side
    carrier: asyncio.subprocess.Process
    caller_rtp: socket.socket
    supervisor_port: int
    supervisor_rtp: socket.socket
    frames: dict[Party, list[bytes]]
    tmp: Path

    async def supervisor(self, scenario: str, **values: str) -> asyncio.subprocess.Process:
        pcap = self.tmp / "supervisor.pcap"
        path = scenario_with(_dir(self.tmp / "supervisor"), scenario, play_delay="300", **values)
        keys = {"audio_pcap": str(pcap), "rtpport": str(self.supervisor_rtp.getsockname()[1])}
        proc = await sipp(path, local_port=self.supervisor_port, keys=keys)
        await asyncio.sleep(0.3)  # SIPp binds its port
        return proc


def _dir(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def _udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    return sock


@contextlib.asynccontextmanager
async def barge_rig(tmp_path: Path, carrier_calls: int = 1, play_delay_ms: int = 1200) -> AsyncIterator[BargeRig]:
    """The engine with its relay and gateway, an answered call to the SIPp carrier, the agent side attached."""
    frames = party_frames()
    for ssrc, (party, name) in enumerate(((Party.CALLER, "caller"), (Party.SUPERVISOR, "supervisor")), 0xC0):
        packets = [rtp(c, 0, 300 + i, 160 * i, ssrc, i == 0) for i, c in enumerate(frames[party])]
        write_pcap(tmp_path / f"{name}.pcap", packets)
    config = EngineConfig(moqt_addr=Address(LOOPBACK, 0), http_addr=Address(LOOPBACK, 0), state_dir=tmp_path)
    key = load_or_create_dev_key(tmp_path)
    token = mint_token(key, tenant="t", publish=("",), subscribe=("",), ttl_s=600, audience=config.audience)
    caller_rtp, supervisor_rtp = _udp(), _udp()
    carrier_port = free_port()
    async with EngineServer(config) as srv:
        assert srv.cert is not None
        url = f"moqt://{LOOPBACK}:{srv.moqt_port}"
        events = RecordingEvents()
        async with gateway(sip_config(carrier_port), events, relay_bridge(url, token, srv.cert.sha256)) as gw:
            app = await connect(url, token, cert_sha256=srv.cert.sha256)
            path = scenario_with(_dir(tmp_path / "carrier"), "uas_play.xml", play_delay=str(play_delay_ms))
            keys = {"audio_pcap": str(tmp_path / "caller.pcap"), "rtpport": str(caller_rtp.getsockname()[1])}
            carrier = await sipp(path, local_port=carrier_port, keys=keys, calls=carrier_calls)
            await asyncio.sleep(0.3)
            await gw.dial(SID, "t", "+15550001", "+15550100", Codec.G711_ULAW, 10.0)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get(SID, []), what="answer")
            yield BargeRig(gw, events, app, carrier, caller_rtp, free_port(), supervisor_rtp, frames, tmp_path)
            await app.close()
    caller_rtp.close()
    supervisor_rtp.close()


@pytest.mark.parametrize("mode", [BargeMode.LISTEN, BargeMode.WHISPER, BargeMode.BARGE])
def test_barge_mixes_per_mode_sample_exact(tmp_path: Path, mode: BargeMode) -> None:
    async def main() -> None:
        async with barge_rig(tmp_path) as rig:
            uplink = await rig.app.subscribe(("voice", SID), "uplink")
            downlink = await rig.app.publish(("voice", SID), "downlink", capability="voice/g711_ulaw")
            supervisor = await rig.supervisor("uas_play.xml")
            await rig.gw.barge(SID, f"sip:supervisor@{LOOPBACK}:{rig.supervisor_port}", mode)
            with pytest.raises(SignallingError) as second:  # one supervisor per call
                await rig.gw.barge(SID, f"sip:other@{LOOPBACK}:{free_port()}", BargeMode.LISTEN)
            assert second.value.code == ErrorCode.ALREADY_EXISTS

            async def play_agent() -> None:
                for frame in rig.frames[Party.AGENT]:
                    downlink.write(frame)
                    await asyncio.sleep(0.02)

            async def read_uplink(into: list[bytes]) -> None:
                async for obj in uplink:
                    into.append(obj.payload)

            on_uplink: list[bytes] = []
            reader = asyncio.create_task(read_uplink(on_uplink))
            await play_agent()
            await asyncio.sleep(0.5)
            reader.cancel()
            to_supervisor, to_caller = rtp_payloads(rig.supervisor_rtp), rtp_payloads(rig.caller_rtp)
            call_media = rig.gw.legs[SID].media
            assert call_media is not None and call_media.jitter is not None
            caller_jitter = call_media.jitter.stats()
            assert rig.gw.stats.supervisor_answered == 1
            await rig.gw.hangup(SID)  # the call ends: the supervisor gets our BYE (its scenario waits for it)
            for proc in (rig.carrier, supervisor):
                rc, err = await finished(proc)
                assert rc == 0, err
            await rig.events.until(lambda: len(rig.events.statuses[SID]) == 3, what="the call's end")
            # the supervisor leg never shows in the call's status
            assert rig.events.statuses[SID] == [
                (S.RINGING, None),
                (S.IN_PROGRESS, None),
                (S.COMPLETED, EndReason.API_HANGUP),
            ]
            await asyncio.sleep(0.2)
            assert not rig.gw.supervisors and rig.gw.stats.supervisor_ended == 1

        hears = HEARS[mode]
        streams = {Party.SUPERVISOR: to_supervisor, Party.CALLER: to_caller, Party.AGENT: on_uplink}
        for listener, received in streams.items():
            matched = match_frames(received, hears[listener], rig.frames)
            heard_by_party = {p: [m[i] for m in matched if m[i] is not None] for i, p in enumerate(hears[listener])}
            for party, indices in heard_by_party.items():
                assert len(indices) >= 30, f"{listener.value} heard {party.value} in {len(indices)} frames only"
            both = [m for m in matched if None not in m]
            if len(hears[listener]) == 2:  # a real mix: both parties in the same frames, for a second at least
                assert len(both) >= 50, f"{listener.value}: {len(both)} mixed frames"
        # every caller frame reaches the agent side, but for those the adaptive jitter buffer drops as it shrinks
        caller_heard = [m[0] for m in match_frames(on_uplink, hears[Party.AGENT], rig.frames) if m[0] is not None]
        dropped = caller_jitter["discarded"] + caller_jitter["losses"] + caller_jitter["late_losses"]
        assert len(caller_heard) == FRAMES - dropped and dropped <= 3, str(caller_jitter)

    run(main())


def test_supervisor_hangs_up_and_the_call_goes_on(tmp_path: Path) -> None:
    async def main() -> None:
        async with barge_rig(tmp_path, play_delay_ms=0) as rig:
            supervisor = await rig.supervisor("uas_play_bye.xml", bye_after="500")
            await rig.gw.barge(SID, f"sip:supervisor@{LOOPBACK}:{rig.supervisor_port}", BargeMode.BARGE)
            rc, err = await finished(supervisor)  # its BYE got our 200
            assert rc == 0, err
            await asyncio.sleep(0.2)
            call = rig.gw.legs[SID]
            assert not rig.gw.supervisors and call.media is not None and call.media.conference is None
            counted = {
                sample.labels["event"]: sample.value
                for family in SipCollector(rig.gw).collect()
                if family.name == "clutchcall_sip_supervisor_legs"
                for sample in family.samples
            }
            assert counted == {"dialed": 1, "answered": 1, "ended": 1}
            # the call is untouched, and a new supervisor may join
            assert rig.events.statuses[SID] == [(S.RINGING, None), (S.IN_PROGRESS, None)]
            again = await rig.supervisor("uas_play.xml")
            await rig.gw.barge(SID, f"sip:supervisor@{LOOPBACK}:{rig.supervisor_port}", BargeMode.LISTEN)
            await asyncio.sleep(1.0)  # answered, and past its pcap's start: waiting for our BYE
            assert rig.gw.stats.supervisor_answered == 2
            await rig.gw.hangup(SID)
            for proc in (again, rig.carrier):  # both got our BYE
                rc, err = await finished(proc)
                assert rc == 0, err
            await rig.events.until(lambda: len(rig.events.statuses[SID]) == 3, what="the call's end")
            assert rig.events.statuses[SID][-1] == (S.COMPLETED, EndReason.API_HANGUP)

    run(main())


def test_barge_is_refused_for_calls_that_are_not_live(tmp_path: Path) -> None:
    async def main() -> None:
        events = RecordingEvents()
        async with gateway(sip_config(free_port()), events) as gw:
            for sid in ("CA-none", ""):
                with pytest.raises(SignallingError) as refused:
                    await gw.barge(sid, "+15550123", BargeMode.LISTEN)
                assert refused.value.code == ErrorCode.INVALID_TRANSITION

    run(main())


def test_an_e164_supervisor_is_dialled_through_the_trunk(tmp_path: Path) -> None:
    async def main() -> None:
        async with barge_rig(tmp_path, carrier_calls=2, play_delay_ms=0) as rig:  # the supervisor's call too
            await rig.gw.barge(SID, "+15550777", BargeMode.LISTEN)
            leg = rig.gw.supervisors[SID]
            trunk = rig.gw.config.trunk
            assert leg.peer == (trunk.host, trunk.port) and leg.remote_uri == f"sip:+15550777@{trunk.host}:{trunk.port}"
            for _ in range(50):
                if rig.gw.stats.supervisor_answered:
                    break
                await asyncio.sleep(0.1)
            assert rig.gw.stats.supervisor_answered == 1
            await asyncio.sleep(0.3)  # SIPp past its pcap's start, waiting for BYE (an early one aborts it)
            await rig.gw.hangup(SID)
            rc, err = await finished(rig.carrier)  # both of its calls got our BYE
            assert rc == 0, err
            assert rig.events.statuses[SID][-1] == (S.COMPLETED, EndReason.API_HANGUP)

    run(main())


def test_a_busy_supervisor_leaves_the_call_alone(tmp_path: Path) -> None:
    async def main() -> None:
        async with barge_rig(tmp_path, play_delay_ms=0) as rig:
            path = scenario_with(_dir(tmp_path / "busy"), "uas_reject.xml", code="486", reason="Busy Here")
            busy = await sipp(path, local_port=rig.supervisor_port)
            await asyncio.sleep(0.3)
            await rig.gw.barge(SID, f"sip:supervisor@{LOOPBACK}:{rig.supervisor_port}", BargeMode.BARGE)
            rc, err = await finished(busy)
            assert rc == 0, err
            await asyncio.sleep(0.2)
            assert not rig.gw.supervisors and rig.gw.stats.supervisor_ended == 1
            assert rig.gw.stats.supervisor_answered == 0
            assert rig.events.statuses[SID] == [(S.RINGING, None), (S.IN_PROGRESS, None)]
            call = rig.gw.legs[SID]
            assert call.media is not None and call.media.conference is None
            await rig.gw.hangup(SID)
            rc, err = await finished(rig.carrier)
            assert rc == 0, err

    run(main())


def test_barge_through_the_engine_over_the_envelope_rpc(tmp_path: Path) -> None:
    """The SDK's legacy client: barge returns once the supervisor is dialing, the call's status stays in
    progress, a second barge is ALREADY_EXISTS, another tenant's sid NOT_FOUND, and hangup ends both legs."""
    from clutchcall.rpc import ApiClient
    from clutchcall_runtime.rpc import ApiError, RetryPolicy, TlsOptions

    async def main() -> None:
        carrier_port, supervisor_port, sink = free_port(), free_port(), _udp()
        config = EngineConfig(
            moqt_addr=Address(LOOPBACK, 0),
            http_addr=Address(LOOPBACK, 0),
            rest_addr=Address(LOOPBACK, 0),
            rpc_addr=Address(LOOPBACK, 0),
            state_dir=tmp_path,
            sip=sip_config(carrier_port),
        )
        write_pcap(tmp_path / "caller.pcap", [rtp(b"\xff" * 160, 0, i, 160 * i, 7) for i in range(10)])
        keys = {"audio_pcap": str(tmp_path / "caller.pcap"), "rtpport": str(sink.getsockname()[1])}
        async with EngineServer(config, calls=True) as srv:
            assert srv.calls is not None and srv.sip is not None and srv.cert is not None
            key = load_or_create_dev_key(tmp_path)

            def client(tenant: str) -> ApiClient:
                token = mint_token(key, tenant=tenant, publish=(), subscribe=(), ttl_s=600, audience=config.audience)
                tls = TlsOptions(cert_sha256=bytes.fromhex(srv.cert.sha256 if srv.cert else ""))
                url = f"quic://{LOOPBACK}:{srv.calls.rpc_port if srv.calls else 0}"
                return ApiClient.connect_rpc(url, token=token, tls=tls, retry=RetryPolicy(max_attempts=1))

            carrier = await sipp(
                scenario_with(_dir(tmp_path / "carrier"), "uas_play.xml", play_delay="0"),
                local_port=carrier_port,
                keys=keys,
            )
            supervisor = await sipp(
                scenario_with(_dir(tmp_path / "supervisor"), "uas_play.xml", play_delay="0"),
                local_port=supervisor_port,
                keys=keys,
            )
            await asyncio.sleep(0.3)
            async with client("acme") as api, client("globex") as other:
                legacy = api.clutch_call_client
                dialed = await legacy.dial(to="+15550001", from_="+15550100")
                for _ in range(100):
                    if (await legacy.get_call(sid=dialed.sid)).status == S.IN_PROGRESS:
                        break
                    await asyncio.sleep(0.05)
                target = f"sip:supervisor@{LOOPBACK}:{supervisor_port}"
                with pytest.raises(ApiError) as lost:
                    await other.clutch_call_client.barge(sid=dialed.sid, supervisor=target, mode=BargeMode.BARGE)
                assert lost.value.code == ErrorCode.NOT_FOUND
                await legacy.barge(sid=dialed.sid, supervisor=target, mode=BargeMode.BARGE)
                with pytest.raises(ApiError) as again:
                    await legacy.barge(sid=dialed.sid, supervisor=target, mode=BargeMode.LISTEN)
                assert again.value.code == ErrorCode.ALREADY_EXISTS and again.value.http_status == 409
                for _ in range(100):
                    if srv.sip.stats.supervisor_answered:
                        break
                    await asyncio.sleep(0.05)
                assert b'clutchcall_sip_supervisor_legs_total{event="answered"} 1.0' in srv.metrics.render()
                assert (await legacy.get_call(sid=dialed.sid)).status == S.IN_PROGRESS
                await asyncio.sleep(0.3)  # SIPp past its pcap's start, waiting for BYE (an early one aborts it)
                await legacy.hangup(sid=dialed.sid)
                for proc in (carrier, supervisor):  # each got our BYE
                    rc, err = await finished(proc)
                    assert rc == 0, err
                with pytest.raises(ApiError) as ended:
                    await legacy.barge(sid=dialed.sid, supervisor=target, mode=BargeMode.LISTEN)
                assert ended.value.code == ErrorCode.INVALID_TRANSITION
        sink.close()

    run(main())


def test_a_supervisor_re_invite_to_another_codec_gets_a_new_mix(tmp_path: Path) -> None:
    """The supervisor moves from PCMU to PCMA mid-call: what it hears follows, still the exact G.711 sum."""

    async def main() -> None:
        async with barge_rig(tmp_path, play_delay_ms=0) as rig:
            downlink = await rig.app.publish(("voice", SID), "downlink", capability="voice/g711_ulaw")
            supervisor = await rig.supervisor("uas_play_reinvite.xml", reinvite_after="400")
            await rig.gw.barge(SID, f"sip:supervisor@{LOOPBACK}:{rig.supervisor_port}", BargeMode.LISTEN)
            for frame in rig.frames[Party.AGENT]:
                downlink.write(frame)
                await asyncio.sleep(0.02)
            packets = rtp_packets(rig.supervisor_rtp)
            await rig.gw.hangup(SID)
            for proc in (rig.carrier, supervisor):
                rc, err = await finished(proc)
                assert rc == 0, err
        by_type = {pt: [p for t, p in packets if t == pt] for pt in {t for t, _ in packets}}
        assert set(by_type) == {0, 8} and packets[0][0] == 0 and packets[-1][0] == 8
        assert len(by_type[8]) >= 50
        heard = HEARS[BargeMode.LISTEN][Party.SUPERVISOR]
        before = match_frames(by_type[0], heard, rig.frames)
        after = match_frames(by_type[8], heard, rig.frames, law="alaw")
        assert sum(None not in m for m in before + after) >= 50  # caller and agent mixed, in either codec

    run(main())
