#pragma once
// A reader of what Python's torch.save writes: a zip archive (stored entries) holding
// <name>/data.pkl, a pickle (protocol 2) of the saved object, and <name>/data/<key>, the
// bytes of each tensor storage. Only a dict whose values are tensors (or plain values) is
// understood. LibTorch's own unpickler is not used: version 1.13 overflows buffers and
// crashes on malformed files (fixed upstream only later), while a dataset file is input
// like any other. Every length, offset, index and checksum is checked here.
#include <map>
#include <string>

#include <torch/types.h>

namespace hwnas::data::detail {

struct TorchFile {
  std::map<std::string, at::Tensor> tensors;  // the dict's tensor values, by key
  std::map<std::string, std::string> others;  // its other values: key -> what it is ("list", "int", ...)
};

/// Parses the bytes of a torch.save file; `name` names it in errors (DataError saying what
/// is wrong: not a zip archive, a compressed or damaged entry, an unsupported pickle
/// operation or object, a tensor outside its storage, ...).
TorchFile read_torch_file(const std::string& bytes, const std::string& name);

}  // namespace hwnas::data::detail
