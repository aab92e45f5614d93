"""The barge mixing (sip/conference.py) against reference G.711 written here from ITU-T G.191's g711.c (the
core's SIMD code claims bit-exactness to it; both references are checked against it over every input):
per mode, every listener's frame is exactly the saturated sum of the parties it hears, in its codec."""

from __future__ import annotations

import numpy as np
import pytest
from clutchcall import BargeMode, Codec
from clutchcall_engine.sip.conference import HEARS, Conference, Mixer, Party, mix
from hypothesis import given, settings
from hypothesis import strategies as st
from rtp_fixtures import ulaw_decode_sample

C, A, S = Party.CALLER, Party.AGENT, Party.SUPERVISOR
SAMPLES = 160


def ulaw_encode_sample(sample: int) -> int:
    """G.191 mu-law: negative samples are one's complement (~x), which differs from |x| by one step."""
    magnitude = min(((~sample if sample < 0 else sample) >> 2) + 33, 0x1FFF)
    segment = magnitude.bit_length() - 5  # 1..8
    code = ((8 - segment) << 4) | (0x0F - ((magnitude >> segment) & 0x0F))
    return code | 0x80 if sample >= 0 else code


def alaw_encode_sample(sample: int) -> int:
    """G.711 A-law of a 16-bit sample (its 13 most significant bits)."""
    pcm = sample >> 3
    mask = 0xD5
    if pcm < 0:
        mask, pcm = 0x55, -pcm - 1
    for segment, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        if pcm <= end:
            mantissa = (pcm >> 1) & 0x0F if segment < 2 else (pcm >> segment) & 0x0F
            return ((segment << 4) | mantissa) ^ mask
    return 0x7F ^ mask


def alaw_decode_sample(code: int) -> int:
    code ^= 0x55
    magnitude = ((code & 0x0F) << 4) + 8
    segment = (code & 0x70) >> 4
    if segment >= 1:
        magnitude = (magnitude + 0x100) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


REFERENCE = {
    Codec.G711_ULAW: (ulaw_encode_sample, ulaw_decode_sample),
    Codec.G711_ALAW: (alaw_encode_sample, alaw_decode_sample),
}


def test_the_references_are_the_core_s_g711() -> None:
    """The references above are the oracle of the mixing tests: they agree with the core on every input."""
    import clutchcall_core.g711 as g711

    pcm = np.arange(-32768, 32768, dtype="<i2")
    codes = bytes(range(256))
    assert list(g711.ulaw_encode(pcm.tobytes())) == [ulaw_encode_sample(int(s)) for s in pcm]
    assert list(g711.alaw_encode(pcm.tobytes())) == [alaw_encode_sample(int(s)) for s in pcm]
    assert list(np.frombuffer(g711.ulaw_decode(codes), "<i2")) == [ulaw_decode_sample(c) for c in codes]
    assert list(np.frombuffer(g711.alaw_decode(codes), "<i2")) == [alaw_decode_sample(c) for c in codes]


def encode(codec: int, samples: list[int]) -> bytes:
    return bytes(REFERENCE[codec][0](s) for s in samples)


def decode(codec: int, payload: bytes) -> list[int]:
    return [REFERENCE[codec][1](b) for b in payload]


def expected(listener_codec: int, heard: list[tuple[int, bytes | None]]) -> list[int] | None:
    """The decoded frame a listener must get: the saturated sum of the present parties, through its codec."""
    present = [(codec, p) for codec, p in heard if p is not None]
    if not present:
        return None
    sums = [sum(column) for column in zip(*(decode(codec, p) for codec, p in present), strict=True)]
    return decode(listener_codec, encode(listener_codec, [max(-32768, min(32767, s)) for s in sums]))


def test_who_hears_whom() -> None:
    assert HEARS[BargeMode.LISTEN] == {C: (A,), A: (C,), S: (C, A)}
    assert HEARS[BargeMode.WHISPER] == {C: (A,), A: (C, S), S: (C, A)}
    assert HEARS[BargeMode.BARGE] == {C: (A, S), A: (C, S), S: (C, A)}


def test_mix_saturates() -> None:
    a = np.array([30000, -30000, 100, 32767, -32768], np.int16)
    b = np.array([30000, -30000, -100, 1, -1], np.int16)
    assert mix([a, b]).tolist() == [32767, -32768, 0, 32767, -32768]
    assert mix([a, b, b]).tolist() == [32767, -32768, -100, 32767, -32768]


samples = st.lists(st.integers(-32768, 32767), min_size=SAMPLES, max_size=SAMPLES)
maybe_frame = st.one_of(st.none(), samples)


