// One registration function per core component; module.cc calls those that are built
// (CC_PY_HAVE_<COMPONENT>, set by CMake when the component's target exists).
#ifndef CLUTCHCALL_BINDINGS_PYTHON_BINDINGS_H
#define CLUTCHCALL_BINDINGS_PYTHON_BINDINGS_H

#include <pybind11/pybind11.h>

namespace clutchcall::py {
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
