# cmake -DINPUT=<file> -DOUTPUT=<file.cc> -DSYMBOL=<name> -P embed_bytes.cmake
# Writes a C++ source defining `extern const unsigned char <SYMBOL>[]` and `<SYMBOL>_size`
# holding the bytes of INPUT. Pure CMake, so it works with any toolchain (no objcopy/ld -b).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Break the single line every 32 bytes (160 characters) to keep the file readable to compilers.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_bytes.cmake. Do not edit.
#include <cstddef>
namespace clutchcall::xdp::detail {
extern const unsigned char ${SYMBOL}[];
extern const std::size_t ${SYMBOL}_size;
alignas(8) const unsigned char ${SYMBOL}[] = {
${bytes}
};
const std::size_t ${SYMBOL}_size = ${size};
}  // namespace clutchcall::xdp::detail
")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
