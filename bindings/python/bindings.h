// One registration function per core component; module.cc calls those that are built
// (CC_PY_HAVE_<COMPONENT>, set by CMake when the component's target exists).
#ifndef CLUTCHCALL_BINDINGS_PYTHON_BINDINGS_H
#define CLUTCHCALL_BINDINGS_PYTHON_BINDINGS_H

#include <pybind11/pybind11.h>

struct cc_opus_encoder_settings;

namespace clutchcall::py {
// Opus encoder settings from the keyword arguments Encoder and Transcoder share (None: default),
// each checked by name (opus.cc).
cc_opus_encoder_settings opus_settings_from(pybind11::handle bitrate, pybind11::handle complexity,
                                            pybind11::handle fec, pybind11::handle packet_loss_pct,
                                            pybind11::handle dtx);

void register_g711(pybind11::module_ &root);
void register_resample(pybind11::module_ &root);
void register_opus(pybind11::module_ &root);
void register_transcode(pybind11::module_ &root);
void register_rtp(pybind11::module_ &root);
void register_jitter(pybind11::module_ &root);
void register_codec(pybind11::module_ &root);
void register_relay(pybind11::module_ &root);
}  // namespace clutchcall::py

#endif  // CLUTCHCALL_BINDINGS_PYTHON_BINDINGS_H
