#pragma once
// NumPy .npy files (format versions 1.0 to 3.0, C order, little-endian or single-byte
// numbers): the header is parsed and checked against the file's size, then the data is
// memory-mapped, so taking the first rows of a large file reads only those.
#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace hwnas::data {

struct NpyHeader {
  /// NumPy's type code without byte order: "u1", "i1", "u2", "i2", "i4", "i8", "f4", "f8", "b1".
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t item_size = 0;    // bytes per element
  int64_t data_offset = 0;  // where the data starts
};

/// Reads and checks the header of `path`; throws DataError naming the file and the fault
/// (not an .npy file, unsupported type or byte order, Fortran order, a shape the file's
/// size cannot hold).
NpyHeader read_npy_header(const std::string& path);

/// The first `rows` entries along the first axis (0: all) as a tensor of the file's type
/// (bool as uint8), copied out of the mapped file.
at::Tensor load_npy(const std::string& path, int64_t rows = 0);

}  // namespace hwnas::data
