// Transcoder: decode -> downmix -> resample -> upmix -> re-frame FIFO -> encode. See the header.
#include "transcode/transcoder.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "g711/g711.h"

namespace clutchcall::transcode {

namespace {

bool is_g711(uint32_t c) { return c == CC_CODEC_G711_ULAW || c == CC_CODEC_G711_ALAW; }

bool same(const Shape &a, const Shape &b) {
  return a.codec == b.codec && a.sample_rate == b.sample_rate && a.channels == b.channels &&
         a.frame_ms == b.frame_ms;
}

size_t frame_frames(const Shape &s) { return size_t{s.sample_rate} / 1000 * s.frame_ms; }

size_t fixed_frame_bytes(const Shape &s) {
  if (s.codec == CC_CODEC_PCM16) return frame_frames(s) * s.channels * 2;
  if (is_g711(s.codec)) return frame_frames(s);
  return 0;
}

cc_transcode_status from_opus(cc_opus_status s) {
  switch (s) {
    case CC_OPUS_OK: return CC_TRANSCODE_OK;
    case CC_OPUS_ERR_INVALID_PACKET: return CC_TRANSCODE_ERR_INVALID_PACKET;
    case CC_OPUS_ERR_EMPTY_PACKET: return CC_TRANSCODE_ERR_EMPTY_PACKET;
    case CC_OPUS_ERR_PACKET_TOO_LARGE: return CC_TRANSCODE_ERR_PACKET_TOO_LARGE;
    case CC_OPUS_ERR_ALLOC: return CC_TRANSCODE_ERR_ALLOC;
    case CC_OPUS_ERR_BAD_SETTING: return CC_TRANSCODE_ERR_BAD_SETTING;
    default: return CC_TRANSCODE_ERR_OPUS;
  }
}

// Explicit little-endian byte order: the wire format, whatever the host.
void pcm16_from_le(const uint8_t *b, size_t n, int16_t *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<int16_t>(static_cast<uint16_t>(b[2 * i] | (b[2 * i + 1] << 8)));
}

void pcm16_to_le(const int16_t *s, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<uint16_t>(s[i]);
    out[2 * i] = static_cast<uint8_t>(u & 0xFF);
    out[2 * i + 1] = static_cast<uint8_t>(u >> 8);
  }
}

}  // namespace

std::unique_ptr<Transcoder> Transcoder::create(const Shape &in_raw, const Shape &out_raw,
                                               const cc_opus_encoder_settings &opus_settings,
                                               cc_transcode_status *status) noexcept {
  cc_transcode_status ignored;
  cc_transcode_status &s = status ? *status : ignored;
  const Shape in = cc_audio_shape_normalize(in_raw), out = cc_audio_shape_normalize(out_raw);
  if ((s = cc_audio_shape_validate(&in)) != CC_TRANSCODE_OK) return nullptr;
  if ((s = cc_audio_shape_validate(&out)) != CC_TRANSCODE_OK) return nullptr;

  std::unique_ptr<Transcoder> t(new (std::nothrow) Transcoder());
  if (!t) return s = CC_TRANSCODE_ERR_ALLOC, nullptr;
  t->in_ = in;
  t->out_ = out;
  t->in_frame_ = frame_frames(in);
  t->out_frame_ = frame_frames(out);
  if (same(in, out)) {
    t->passthrough_ = true;
    t->max_frames_ = 1;
    t->max_frame_bytes_ = in.codec == CC_CODEC_OPUS ? size_t{CC_OPUS_MAX_PACKET_IN}
                                                    : fixed_frame_bytes(in);
    s = CC_TRANSCODE_OK;
    return t;
  }
  try {  // vector allocation is the only thing that can throw; all of it happens here
    // An Opus peer may send packets of any duration up to 120 ms.
    t->max_in_frames_ = in.codec == CC_CODEC_OPUS ? size_t{in.sample_rate} / 1000 * 120
                                                  : t->in_frame_;
    t->work_channels_ = std::min(in.channels, out.channels);
    t->decoded_.assign(t->max_in_frames_ * in.channels, 0);
    size_t max_rs = t->max_in_frames_, tail = 0;
    if (in.sample_rate != out.sample_rate) {
      cc_resampler_status rs = CC_RESAMPLER_OK;
      t->rs_ = resample::Resampler::create(in.sample_rate, out.sample_rate, t->work_channels_,
                                           CC_RESAMPLER_QUALITY_DEFAULT, &rs);
      if (!t->rs_)
        return s = rs == CC_RESAMPLER_ERR_ALLOC ? CC_TRANSCODE_ERR_ALLOC
                                                : CC_TRANSCODE_ERR_RESAMPLER,
               nullptr;
      max_rs = t->rs_->max_output(t->max_in_frames_);
      tail = t->rs_->max_output(t->rs_->input_latency());
      t->resampled_.assign(std::max(max_rs, tail) * t->work_channels_, 0);
    }
    // The FIFO holds < one output frame between calls, plus what one call can add.
    const size_t fifo_cap = t->out_frame_ - 1 + std::max(max_rs, tail);
    t->fifo_.assign((fifo_cap + 1) * out.channels, 0);
    t->max_frames_ = (fifo_cap + t->out_frame_ - 1) / t->out_frame_;  // flush pads the last
  } catch (const std::bad_alloc &) {
    return s = CC_TRANSCODE_ERR_ALLOC, nullptr;
  }
  t->max_frame_bytes_ =
      out.codec == CC_CODEC_OPUS ? size_t{CC_OPUS_MAX_PACKET} : fixed_frame_bytes(out);
  if (in.codec == CC_CODEC_OPUS) {
    cc_opus_status os = CC_OPUS_OK;
    t->dec_ = opus::Decoder::create(in.sample_rate, in.channels, &os);
    if (!t->dec_) return s = from_opus(os), nullptr;
  }
  if (out.codec == CC_CODEC_OPUS) {
    cc_opus_status os = CC_OPUS_OK;
    t->enc_ = opus::Encoder::create(out.sample_rate, out.channels, out.frame_ms, opus_settings, &os);
    if (!t->enc_) return s = from_opus(os), nullptr;
  }
  s = CC_TRANSCODE_OK;
  return t;
}