@pytest.mark.parametrize("mode", [BargeMode.LISTEN, BargeMode.WHISPER, BargeMode.BARGE])
@pytest.mark.parametrize(
    ("call_codec", "supervisor_codec"),
    [(Codec.G711_ULAW, Codec.G711_ULAW), (Codec.G711_ULAW, Codec.G711_ALAW), (Codec.G711_ALAW, Codec.G711_ULAW)],
)
@settings(max_examples=40, deadline=None)
@given(caller=maybe_frame, agent=maybe_frame, supervisor=maybe_frame)
def test_every_listener_gets_the_saturated_sum_of_whom_it_hears(
    mode: BargeMode,
    call_codec: int,
    supervisor_codec: int,
    caller: list[int] | None,
    agent: list[int] | None,
    supervisor: list[int] | None,
) -> None:
    codecs = {C: call_codec, A: call_codec, S: supervisor_codec}
    payloads = {
        C: None if caller is None else encode(call_codec, caller),
        A: None if agent is None else encode(call_codec, agent),
        S: None if supervisor is None else encode(supervisor_codec, supervisor),
    }
    out = Mixer(mode, call_codec, supervisor_codec).tick(payloads[C], payloads[A], payloads[S])
    got = {C: out.caller, A: out.agent, S: out.supervisor}
    for listener, heard in HEARS[mode].items():
        want = expected(codecs[listener], [(codecs[p], payloads[p]) for p in heard])
        frame = got[listener]
        assert (None if frame is None else decode(codecs[listener], frame)) == want, (listener, mode)


def test_loud_parties_clip_instead_of_wrapping() -> None:
    loud = encode(Codec.G711_ULAW, [30000] * SAMPLES)
    quiet_negative = encode(Codec.G711_ULAW, [-30000] * SAMPLES)
    out = Mixer(BargeMode.BARGE, Codec.G711_ULAW, Codec.G711_ULAW).tick(loud, loud, quiet_negative)
    assert out.supervisor is not None and out.caller is not None and out.agent is not None
    assert set(decode(Codec.G711_ULAW, out.supervisor)) == {ulaw_decode_sample(ulaw_encode_sample(32767))}
    # caller hears agent + supervisor: ulaw(30000) + ulaw(-30000) cancel exactly
    assert set(decode(Codec.G711_ULAW, out.caller)) == {0}


def test_a_single_party_in_the_listener_s_codec_passes_untouched() -> None:
    import clutchcall_core.g711 as g711

    caller = bytes([0x7F]) * SAMPLES  # mu-law "negative zero": re-encoding would make it 0xFF
    out = Mixer(BargeMode.LISTEN, Codec.G711_ULAW, Codec.G711_ULAW).tick(caller, None, None)
    assert (out.agent, out.supervisor, out.caller) == (caller, caller, None)
    out = Mixer(BargeMode.LISTEN, Codec.G711_ULAW, Codec.G711_ALAW).tick(caller, None, None)
    assert out.supervisor == g711.ulaw_to_alaw(caller)  # another codec: decoded and re-encoded


def test_nobody_present_sends_nothing_and_listen_ignores_the_supervisor() -> None:
    out = Mixer(BargeMode.LISTEN, Codec.G711_ULAW, Codec.G711_ULAW).tick(None, None, b"\x10" * SAMPLES)
    assert (out.caller, out.agent, out.supervisor) == (None, None, None)


def test_bad_mode_and_codec_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="mode"):
        Mixer(BargeMode.UNSPECIFIED, Codec.G711_ULAW, Codec.G711_ULAW)
    with pytest.raises(ValueError, match="codec"):
        Mixer(BargeMode.LISTEN, Codec.PCM16, Codec.G711_ULAW)


