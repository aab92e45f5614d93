// What every binding class shares: integer arguments checked by name, and calls into a shared
// core object.
//
// Integers: a parameter typed uint32_t in pybind11 turns None, -1 or 2**40 into "Unable to cast
// Python instance ..." (or an overload error) that names neither the argument nor the range.
// Parameters are therefore taken as Python objects and converted here: None or a non-integer is a
// TypeError, an integer outside the range a ValueError, each "<name>: expected an integer in
// <lo>..<hi>, got <repr>".
//
// Calls: each stateful object is a clutchcall::Shared<T> (core/shared/shared.h); without_gil()
// releases the GIL first and then takes the object's lock, so a thread holding the lock never
// waits for the GIL (no deadlock), and other Python threads run meanwhile.
#ifndef CLUTCHCALL_BINDINGS_PYTHON_ARGS_H
#define CLUTCHCALL_BINDINGS_PYTHON_ARGS_H

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "shared/shared.h"

namespace clutchcall::py {

namespace pyb = pybind11;

inline std::int64_t int_arg(pyb::handle v, const std::string &name, std::int64_t lo, std::int64_t hi) {
  auto expected = [&] {
    return name + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
           std::string(pyb::repr(v));
  };
  if (v.is_none() || !PyLong_Check(v.ptr())) throw pyb::type_error(expected());
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow != 0 || x < lo || x > hi) throw pyb::value_error(expected());
  return x;
}

template <class T>
T int_as(pyb::handle v, const std::string &name, std::int64_t lo, std::int64_t hi) {
  return static_cast<T>(int_arg(v, name, lo, hi));
}

// None: not given (the default applies); anything else as int_arg.
inline std::optional<std::int64_t> opt_int_arg(pyb::handle v, const std::string &name, std::int64_t lo,
                                               std::int64_t hi) {
  if (v.is_none()) return std::nullopt;
  return int_arg(v, name, lo, hi);
}

// None: not given; else a bool (TypeError naming the argument otherwise).
inline std::optional<bool> opt_bool_arg(pyb::handle v, const std::string &name) {
  if (v.is_none()) return std::nullopt;
  if (!PyBool_Check(v.ptr())) throw pyb::type_error(name + ": expected True or False, got " + std::string(pyb::repr(v)));
  return v.ptr() == Py_True;
}

template <class T, class F>
decltype(auto) without_gil(Shared<T> &obj, F &&fn) {
  pyb::gil_scoped_release nogil;
  return obj.with(std::forward<F>(fn));
}

}  // namespace clutchcall::py

#endif  // CLUTCHCALL_BINDINGS_PYTHON_ARGS_H
