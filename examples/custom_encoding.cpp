// A custom encoding in a few lines: the depth of a NAS-Bench-201 cell (the number of
// convolutions on its deepest input-to-output path). It registers itself, so every predictor
// can use it by name, alone or joined to others ("onehot+depth"), and the CLI embedded here
// lists it and takes it:
//   ./custom_encoding                        # fit a ridge on onehot, then on onehot+depth
//   ./custom_encoding encodings              # lists "depth" beside the built-ins
//   ./custom_encoding predictor eval --encoding onehot+depth --data rows.csv --target acc
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/predictors/encoding.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"

// nb201's genes are its six edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; options 2 and 3 are
// convolutions. Its paths: 3<-0; 1<-0 3<-1; 2<-0 3<-2; 1<-0 2<-1 3<-2.
class DepthEncoding : public hwnas::predictors::Encoding {
 public:
  std::string unsupported(const hwnas::SearchSpace& space) const override {
    return space.name() == "nb201" ? "" : "'depth' counts the convolutions of nb201 cells, not of '" + space.name() + "'";
  }
  int64_t size(const hwnas::SearchSpace&) const override { return 1; }
  void encode(const hwnas::SearchSpace&, const hwnas::Arch& arch, float* out) const override {
    static const std::vector<std::vector<int>> paths{{3}, {0, 4}, {1, 5}, {0, 2, 5}};
    int deepest = 0;
    for (const auto& path : paths)
      deepest = std::max<int>(deepest, static_cast<int>(std::count_if(path.begin(), path.end(), [&](int e) {
                                const int op = arch.genes()[static_cast<size_t>(e)];
                                return op == 2 || op == 3;
                              })));
    out[0] = static_cast<float>(deepest) / 3;
  }
};

int main(int argc, char** argv) {
  hwnas::predictors::encoding_registry().add("depth", "nb201: convolutions on the deepest path (examples/custom_encoding.cpp)",
                                             [](const nlohmann::json&) { return std::make_unique<DepthEncoding>(); });
  if (argc > 1) return hwnas::cli::run_main(argc, argv);  // the full CLI, with "depth" in it

  // A toy target that one-hot features cannot express linearly: the square of the depth.
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  std::vector<hwnas::Arch> train, test;
  std::vector<double> y_train, y_test;
  for (int i = 0; i < 300; ++i) {
    auto a = space->sample(rng);
    float depth = 0;
    DepthEncoding().encode(*space, a, &depth);
    (i < 200 ? train : test).push_back(a);
    (i < 200 ? y_train : y_test).push_back(depth * depth);
  }
  for (const char* kind : {"onehot", "onehot+depth"}) {
    auto ridge = hwnas::predictors::make_predictor("ridge", {{"encoding", kind}});
    ridge->fit(*space, train, y_train);
    std::cout << "ridge on " << kind << " (" << ridge->encoding().size << " features), 100 held-out archs: Kendall tau "
              << hwnas::stats::kendall_tau(ridge->predict(*space, test).mean, y_test) << "\n";
  }
  return 0;
}