Transcoder::~Transcoder() = default;

cc_transcode_status Transcoder::check_output(Output *out) const noexcept {
  if (out == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  out->len = 0;
  out->n_frames = 0;
  if (out->data == nullptr || out->frame_lens == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  if (out->cap < max_output_bytes() || out->frame_lens_cap < max_frames_)
    return CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL;
  return CC_TRANSCODE_OK;
}

cc_transcode_status Transcoder::process(const uint8_t *in, size_t in_len, Output *out) noexcept {
  if (const cc_transcode_status s = check_output(out); s != CC_TRANSCODE_OK) return s;
  if (in == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  const uint32_t codec = in_.codec;
  if (codec != CC_CODEC_OPUS && in_len != fixed_frame_bytes(in_)) return CC_TRANSCODE_ERR_INPUT_SIZE;

  if (passthrough_) {
    if (codec == CC_CODEC_OPUS) {
      size_t frames = 0;  // validate the framing without decoding
      const cc_opus_status os = cc_opus_packet_frames(in, in_len, in_.sample_rate, &frames);
      if (os != CC_OPUS_OK) return from_opus(os);
    }
    std::memcpy(out->data, in, in_len);
    out->frame_lens[0] = static_cast<uint32_t>(in_len);
    out->len = in_len;
    out->n_frames = 1;
    return CC_TRANSCODE_OK;
  }

  size_t frames = in_frame_;
  switch (codec) {
    case CC_CODEC_PCM16: pcm16_from_le(in, in_frame_ * in_.channels, decoded_.data()); break;
    case CC_CODEC_G711_ULAW: cc_g711_ulaw_decode(in, in_frame_, decoded_.data()); break;
    case CC_CODEC_G711_ALAW: cc_g711_alaw_decode(in, in_frame_, decoded_.data()); break;
    default: {
      const cc_opus_status os =
          dec_->decode(in, in_len, decoded_.data(), max_in_frames_, &frames);
      if (os != CC_OPUS_OK) return from_opus(os);
    }
  }
  return push_decoded(frames, out);
}

cc_transcode_status Transcoder::process_lost(const uint8_t *next_packet, size_t next_len,
                                             Output *out) noexcept {
  if (const cc_transcode_status s = check_output(out); s != CC_TRANSCODE_OK) return s;
  if (passthrough_) return CC_TRANSCODE_OK;  // nothing to forward; the receiver conceals
  size_t frames = in_frame_;
  if (dec_) {
    const cc_opus_status os =
        next_packet != nullptr
            ? dec_->decode_fec(next_packet, next_len, in_frame_, decoded_.data(), max_in_frames_,
                               &frames)
            : dec_->decode_lost(in_frame_, decoded_.data(), max_in_frames_, &frames);
    if (os != CC_OPUS_OK) return from_opus(os);
  } else {
    std::fill_n(decoded_.begin(), in_frame_ * in_.channels, int16_t{0});
  }
  return push_decoded(frames, out);
}

cc_transcode_status Transcoder::flush(Output *out) noexcept {
  if (const cc_transcode_status s = check_output(out); s != CC_TRANSCODE_OK) return s;
  if (passthrough_) return CC_TRANSCODE_OK;
  if (rs_) {
    size_t m = 0;
    if (rs_->flush(resampled_.data(), resampled_.size() / work_channels_, &m) != CC_RESAMPLER_OK)
      return CC_TRANSCODE_ERR_RESAMPLER;
    if (const cc_transcode_status s = push_work(resampled_.data(), m); s != CC_TRANSCODE_OK)
      return s;
  }
  return drain(out, true);
}

void Transcoder::reset() noexcept {
  if (dec_) (void)dec_->reset();
  if (enc_) (void)enc_->reset();
  if (rs_) rs_->reset();
  fifo_frames_ = 0;
}

cc_transcode_status Transcoder::push_decoded(size_t frames, Output *out) noexcept {
  int16_t *pcm = decoded_.data();
  if (in_.channels == 2 && out_.channels == 1) {
    // Downmix to the mean; in place (frame i reads 2i, 2i+1 >= i).
    for (size_t i = 0; i < frames; ++i)
      pcm[i] = static_cast<int16_t>((pcm[2 * i] + pcm[2 * i + 1]) >> 1);
  }
  const int16_t *work = pcm;
  size_t n = frames;
  if (rs_) {
    if (rs_->process(pcm, frames, resampled_.data(), resampled_.size() / work_channels_, &n) !=
        CC_RESAMPLER_OK)
      return CC_TRANSCODE_ERR_RESAMPLER;
    work = resampled_.data();
  }
  if (const cc_transcode_status s = push_work(work, n); s != CC_TRANSCODE_OK) return s;
  return drain(out, false);
}

cc_transcode_status Transcoder::push_work(const int16_t *pcm, size_t frames) noexcept {
  const size_t ch = out_.channels;
  if ((fifo_frames_ + frames) * ch > fifo_.size()) return CC_TRANSCODE_ERR_RESAMPLER;  // bound
  int16_t *dst = fifo_.data() + fifo_frames_ * ch;
  if (work_channels_ == ch) {
    std::copy_n(pcm, frames * ch, dst);
  } else {  // mono -> stereo: duplicate
    for (size_t i = 0; i < frames; ++i) dst[2 * i] = dst[2 * i + 1] = pcm[i];
  }
  fifo_frames_ += frames;
  return CC_TRANSCODE_OK;
}

cc_transcode_status Transcoder::drain(Output *out, bool pad) noexcept {
  const size_t ch = out_.channels;
  size_t pos = 0;
  while (fifo_frames_ - pos >= out_frame_) {
    if (const cc_transcode_status s = encode_frame(fifo_.data() + pos * ch, out);
        s != CC_TRANSCODE_OK)
      return s;
    pos += out_frame_;
  }
  const size_t rest = fifo_frames_ - pos;
  if (pos != 0 && rest != 0) std::memmove(fifo_.data(), fifo_.data() + pos * ch, rest * ch * 2);
  fifo_frames_ = rest;
  if (pad && rest != 0) {
    std::fill(fifo_.begin() + static_cast<std::ptrdiff_t>(rest * ch),
              fifo_.begin() + static_cast<std::ptrdiff_t>(out_frame_ * ch), int16_t{0});
    fifo_frames_ = 0;
    return encode_frame(fifo_.data(), out);
  }
  return CC_TRANSCODE_OK;
}

cc_transcode_status Transcoder::encode_frame(const int16_t *pcm, Output *out) noexcept {
  uint8_t *dst = out->data + out->len;
  size_t len = 0;
  switch (out_.codec) {
    case CC_CODEC_PCM16:
      len = out_frame_ * out_.channels * 2;
      pcm16_to_le(pcm, out_frame_ * out_.channels, dst);
      break;
    case CC_CODEC_G711_ULAW: len = out_frame_; cc_g711_ulaw_encode(pcm, out_frame_, dst); break;
    case CC_CODEC_G711_ALAW: len = out_frame_; cc_g711_alaw_encode(pcm, out_frame_, dst); break;
    default: {
      const cc_opus_status os = enc_->encode(pcm, out_frame_, dst, out->cap - out->len, &len);
      if (os != CC_OPUS_OK) return from_opus(os);
    }
  }
  out->frame_lens[out->n_frames++] = static_cast<uint32_t>(len);
  out->len += len;
  return CC_TRANSCODE_OK;
}

}  // namespace clutchcall::transcode

// ---- C API ------------------------------------------------------------------------------------

using clutchcall::transcode::Transcoder;

struct cc_transcoder {
  std::unique_ptr<Transcoder> impl;
};

extern "C" {

const char *cc_transcode_status_name(int status) {
  switch (status) {
    case CC_TRANSCODE_OK: return "ok";
    case CC_TRANSCODE_ERR_NULL_ARG: return "null_arg";
    case CC_TRANSCODE_ERR_BAD_CODEC: return "bad_codec";
    case CC_TRANSCODE_ERR_BAD_RATE: return "bad_rate";
    case CC_TRANSCODE_ERR_BAD_CHANNELS: return "bad_channels";
    case CC_TRANSCODE_ERR_BAD_FRAME_MS: return "bad_frame_ms";
    case CC_TRANSCODE_ERR_G711_NOT_8K_MONO: return "g711_not_8k_mono";
    case CC_TRANSCODE_ERR_INPUT_SIZE: return "input_size";
    case CC_TRANSCODE_ERR_INVALID_PACKET: return "invalid_packet";
    case CC_TRANSCODE_ERR_EMPTY_PACKET: return "empty_packet";
    case CC_TRANSCODE_ERR_PACKET_TOO_LARGE: return "packet_too_large";
    case CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL: return "output_too_small";
    case CC_TRANSCODE_ERR_OPUS: return "opus";
    case CC_TRANSCODE_ERR_RESAMPLER: return "resampler";
    case CC_TRANSCODE_ERR_ALLOC: return "alloc";
    case CC_TRANSCODE_ERR_BAD_SETTING: return "bad_setting";
    default: return "unknown";
  }
}

cc_audio_shape cc_audio_shape_normalize(cc_audio_shape s) {
  if (s.codec == CC_CODEC_UNSPECIFIED) s.codec = CC_CODEC_OPUS;
  if (s.sample_rate == 0) s.sample_rate = 48000;
  if (s.channels == 0) s.channels = 1;
  if (s.frame_ms == 0) s.frame_ms = 20;
  return s;
}

cc_transcode_status cc_audio_shape_validate(const cc_audio_shape *s) {
  if (s == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  if (s->codec < CC_CODEC_OPUS || s->codec > CC_CODEC_G711_ALAW) return CC_TRANSCODE_ERR_BAD_CODEC;
  if (s->channels != 1 && s->channels != 2) return CC_TRANSCODE_ERR_BAD_CHANNELS;
  if (s->frame_ms != 10 && s->frame_ms != 20 && s->frame_ms != 40 && s->frame_ms != 60)
    return CC_TRANSCODE_ERR_BAD_FRAME_MS;
  const uint32_t r = s->sample_rate;
  if (clutchcall::transcode::is_g711(s->codec)) {
    if (r != 8000 || s->channels != 1) return CC_TRANSCODE_ERR_G711_NOT_8K_MONO;
  } else if (!(r == 8000 || r == 16000 || r == 24000 || r == 48000 ||
               (r == 12000 && s->codec == CC_CODEC_OPUS))) {
    return CC_TRANSCODE_ERR_BAD_RATE;
  }
  return CC_TRANSCODE_OK;
}

size_t cc_audio_shape_frame_bytes(const cc_audio_shape *s) {
  return s ? clutchcall::transcode::fixed_frame_bytes(*s) : 0;
}

cc_transcode_status cc_transcoder_create(const cc_audio_shape *in, const cc_audio_shape *out,
                                         const cc_opus_encoder_settings *opus_settings,
                                         cc_transcoder **t) {
  if (t == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  *t = nullptr;
  if (in == nullptr || out == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  const cc_opus_encoder_settings os =
      opus_settings ? *opus_settings : cc_opus_encoder_settings_default();
  cc_transcode_status s = CC_TRANSCODE_OK;
  auto impl = Transcoder::create(*in, *out, os, &s);
  if (!impl) return s;
  auto *h = new (std::nothrow) cc_transcoder{std::move(impl)};
  if (h == nullptr) return CC_TRANSCODE_ERR_ALLOC;
  *t = h;
  return CC_TRANSCODE_OK;
}

void cc_transcoder_destroy(cc_transcoder *t) { delete t; }

size_t cc_transcoder_max_output_bytes(const cc_transcoder *t) {
  return t ? t->impl->max_output_bytes() : 0;
}

size_t cc_transcoder_max_output_frames(const cc_transcoder *t) {
  return t ? t->impl->max_output_frames() : 0;
}

int cc_transcoder_is_passthrough(const cc_transcoder *t) {
  return t && t->impl->passthrough() ? 1 : 0;
}

cc_transcode_status cc_transcoder_process(cc_transcoder *t, const uint8_t *in, size_t in_len,
                                          cc_transcode_output *out) {
  if (t == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  return t->impl->process(in, in_len, out);
}

cc_transcode_status cc_transcoder_process_lost(cc_transcoder *t, const uint8_t *next_packet,
                                               size_t next_len, cc_transcode_output *out) {
  if (t == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  return t->impl->process_lost(next_packet, next_len, out);
}

cc_transcode_status cc_transcoder_flush(cc_transcoder *t, cc_transcode_output *out) {
  if (t == nullptr) return CC_TRANSCODE_ERR_NULL_ARG;
  return t->impl->flush(out);
}

void cc_transcoder_reset(cc_transcoder *t) {
  if (t) t->impl->reset();
}

}  // extern "C"
