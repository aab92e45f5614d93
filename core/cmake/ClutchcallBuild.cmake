# Shared build policy for the core: warnings, sanitizers, fuzzing, and helper functions that
# every component uses so the policy lives in one place.

# Warnings as errors everywhere. -Wconversion/-Wsign-conversion catch the narrowing that matters
# in codecs (int16 <-> int, size_t <-> int).
set(CLUTCHCALL_WARNINGS
    -Wall -Wextra -Wpedantic -Werror
    -Wconversion -Wsign-conversion -Wshadow -Wcast-qual -Wold-style-cast
    -Wnon-virtual-dtor -Wundef)

# Sanitizers apply to every target (libraries, tests, fuzzers) so that one build runs the whole
# suite instrumented.
set(CLUTCHCALL_SANITIZE_FLAGS "")
if(CLUTCHCALL_SANITIZE)
  set(CLUTCHCALL_SANITIZE_FLAGS -fsanitize=${CLUTCHCALL_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${CLUTCHCALL_SANITIZE_FLAGS})
  add_link_options(${CLUTCHCALL_SANITIZE_FLAGS})
endif()

if(CLUTCHCALL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CLUTCHCALL_FUZZ=ON needs clang (libFuzzer): "
                        "configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage instrumentation for the libraries; the fuzzer main is linked into fuzz targets only.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# clutchcall_add_component(<name> SOURCES ... [DEPS ...]): static library `clutchcall_<name>`,
# headers included as "<name>/<header>.h" from the core root, linked into the umbrella target.
function(clutchcall_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  set(target clutchcall_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(clutchcall::${name} ALIAS ${target})
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_compile_options(${target} PRIVATE ${CLUTCHCALL_WARNINGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(ARG_DEPS)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  endif()
  target_link_libraries(clutchcall_core INTERFACE ${target})
endfunction()

# clutchcall_add_test(<name> SOURCES ... DEPS ... [ENVIRONMENT ...]): GoogleTest binary run by ctest.
function(clutchcall_add_test name)
  if(NOT CLUTCHCALL_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CLUTCHCALL_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  if(ARG_ENVIRONMENT)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
endfunction()

# clutchcall_add_fuzzer(<name> SOURCES ... DEPS ...): libFuzzer binary (only with CLUTCHCALL_FUZZ).
# Each fuzzer also gets a short smoke run registered with ctest.
function(clutchcall_add_fuzzer name)
  if(NOT CLUTCHCALL_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CLUTCHCALL_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  if(CLUTCHCALL_TESTS)
    # Runs in the build tree so crash artifacts never land in the source checkout.
    add_test(NAME ${name}_smoke COMMAND ${name} -runs=20000 -seed=1
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
endfunction()
