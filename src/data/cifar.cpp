#include "hwnas/data/cifar.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "hwnas/core/error.h"

namespace hwnas::data {

Dataset load_cifar(const CifarOptions& o) {
  HWNAS_CHECK_T(ConfigError, o.classes() == 10 || o.classes() == 100, "CIFAR has 10 or 100 classes, not ",
                o.classes());
  HWNAS_CHECK_T(ConfigError, o.limit() >= 0, "Expected a non-negative limit, but got ", o.limit());
  const bool ten = o.classes() == 10;
  std::vector<std::string> files;
  if (ten && o.train())
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  else
    files.push_back(ten ? "test_batch.bin" : (o.train() ? "train.bin" : "test.bin"));
  const std::string layout = ten ? "data_batch_1.bin ... data_batch_5.bin and test_batch.bin"
                                 : "train.bin and test.bin";
  const int64_t label_bytes = ten ? 1 : 2, pixels = 3 * 32 * 32, record = label_bytes + pixels;
  const int64_t label_at = ten || !o.fine_labels() ? 0 : 1;
  const int64_t classes = ten ? 10 : (o.fine_labels() ? 100 : 20);

  std::vector<uint8_t> images;
  std::vector<int64_t> labels;
  for (const auto& name : files) {
    if (o.limit() > 0 && static_cast<int64_t>(labels.size()) >= o.limit()) break;
    const auto path = (std::filesystem::path(o.root()) / name).string();
    std::error_code ec;
    const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    HWNAS_CHECK_T(DataError, !ec, "CIFAR-", o.classes(), " file '", path, "' is missing or unreadable; set the data dir (--data-dir) to "
                  "the folder holding ", layout, " (the binary version)");
    HWNAS_CHECK_T(DataError, size > 0 && size % record == 0, "CIFAR-", o.classes(), " file '", path, "' holds ", size,
                  " bytes, not a whole number of ", record, "-byte records: it is truncated or not the binary version; set the data dir "
                  "(--data-dir) to the folder of the original binary files");
    int64_t n = size / record;
    if (o.limit() > 0) n = std::min(n, o.limit() - static_cast<int64_t>(labels.size()));
    std::vector<uint8_t> buffer(static_cast<size_t>(n * record));
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    HWNAS_CHECK_T(DataError, in.gcount() == static_cast<std::streamsize>(buffer.size()), "CIFAR-", o.classes(),
                  " file '", path, "' could not be read whole");
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* r = buffer.data() + i * record;
      const int64_t y = r[label_at];
      HWNAS_CHECK_T(DataError, y < classes, "CIFAR-", o.classes(), " file '", path, "' has label ", y, " in record ", i,
                    "; labels are 0..", classes - 1, ": the file is damaged or from the other CIFAR; give --data-dir the folder of the "
                    "original binary files", ten ? " (or use --data cifar100)" : "");
      labels.push_back(y);
      images.insert(images.end(), r + label_bytes, r + record);
    }
  }
  const auto n = static_cast<int64_t>(labels.size());
  auto x = torch::from_blob(images.data(), {n, 3, 32, 32}, torch::kUInt8).to(torch::kFloat32).div_(255.0);
  std::vector<double> mean, stdev;
  if (o.normalize()) {
    mean = ten ? std::vector<double>{0.4914, 0.4822, 0.4465} : std::vector<double>{0.5071, 0.4865, 0.4409};
    stdev = ten ? std::vector<double>{0.2470, 0.2435, 0.2616} : std::vector<double>{0.2673, 0.2564, 0.2762};
    x.sub_(torch::tensor(mean).to(torch::kFloat32).view({1, 3, 1, 1}))
        .div_(torch::tensor(stdev).to(torch::kFloat32).view({1, 3, 1, 1}));
  }
  Dataset d{x, torch::tensor(labels, torch::kLong), classes,
            "cifar" + std::to_string(o.classes()) + (o.train() ? "/train" : "/test")};
  d.input = input_contract(x, "uint8 pixels 0..255 of the binary records (red, green, blue planes)", 255, mean, stdev);
  return d;
}

}  // namespace hwnas::data
