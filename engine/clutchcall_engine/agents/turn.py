"""Turn detection: from 16-bit PCM frames to the events an agent acts on.

Settings come from the IDL's `TurnDetection` (its `VadSettings` and `BargeIn`), with the IDL's
defaults read through the generated `*_or_default()` accessors, never restated here.

- speech starts after `ONSET_MS` of consecutive voiced frames (one voiced frame of noise is not a
  turn); the turn's audio starts `prefix_padding_ms` before the first voiced frame;
- a turn finishes after `silence_duration_ms` without speech (mode server_vad); in mode manual only
  `end_turn()` finishes it;
- mode semantic: after `SEMANTIC_PAUSE_MS` of silence in a turn the detector raises `TurnPaused`, and
  the session asks an end-of-turn model (agents/semantic.py) about the turn's audio. "Complete" ends
  the turn there (`end_paused_turn`); "not yet" holds it open (`hold`) for up to
  SEMANTIC_HOLD_FACTOR x `silence_duration_ms` of silence, the VAD backstop; a pause the model did not
  judge in time ends after `silence_duration_ms`, as in server_vad. Speech resuming opens a new pause
  later; a verdict only acts on the pause it was asked about;
- barge-in: while the agent is speaking, `min_speech_ms` of caller speech (gaps shorter than
  `BARGE_IN_GAP_MS` do not reset the count) raises one `BargeIn`;
- frames the `EchoGuard` recognises as the agent's own audio count as silence;
- with barge-in enabled, speech that starts while the agent talks is held, not announced: it takes
  the floor (SpeechStarted, the turn re-anchored at the speech that took it) when it barges in, or
  when `ONSET_MS` of it falls after the agent stopped (a caller starting just before the agent's
  last word keeps the turn). A held turn that ends without either (a backchannel such as "mm-hmm"
  while the agent talks, a leak of the agent's echo) is dropped with no event, and counted;
- a turn with less than `MIN_TURN_SPEECH_MS` of speech in all (a click, a leak of echo) is dropped
  and counted.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Final

from clutchcall.enums import TurnDetectionMode
from clutchcall.messages import BargeIn as BargeInSettings
from clutchcall.messages import TurnDetection, VadSettings

from .echo import EchoGuard
from .vad import VoiceActivityDetector, frame_bytes

ONSET_MS: Final = 60
MIN_TURN_SPEECH_MS: Final = 120
BARGE_IN_GAP_MS: Final = 100
MAX_TURN_MS: Final = 60_000  # the audio a TurnFinished carries; longer turns keep their last minute
MAX_SILENCE_DURATION_MS: Final = 10_000
MAX_PREFIX_PADDING_MS: Final = 2_000
MAX_MIN_SPEECH_MS: Final = 5_000
SEMANTIC_PAUSE_MS: Final = 200  # silence after which the end-of-turn model is asked (at most silence_duration_ms)
SEMANTIC_HOLD_FACTOR: Final = 4  # a turn the model judged unfinished waits this many silence_duration_ms


class TurnSettingsError(ValueError):
    """A TurnDetection value out of range; `field` is its path in the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class TurnSettings:
    mode: TurnDetectionMode
    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int
    barge_in: bool
    barge_in_min_speech_ms: int

    @classmethod
    def from_idl(cls, td: TurnDetection | None, field: str = "turn_detection") -> TurnSettings:
        """The settings of a TurnDetection (None means every default); raises TurnSettingsError naming the field."""
        td = td or TurnDetection()
        vad = td.vad or VadSettings()
        barge = td.barge_in or BargeInSettings()
        mode = td.mode_or_default()
        if mode == TurnDetectionMode.UNSPECIFIED:
            mode = TurnDetection().mode_or_default()
        if not isinstance(mode, TurnDetectionMode):
            raise TurnSettingsError(f"{field}.mode", f"unknown turn-detection mode {mode}")
        threshold = vad.threshold_or_default()
        if not 0.0 <= threshold <= 1.0:  # also refuses NaN
            raise TurnSettingsError(f"{field}.vad.threshold", f"{threshold} not in 0.0..1.0")
        ranges = (
            ("vad.prefix_padding_ms", vad.prefix_padding_ms_or_default(), 0, MAX_PREFIX_PADDING_MS),
            ("vad.silence_duration_ms", vad.silence_duration_ms_or_default(), 1, MAX_SILENCE_DURATION_MS),
            ("barge_in.min_speech_ms", barge.min_speech_ms_or_default(), 0, MAX_MIN_SPEECH_MS),
        )
        for name, value, low, high in ranges:
            if not low <= value <= high:
                raise TurnSettingsError(f"{field}.{name}", f"{value} not in {low}..{high}")
        return cls(
            mode=mode,
            threshold=threshold,
            prefix_padding_ms=ranges[0][1],
            silence_duration_ms=ranges[1][1],
            barge_in=barge.enabled_or_default(),
            barge_in_min_speech_ms=ranges[2][1],
        )


@dataclasses.dataclass(frozen=True)
class SpeechStarted:
    at_ms: int  # stream time the event was raised
    speech_ms: int  # stream time of the first voiced frame


