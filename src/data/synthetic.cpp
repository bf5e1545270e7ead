#include "hwnas/data/synthetic.h"

#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::data {

Dataset make_synthetic(const SyntheticOptions& o) {
  HWNAS_CHECK_T(ConfigError, o.samples() > 0 && o.channels() > 0 && o.size() > 0 && o.classes() > 1,
                "Synthetic data needs positive samples, channels and size and at least 2 "
                "classes, but got samples=", o.samples(), " channels=", o.channels(), " size=",
                o.size(), " classes=", o.classes());
  HWNAS_CHECK_T(ConfigError, o.noise() >= 0, "Expected non-negative noise, but got ", o.noise());
  Rng rng(o.seed());
  const int64_t pixels = o.channels() * o.size() * o.size();
  std::vector<float> templates(static_cast<size_t>(o.classes() * pixels));
  for (auto& v : templates) v = static_cast<float>(rng.normal());
  Rng test_rng(o.seed() ^ 0x9e3779b97f4a7c15ULL);
  if (o.test()) rng = test_rng;
  std::vector<float> images(static_cast<size_t>(o.samples() * pixels));
  std::vector<int64_t> labels(static_cast<size_t>(o.samples()));
  for (int64_t i = 0; i < o.samples(); ++i) {
    const int64_t y = rng.uniform_int(o.classes());
    labels[static_cast<size_t>(i)] = y;
    for (int64_t p = 0; p < pixels; ++p)
      images[static_cast<size_t>(i * pixels + p)] =
          templates[static_cast<size_t>(y * pixels + p)] + static_cast<float>(o.noise() * rng.normal());
  }
  Dataset d{torch::tensor(images).reshape({o.samples(), o.channels(), o.size(), o.size()}),
            torch::tensor(labels, torch::kLong), o.classes(), "synthetic"};
  d.input = input_contract(d.images, "float32 values as generated", 1, {}, {});
  return d;
}

}  // namespace hwnas::data
