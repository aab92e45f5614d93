"""Media and DTMF against SIPp: RTP SIPp plays from a pcap made here arrives on voice/<sid>/uplink sample for
sample after G.711 decoding (by a reference decoder written from G.711, not the core's); audio published on
voice/<sid>/downlink arrives as the carrier's RTP; RFC 4733 events and SIP INFO surface as DTMF."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clutchcall import Codec
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.server import EngineServer
from clutchcall_engine.sip.media import RtpLeg, relay_bridge
from clutchcall_runtime.moqt.client import connect
from rtp_fixtures import dtmf_packets, parse_rtp, rtp, tone_frames, ulaw_decode_sample, ulaw_encode_sample, write_pcap
from sip_support import LOOPBACK, SIPP, RecordingEvents, finished, free_port, gateway, sip_config, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")
FRAMES = 50  # one second of 20 ms PCMU frames


def run(coro: object, timeout: float = 90.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


@dataclass
class InboundCall:
    app: Any  # the MoQT client of the engine (clutchcall_runtime's session)
    sid: str
    carrier: asyncio.subprocess.Process
    carrier_rtp: socket.socket  # where the carrier's RTP port is: the downlink arrives here


@contextlib.asynccontextmanager
async def inbound_call(tmp_path: Path, pcap: Path, audio_pt: int, audio_rtpmap: str) -> AsyncIterator[InboundCall]:
    """The engine with its gateway and relay, and SIPp calling in (uac_audio.xml) offering `audio_pt` as
    `audio_rtpmap`, then playing `pcap` as its RTP."""
    config = EngineConfig(moqt_addr=Address(LOOPBACK, 0), http_addr=Address(LOOPBACK, 0), state_dir=tmp_path)
    key = load_or_create_dev_key(tmp_path)
    token = mint_token(key, tenant="t", publish=("",), subscribe=("",), ttl_s=600, audience=config.audience)
    carrier_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    carrier_rtp.bind((LOOPBACK, 0))
    carrier_rtp.setblocking(False)
    async with EngineServer(config) as srv:
        assert srv.cert is not None
        url = f"moqt://{LOOPBACK}:{srv.moqt_port}"
        events = RecordingEvents()
        async with gateway(sip_config(free_port()), events, relay_bridge(url, token, srv.cert.sha256)) as gw:
            app = await connect(url, token, cert_sha256=srv.cert.sha256)
            keys = {"audio_pcap": str(pcap), "rtpport": str(carrier_rtp.getsockname()[1])}
            keys |= {"audio_pt": str(audio_pt), "audio_rtpmap": audio_rtpmap}
            proc = await sipp("uac_audio.xml", local_port=free_port(), remote=(LOOPBACK, gw.port), keys=keys)
            await events.until(lambda: bool(events.inbound), what="inbound call")
            yield InboundCall(app, events.inbound[0][4], proc, carrier_rtp)
            await app.close()
    carrier_rtp.close()


def test_audio_both_ways_sample_exact(tmp_path: Path) -> None:
    pcm = tone_frames(FRAMES)
    coded = [bytes(ulaw_encode_sample(s) for s in frame) for frame in pcm]
    pcap = tmp_path / "uplink.pcap"
    write_pcap(pcap, [rtp(c, 0, 100 + i, 160 * i, 0xCAFE, i == 0) for i, c in enumerate(coded)])

    async def main() -> None:
        async with inbound_call(tmp_path, pcap, 0, "PCMU/8000") as call:
            uplink = await call.app.subscribe(("voice", call.sid), "uplink")
            downlink = await call.app.publish(("voice", call.sid), "downlink", capability="voice/g711_ulaw")
            sent = [bytes([(i * 7 + k) & 0xFF for k in range(160)]) for i in range(FRAMES)]

            async def play_downlink() -> None:
                for frame in sent:
                    downlink.write(frame)
                    await asyncio.sleep(0.02)

            player = asyncio.create_task(play_downlink())
            received: list[bytes] = []
            async for obj in uplink:
                assert obj.capability in (None, "voice/g711_ulaw")
                received.append(obj.payload)
                if len(received) == FRAMES:
                    break
            await player
            rc, err = await finished(call.carrier)
            assert rc == 0, err

            # uplink: every frame, in order, each sample equal after decoding
            assert len(received) == FRAMES
            decoded = [[ulaw_decode_sample(b) for b in frame] for frame in received]
            expected = [[ulaw_decode_sample(ulaw_encode_sample(s)) for s in frame] for frame in pcm]
            assert decoded == expected

            # downlink: what we published left as RTP PCMU, in order, with consecutive sequence numbers
            loop = asyncio.get_running_loop()
            packets = []
            while True:
                try:
                    packets.append(parse_rtp(await asyncio.wait_for(loop.sock_recv(call.carrier_rtp, 2048), 0.5)))
                except TimeoutError:
                    break
            assert packets, "no downlink RTP reached the carrier"
            payloads = [p[3] for p in packets]
            assert {p[0] for p in packets} == {0}
            assert all((b[1] - a[1]) & 0xFFFF == 1 for a, b in itertools.pairwise(packets))
            start = sent.index(payloads[0])
            assert payloads == sent[start : start + len(payloads)]
            assert len(payloads) >= FRAMES - 5  # the downlink's first objects may precede the gateway's subscribe

    run(main())


def test_opus_offered_by_the_carrier_arrives_on_the_uplink(tmp_path: Path) -> None:
    """SIPp offers opus/48000/2 and plays real Opus packets (the core's encoder, a 1 kHz sine at -10 dBFS):
    the uplink carries them as voice/opus, and decoded they are that tone at that level."""
    import clutchcall_core.opus as opus
    import numpy as np

    rate, frame, tone_hz, amplitude = 48_000, 960, 1000.0, 0.316 * 32767
    n = np.arange(FRAMES * frame)
    pcm = (amplitude * np.sin(2 * np.pi * tone_hz * n / rate)).astype("<i2")
    encoder = opus.Encoder(rate, 1, 20)
    packets = [encoder.encode(pcm[i * frame : (i + 1) * frame].tobytes()) for i in range(FRAMES)]
    pcap = tmp_path / "opus.pcap"
    write_pcap(pcap, [rtp(p, 111, 100 + i, frame * i, 0x0905, i == 0) for i, p in enumerate(packets)])

    async def main() -> None:
        async with inbound_call(tmp_path, pcap, 111, "opus/48000/2") as call:
            uplink = await call.app.subscribe(("voice", call.sid), "uplink")
            received: list[bytes] = []
            async for obj in uplink:
                assert obj.capability in (None, "voice/opus")
                received.append(obj.payload)
                if len(received) == FRAMES:
                    break
            rc, err = await finished(call.carrier)
            assert rc == 0, err
        assert received == packets  # the packets themselves, in order: no transcoding on the way
        decoder = opus.Decoder(rate, 1)
        decoded = np.frombuffer(b"".join(decoder.decode(p) for p in received), "<i2").astype(float)
        steady = decoded[rate // 10 :]  # past the codec's start-up
        spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady))))
        dominant_hz = np.fft.rfftfreq(len(steady), 1 / rate)[int(np.argmax(spectrum))]
        assert abs(dominant_hz - tone_hz) < 5
        level_db = 20 * np.log10(np.sqrt(np.mean(steady**2)) / (amplitude / np.sqrt(2)))
        assert abs(level_db) < 1.0, level_db

    run(main())


def test_dtmf_rfc4733_and_info(tmp_path: Path) -> None:
    pcap = tmp_path / "dtmf.pcap"
    write_pcap(pcap, dtmf_packets("19#"))

    async def main() -> None:
        events = RecordingEvents()
        async with gateway(sip_config(free_port()), events) as gw:
            proc = await sipp(
                "uac_dtmf.xml", local_port=free_port(), remote=(LOOPBACK, gw.port), keys={"dtmf_pcap": str(pcap)}
            )
            rc, err = await finished(proc)
            assert rc == 0, err
            await events.until(lambda: len(events.dtmf_digits.get("CA-in-1", [])) == 4, what="4 digits")
            # INFO's 7 first; then each RFC 4733 event once (its end packet was sent three times), 800/8 = 100 ms
            assert events.dtmf_digits["CA-in-1"] == [("7", 160), ("1", 100), ("9", 100), ("#", 100)]

    run(main())


def test_downlink_rtp_pauses_on_hold_and_resumes_with_the_clock_run_on() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind((LOOPBACK, 0))
        sink.setblocking(False)
        _, leg = await loop.create_datagram_endpoint(lambda: RtpLeg(lambda d, ms: None), local_addr=(LOOPBACK, 0))
        leg.negotiate((LOOPBACK, sink.getsockname()[1]), Codec.G711_ULAW, 0, 101)
        leg.send_frame(b"\x01" * 160, 160)
        leg.sending = False  # what a sendonly/inactive re-INVITE sets
        leg.send_frame(b"\x02" * 160, 160)
        leg.sending = True
        leg.send_frame(b"\x03" * 160, 160)
        got = []
        with contextlib.suppress(TimeoutError):
            while True:
                got.append(parse_rtp(await asyncio.wait_for(loop.sock_recv(sink, 2048), 0.3)))
        assert [p[3][:1] for p in got] == [b"\x01", b"\x03"]
        assert (got[1][1] - got[0][1]) & 0xFFFF == 1 and (got[1][2] - got[0][2]) & 0xFFFFFFFF == 320
        await leg.close()
        sink.close()

    run(main())