@dataclasses.dataclass(frozen=True)
class TurnFinished:
    at_ms: int
    speech_started_ms: int
    speech_ended_ms: int  # end of the last voiced frame
    audio: bytes  # pcm16 from prefix_padding_ms before speech_started_ms to at_ms (at most MAX_TURN_MS)
    truncated: bool


@dataclasses.dataclass(frozen=True)
class BargeIn:
    at_ms: int
    speech_ms: int  # stream time the interrupting speech began


@dataclasses.dataclass(frozen=True)
class TurnPaused:
    """Mode semantic: the caller paused SEMANTIC_PAUSE_MS inside a turn; ask the end-of-turn model. For the session,
    not the agent."""

    at_ms: int
    pause: int  # which pause: hold() and end_paused_turn() act only while this one lasts


TurnEvent = SpeechStarted | TurnFinished | BargeIn | TurnPaused


class SpeechStretch:
    """A stretch of speech: voiced frames whose gaps are shorter than BARGE_IN_GAP_MS (a word's stop or a breath
    does not end it); where it began and how much of it was voiced."""

    def __init__(self, frame_ms: int) -> None:
        self.frame_ms = frame_ms
        self.start_ms = 0
        self.voiced_ms = 0  # 0: no stretch under way
        self._gap_ms = 0

    def push(self, voiced: bool, frame_start_ms: int) -> None:
        if voiced:
            if self.voiced_ms == 0:
                self.start_ms = frame_start_ms
            self.voiced_ms += self.frame_ms
            self._gap_ms = 0
        else:
            self._gap_ms += self.frame_ms
            if self._gap_ms >= BARGE_IN_GAP_MS:
                self.voiced_ms = 0

    def reset(self) -> None:
        self.voiced_ms = 0


