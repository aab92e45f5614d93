"""Test media made at test time: G.711 mu-law from a reference implementation written from ITU-T G.711
(independent of the core's SIMD code), RTP packets and RFC 4733 events, and pcap files SIPp can play."""

from __future__ import annotations

import math
import struct
from pathlib import Path

_BIAS, _CLIP = 0x84, 32635


def ulaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, _CLIP) + _BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ulaw_decode_sample(code: int) -> int:
    code = ~code & 0xFF
    magnitude = ((((code & 0x0F) << 3) + _BIAS) << ((code >> 4) & 0x07)) - _BIAS
    return -magnitude if code & 0x80 else magnitude


def tone_frames(count: int, samples_per_frame: int = 160) -> list[list[int]]:
    """A rising sweep with a little of every level, frame by frame (8 kHz PCM)."""
    out = []
    for f in range(count):
        frame = []
        for i in range(samples_per_frame):
            n = f * samples_per_frame + i
            frame.append(int(20000 * math.sin(2 * math.pi * (200 + n / 8) * n / 8000)) - (n % 7) * 3)
        out.append(frame)
    return out


def rtp(payload: bytes, pt: int, seq: int, ts: int, ssrc: int, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def parse_rtp(packet: bytes) -> tuple[int, int, int, bytes]:
    """(payload type, sequence, timestamp, payload) of a packet without CSRCs or extension."""
    b0, b1, seq, ts, _ = struct.unpack("!BBHII", packet[:12])
    assert b0 >> 6 == 2 and not b0 & 0x1F, "RTP version 2 without CSRC/extension"
    return b1 & 0x7F, seq, ts, packet[12:]


def dtmf_packets(digits: str, ssrc: int = 0x1234, pt: int = 101) -> list[bytes]:
    """RFC 4733 events: per digit three updates then the end packet sent three times (2.5.1.4)."""
    events = "0123456789*#ABCD"
    packets, seq = [], 1
    for k, digit in enumerate(digits):
        ts = 8000 + k * 4000
        for step in range(1, 4):
            packets.append(
                rtp(bytes([events.index(digit), 10]) + struct.pack("!H", step * 160), pt, seq, ts, ssrc, step == 1)
            )
            seq += 1
        for _ in range(3):
            packets.append(rtp(bytes([events.index(digit), 0x80 | 10]) + struct.pack("!H", 800), pt, seq, ts, ssrc))
            seq += 1
    return packets


def write_pcap(path: Path, payloads: list[bytes], interval_s: float = 0.02, src_port: int = 6000) -> None:
    """Ethernet/IPv4/UDP frames 127.0.0.1 -> 127.0.0.1 every `interval_s`; SIPp replaces the addresses."""
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, payload in enumerate(payloads):
        udp = struct.pack("!HHHH", src_port, 7000, 8 + len(payload), 0) + payload
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, b"\x7f\0\0\1", b"\x7f\0\0\1"
        )
        checksum = sum(struct.unpack("!10H", ip))
        checksum = (checksum & 0xFFFF) + (checksum >> 16)
        ip = ip[:10] + struct.pack("!H", ~checksum & 0xFFFF) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        t = i * interval_s
        records.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(records))