def test_opus_supervisor_hears_the_g711_call_at_its_frequency() -> None:
    """A G.711 call with an Opus supervisor mixes at 48 kHz: the supervisor's Opus decodes to the caller's tone."""
    import clutchcall_core.opus as opus

    tone = [int(8000 * np.sin(2 * np.pi * 1000 * n / 8000)) for n in range(SAMPLES * 50)]
    mixer = Mixer(BargeMode.LISTEN, Codec.G711_ULAW, Codec.OPUS)
    decoder = opus.Decoder(48000, 1)
    heard = b""
    for f in range(50):
        out = mixer.tick(encode(Codec.G711_ULAW, tone[f * SAMPLES : (f + 1) * SAMPLES]), None, None)
        assert out.supervisor is not None and out.agent is not None
        heard += decoder.decode(out.supervisor)
    pcm = np.frombuffer(heard, "<i2").astype(float)[48000 // 5 :]
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    assert abs(np.fft.rfftfreq(len(pcm), 1 / 48000)[int(np.argmax(spectrum))] - 1000) < 5
    level_db = 20 * np.log10(np.sqrt(np.mean(pcm**2)) / (8000 / np.sqrt(2)))
    assert abs(level_db) < 1.0, level_db


def test_a_g711_supervisor_hears_an_opus_call_at_its_frequency() -> None:
    """An Opus call with a PCMU supervisor: the caller's 48 kHz Opus is decoded, mixed at 48 kHz and resampled
    to the supervisor's 8 kHz: one 160-byte frame per tick, the tone at its frequency and level."""
    import clutchcall_core.opus as opus

    n = np.arange(960 * 50)
    tone = (8000 * np.sin(2 * np.pi * 1000 * n / 48000)).astype("<i2")
    encoder = opus.Encoder(48000, 1, 20)
    mixer = Mixer(BargeMode.LISTEN, Codec.OPUS, Codec.G711_ULAW)
    heard: list[int] = []
    for f in range(50):
        out = mixer.tick(encoder.encode(tone[f * 960 : (f + 1) * 960].tobytes()), None, None)
        assert out.supervisor is not None and len(out.supervisor) == SAMPLES
        heard += decode(Codec.G711_ULAW, out.supervisor)
    pcm = np.array(heard[8000 // 5 :], float)  # past the codec's and the resampler's start-up
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    assert abs(np.fft.rfftfreq(len(pcm), 1 / 8000)[int(np.argmax(spectrum))] - 1000) < 5
    level_db = 20 * np.log10(np.sqrt(np.mean(pcm**2)) / (8000 / np.sqrt(2)))
    assert abs(level_db) < 1.0, level_db


def test_conference_ticks_send_and_bound_the_agent_queue() -> None:
    to_caller: list[bytes] = []
    to_supervisor: list[bytes] = []
    supervisor_frames = [encode(Codec.G711_ULAW, [1000] * SAMPLES), None]
    conference = Conference(
        Mixer(BargeMode.WHISPER, Codec.G711_ULAW, Codec.G711_ULAW),
        lambda: supervisor_frames.pop(0) if supervisor_frames else None,
        to_caller.append,
        to_supervisor.append,
        agent_queue_frames=2,
    )
    agent = [encode(Codec.G711_ULAW, [k * 100] * SAMPLES) for k in range(1, 4)]
    for frame in agent:
        conference.agent_frame(frame)
    assert conference.stats.agent_dropped == 1  # the oldest (agent[0]) went
    caller = encode(Codec.G711_ULAW, [-500] * SAMPLES)
    uplink = conference.tick(caller)
    assert uplink is not None and decode(Codec.G711_ULAW, uplink) == expected(
        Codec.G711_ULAW, [(Codec.G711_ULAW, caller), (Codec.G711_ULAW, supervisor_frames_first())]
    )
    assert to_caller == [agent[1]]  # whisper: the caller hears the agent only, untouched
    assert decode(Codec.G711_ULAW, to_supervisor[0]) == expected(
        Codec.G711_ULAW, [(Codec.G711_ULAW, caller), (Codec.G711_ULAW, agent[1])]
    )
    assert conference.tick(None) is None  # second tick: agent[2] only; the agent side hears nobody
    assert to_caller == [agent[1], agent[2]] and to_supervisor[1] == agent[2]
    assert conference.tick(None) is None and len(to_caller) == 2  # nobody: nothing sent
    assert conference.stats.ticks == 3


def supervisor_frames_first() -> bytes:
    return encode(Codec.G711_ULAW, [1000] * SAMPLES)


def test_mixing_is_bit_exact_over_every_mu_law_pair_at_a_stride() -> None:
    """Exhaustive over the code space: every pair of mu-law codes (a 256 x 256 grid, one pair per sample)."""
    codes = np.arange(256, dtype=np.uint8)
    left = np.repeat(codes, 256)
    right = np.tile(codes, 256)
    pad = -len(left) % SAMPLES  # whole 20 ms frames: the grid's first pairs again
    left, right = np.concatenate([left, left[:pad]]), np.concatenate([right, right[:pad]])
    mixer = Mixer(BargeMode.LISTEN, Codec.G711_ULAW, Codec.G711_ULAW)
    decoded = {c: ulaw_decode_sample(c) for c in range(256)}
    for start in range(0, len(left), SAMPLES):
        caller, agent = bytes(left[start : start + SAMPLES]), bytes(right[start : start + SAMPLES])
        out = mixer.tick(caller, agent, None)
        assert out.supervisor is not None
        want = [
            ulaw_encode_sample(max(-32768, min(32767, decoded[a] + decoded[b])))
            for a, b in zip(caller, agent, strict=True)
        ]
        assert [ulaw_decode_sample(x) for x in out.supervisor] == [ulaw_decode_sample(x) for x in want]