class TurnDetector:
    """Feed it every uplink frame in order with `push`; it returns the events that frame caused."""

    def __init__(
        self,
        settings: TurnSettings,
        vad: VoiceActivityDetector,
        echo: EchoGuard | None = None,
    ) -> None:
        self.settings = settings
        self.vad = vad
        self.echo = echo
        self.frame_ms = vad.frame_ms
        self.frame_bytes = frame_bytes(vad.sample_rate, vad.frame_ms)
        self.now_ms = 0
        self._voiced_run = 0
        onset_frames = -(-ONSET_MS // self.frame_ms)
        self._prefix: deque[bytes] = deque(maxlen=settings.prefix_padding_ms // self.frame_ms + onset_frames)
        self._turn: deque[bytes] = deque(maxlen=MAX_TURN_MS // self.frame_ms)
        self._turn_frames = 0
        self._in_turn = False
        self._speech_started_ms = 0
        self._last_voiced_end_ms = 0
        self._barge = SpeechStretch(self.frame_ms)  # the caller's speech while the agent talks
        self._barged = False
        self._turn_voiced_ms = 0
        self._announced = False  # SpeechStarted raised for the open turn (else it is held)
        self._clear_ms = 0  # a held turn's voiced time since the agent stopped, in the current stretch
        self._stretch = SpeechStretch(self.frame_ms)  # the caller's current speech, whoever else talks
        self.echo_suppressed = 0  # voiced frames the echo guard turned into silence
        self.dropped_short = 0  # turns under MIN_TURN_SPEECH_MS
        self.dropped_backchannels = 0  # turns begun over the agent that never took the floor
        self._pause = 0  # the last TurnPaused raised
        self._pause_open = False  # ... and the caller has stayed silent since
        self._held = False  # ... and the model judged the turn unfinished
        self._pause_after_ms = min(SEMANTIC_PAUSE_MS, settings.silence_duration_ms)
        self._hold_ms = min(MAX_SILENCE_DURATION_MS, SEMANTIC_HOLD_FACTOR * settings.silence_duration_ms)

    @property
    def in_turn(self) -> bool:
        return self._in_turn

    def push(self, frame: bytes, *, agent_speaking: bool = False) -> list[TurnEvent]:
        start_ms = self.now_ms
        self.now_ms += self.frame_ms
        voiced = self.vad.is_speech(frame)
        if self.echo is not None and self.echo.is_echo(frame, voiced=voiced):
            voiced = False
            self.echo_suppressed += 1
        events: list[TurnEvent] = []
        self._stretch.push(voiced, start_ms)
        if voiced:
            self._voiced_run += 1
            self._last_voiced_end_ms = self.now_ms
            self._pause_open = self._held = False
        else:
            self._voiced_run = 0
        if self._in_turn:
            self._turn.append(frame)
            self._turn_frames += 1
            self._turn_voiced_ms += self.frame_ms if voiced else 0
            if not self._announced:
                if agent_speaking or self._stretch.voiced_ms == 0:
                    self._clear_ms = 0
                elif voiced:
                    self._clear_ms += self.frame_ms
                if self._clear_ms >= ONSET_MS:
                    events.append(self._announce(self._stretch.start_ms, self._stretch.voiced_ms))
        else:
            self._prefix.append(frame)
            if self._voiced_run * self.frame_ms >= ONSET_MS:
                started = self._start(start_ms)
                self._turn_voiced_ms = self._voiced_run * self.frame_ms
                if not (self.settings.barge_in and agent_speaking):
                    self._announced = True
                    events.append(started)
        barge = self._barge_in(voiced, agent_speaking, start_ms)
        if barge and self._in_turn and not self._announced:
            events.append(self._announce(barge[0].speech_ms, self._barge.voiced_ms))
        events.extend(barge)
        silent_ms = self.now_ms - self._last_voiced_end_ms
        if (
            self._in_turn
            and (self.settings.mode != TurnDetectionMode.MANUAL or not self._announced)  # held turns lapse in any mode
            and silent_ms >= (self._hold_ms if self._held else self.settings.silence_duration_ms)
        ):
            announced = self._announced
            finished = self._finish()
            if self._turn_voiced_ms < MIN_TURN_SPEECH_MS:
                self.dropped_short += 1
            elif not announced:
                self.dropped_backchannels += 1
            else:
                events.append(finished)
        elif (
            self.settings.mode == TurnDetectionMode.SEMANTIC
            and self._in_turn
            and self._announced
            and not self._pause_open
            and silent_ms >= self._pause_after_ms
            and self._turn_voiced_ms >= MIN_TURN_SPEECH_MS
        ):
            self._pause += 1
            self._pause_open = True
            events.append(TurnPaused(at_ms=self.now_ms, pause=self._pause))
        return events

    def _paused(self, pause: int) -> bool:
        return self._in_turn and self._announced and self._pause_open and pause == self._pause

    def hold(self, pause: int) -> bool:
        """The model judged the turn unfinished at `pause`: wait the longer backstop, unless the pause is over."""
        if not self._paused(pause):
            return False
        self._held = True
        return True

    def end_paused_turn(self, pause: int) -> TurnFinished | None:
        """The model judged the turn complete at `pause`: finish it, if the caller is still silent in that pause."""
        return self._finish() if self._paused(pause) else None

    def turn_audio(self, last_ms: int) -> bytes:
        """The open turn's audio so far (prefix padding included), its last `last_ms` at most."""
        frames = list(self._turn)[-max(1, last_ms // self.frame_ms) :]
        return b"".join(frames)

    def end_turn(self) -> TurnFinished | None:
        """Finish the current turn now (mode manual, or an agent deciding from content); None when there is none
        (a held turn, one not announced, is not the agent's to end)."""
        return self._finish() if self._in_turn and self._announced else None

    def _start(self, frame_start_ms: int) -> SpeechStarted:
        self._in_turn = True
        onset_frames = self._voiced_run
        self._speech_started_ms = frame_start_ms - (onset_frames - 1) * self.frame_ms
        keep = min(len(self._prefix), onset_frames + self.settings.prefix_padding_ms // self.frame_ms)
        self._turn.clear()
        self._turn.extend(list(self._prefix)[-keep:])
        self._turn_frames = len(self._turn)
        self._prefix.clear()
        return SpeechStarted(at_ms=self.now_ms, speech_ms=self._speech_started_ms)

    def _announce(self, speech_ms: int, voiced_ms: int) -> SpeechStarted:
        """A held turn takes the floor: it now starts at `speech_ms` (what came before was not the caller's turn,
        but the agent's echo or a backchannel), with `prefix_padding_ms` of audio before that."""
        self._announced = True
        first_ms = self.now_ms - len(self._turn) * self.frame_ms
        drop = min(len(self._turn), max(0, (speech_ms - self.settings.prefix_padding_ms - first_ms) // self.frame_ms))
        for _ in range(drop):
            self._turn.popleft()
        if drop:  # the turn now starts inside what is kept: nothing of it was cut off
            self._turn_frames = len(self._turn)
        self._speech_started_ms = speech_ms
        self._turn_voiced_ms = voiced_ms
        return SpeechStarted(at_ms=self.now_ms, speech_ms=speech_ms)

    def _finish(self) -> TurnFinished:
        self._in_turn = False
        self._announced = False
        self._pause_open = self._held = False
        self._clear_ms = 0
        truncated = self._turn_frames > len(self._turn)
        event = TurnFinished(
            at_ms=self.now_ms,
            speech_started_ms=self._speech_started_ms,
            speech_ended_ms=self._last_voiced_end_ms,
            audio=b"".join(self._turn),
            truncated=truncated,
        )
        self._turn.clear()
        self._turn_frames = 0
        return event

    def _barge_in(self, voiced: bool, agent_speaking: bool, frame_start_ms: int) -> list[BargeIn]:
        if not agent_speaking:
            self._barged = False
            self._barge.reset()
            return []
        self._barge.push(voiced, frame_start_ms)
        if (
            self.settings.barge_in
            and not self._barged
            and self._barge.voiced_ms > 0
            and self._barge.voiced_ms >= self.settings.barge_in_min_speech_ms
        ):
            self._barged = True
            return [BargeIn(at_ms=self.now_ms, speech_ms=self._barge.start_ms)]
        return []
