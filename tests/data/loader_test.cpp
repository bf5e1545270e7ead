#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "hwnas/data/loader.h"
#include "test_util.h"

using hwnas::data::Augmentation;
using hwnas::data::Batch;
using hwnas::data::Dataset;
using hwnas::data::Loader;
using hwnas::data::LoaderOptions;

namespace {

// Sample r is a 2 x 6 x 5 ramp offset by r; reads are counted, and row `bad` throws.
class Ramp : public hwnas::data::SampleSource {
 public:
  explicit Ramp(int64_t bad = -1) : bad_(bad) {}
  at::Tensor read(int64_t row) const override {
    ++reads;
    HWNAS_CHECK_T(hwnas::DataError, row != bad_, "sample ", row, " cannot be read");
    return torch::arange(60, torch::kFloat32).view({2, 6, 5}) + static_cast<float>(row) * 100;
  }
  std::vector<int64_t> shape() const override { return {2, 6, 5}; }
  mutable std::atomic<int64_t> reads{0};

 private:
  int64_t bad_;
};

Dataset streamed(int64_t n, std::shared_ptr<Ramp> source) {
  std::vector<int64_t> rows(static_cast<size_t>(n)), labels;
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i, labels.push_back(i % 3);
  return Dataset::streamed(source, rows, torch::tensor(labels), 3, "ramp");
}

std::vector<Batch> all(Loader& loader) {
  std::vector<Batch> out;
  for (Batch b; loader.next(b);) out.push_back(b);
  return out;
}

void require_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    REQUIRE(torch::equal(a[k].images, b[k].images));
    REQUIRE(torch::equal(a[k].labels, b[k].labels));
  }
}

const Augmentation kAll = Augmentation().pad(2).flip(true).cutout(3).resized_crop_min(0.5).fill({-1.0, -2.0});

// The augmentations written step by step with tensor operations, drawing in the order
// Augmentation documents: the reference for the loader's one-pass version.
at::Tensor reference_augment(const at::Tensor& sample, const Augmentation& a, hwnas::Rng& rng) {
  const int64_t c = sample.size(0), h = sample.size(1), w = sample.size(2);
  auto fill = torch::zeros({c, 1, 1});
  if (!a.fill().empty()) fill = torch::tensor(a.fill(), torch::kFloat64).to(torch::kFloat32).view({c, 1, 1});
  auto x = sample;
  if (a.resized_crop_min() > 0) {
    int64_t ch = h, cw = w, top = 0, left = 0;
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double area = static_cast<double>(h * w) * (a.resized_crop_min() + (1 - a.resized_crop_min()) * rng.uniform());
      const double ratio = std::exp(std::log(3.0 / 4) + (std::log(4.0 / 3) - std::log(3.0 / 4)) * rng.uniform());
      const auto tw = static_cast<int64_t>(std::lround(std::sqrt(area * ratio)));
      const auto th = static_cast<int64_t>(std::lround(std::sqrt(area / ratio)));
      if (tw >= 1 && th >= 1 && tw <= w && th <= h) {
        ch = th, cw = tw;
        top = rng.uniform_int(0, h - th), left = rng.uniform_int(0, w - tw);
        break;
      }
    }
    namespace F = torch::nn::functional;
    x = F::interpolate(x.narrow(1, top, ch).narrow(2, left, cw).unsqueeze(0),
                       F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false))
            .squeeze(0);
  }
  if (a.pad() != 0) {
    const int64_t pad = a.pad() > 0 ? a.pad() : std::max<int64_t>(1, std::min(h, w) / 14);
    auto padded = fill.expand({c, h + 2 * pad, w + 2 * pad}).clone();
    padded.narrow(1, pad, h).narrow(2, pad, w).copy_(x);
    const int64_t dy = rng.uniform_int(0, 2 * pad), dx = rng.uniform_int(0, 2 * pad);
    x = padded.narrow(1, dy, h).narrow(2, dx, w);
  }
  if (a.flip() && rng.bernoulli(0.5)) x = x.flip({2});
  if (a.cutout() > 0) {
    const int64_t cy = rng.uniform_int(0, h - 1), cx = rng.uniform_int(0, w - 1), half = a.cutout() / 2;
    const int64_t y0 = std::max<int64_t>(0, cy - half), y1 = std::min(h, cy - half + a.cutout());
    const int64_t x0 = std::max<int64_t>(0, cx - half), x1 = std::min(w, cx - half + a.cutout());
    x = x.clone();
    if (y1 > y0 && x1 > x0) x.narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).copy_(fill.expand({c, y1 - y0, x1 - x0}));
  }
  return x.contiguous();
}

}  // namespace

TEST_CASE("The one-pass augmentation equals the step-by-step reference", "[data][loader]") {
  const auto x = torch::arange(3 * 9 * 7, torch::kFloat32).view({3, 9, 7}) / 7 - 3;
  const std::vector<Augmentation> cases{
      Augmentation().pad(2),
      Augmentation().pad(-1).flip(true),
      Augmentation().pad(12).fill({0.5, -0.5, 2.0}),
      Augmentation().flip(true).cutout(4),
      Augmentation().cutout(20).fill({1.0, 2.0, 3.0}),
      Augmentation().resized_crop_min(0.2).pad(3).flip(true).cutout(3).fill({-1.0, -2.0, -3.0})};
  for (size_t k = 0; k < cases.size(); ++k)
    for (uint64_t seed = 0; seed < 40; ++seed) {
      INFO("case " << k << ", seed " << seed);
      hwnas::Rng a(seed), b(seed);
      const auto got = hwnas::data::augment_sample(x, cases[k], a);
      REQUIRE(torch::equal(got, reference_augment(x, cases[k], b)));
      CHECK(a.next() == b.next());  // the same number of draws
    }
}

TEST_CASE("Loader batches are the same with any number of workers, streamed or in memory", "[data][loader]") {
  const auto data = streamed(23, std::make_shared<Ramp>());
  const auto memory = data.in_memory();
  const auto opts = LoaderOptions().batch_size(5).shuffle(true).seed(9).augmentation(kAll);
  Loader serial(data, opts);
  CHECK(serial.num_batches() == 5);
  const auto reference = all(serial);
  REQUIRE(reference.back().images.size(0) == 3);
  for (int64_t workers : {1, 2, 5}) {
    Loader threaded(data, LoaderOptions(opts).workers(workers).prefetch(1));
    require_same(all(threaded), reference);
    Loader in_memory(memory, LoaderOptions(opts).workers(workers));
    require_same(all(in_memory), reference);
  }
  // The order is visit_order's (what batches() uses), and max_batches stops early.
  hwnas::Rng rng(9);
  const auto order = hwnas::data::visit_order(23, &rng);
  Loader plain(memory, LoaderOptions().batch_size(5).shuffle(true).seed(9).max_batches(2));
  const auto two = all(plain);
  REQUIRE(two.size() == 2);
  CHECK(torch::equal(two[1].images[0], memory.images[order[5]]));
}

TEST_CASE("A sample's augmentation depends on the seed and the sample, not on the order", "[data][loader]") {
  const auto data = streamed(12, std::make_shared<Ramp>());
  Loader in_order(data, LoaderOptions().batch_size(12).seed(4).augmentation(kAll));
  Loader shuffled(data, LoaderOptions().batch_size(12).shuffle(true).seed(4).augmentation(kAll));
  Batch a, b;
  REQUIRE(in_order.next(a));
  REQUIRE(shuffled.next(b));
  hwnas::Rng rng(4);
  const auto order = hwnas::data::visit_order(12, &rng);
  for (int64_t k = 0; k < 12; ++k) CHECK(torch::equal(b.images[k], a.images[order[static_cast<size_t>(k)]]));
  Loader reseeded(data, LoaderOptions().batch_size(12).seed(5).augmentation(kAll));
  Batch c;
  REQUIRE(reseeded.next(c));
  CHECK_FALSE(torch::equal(c.images, a.images));
}

TEST_CASE("Augmentations do what they say", "[data][loader]") {
  const auto x = torch::arange(60, torch::kFloat32).view({2, 6, 5}) + 1;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    hwnas::Rng rng(seed);
    // A padded crop is a shift: the overlap equals the image, the rest is the fill.
    const auto shifted = hwnas::data::augment_sample(x, Augmentation().pad(2).fill({-1.0, -2.0}), rng);
    REQUIRE(shifted.sizes() == x.sizes());
    const auto kept = shifted.gt(0).sum().item<int64_t>();
    const auto filled = shifted.eq(-1).sum().item<int64_t>() + shifted.eq(-2).sum().item<int64_t>();
    CHECK(kept + filled == 60);
    CHECK(kept >= 2 * 4 * 3);  // at most 2 rows and 2 columns shifted out
  }
  hwnas::Rng rng(1);
  const auto flips = hwnas::data::augment_sample(x, Augmentation().flip(true), rng);
  CHECK((torch::equal(flips, x) || torch::equal(flips, x.flip({2}))));
  const auto cut = hwnas::data::augment_sample(x, Augmentation().cutout(2).fill({0.0, 0.0}), rng);
  const auto zeros = cut.eq(0).sum().item<int64_t>();
  CHECK(zeros >= 2);  // a 2 x 2 square, clipped at the border, in each channel
  CHECK(zeros <= 8);
  const auto resized = hwnas::data::augment_sample(x, Augmentation().resized_crop_min(0.3), rng);
  CHECK(resized.sizes() == x.sizes());
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, Augmentation::from_json({{"cutuot", 4}}, "--augment"), "cutuot");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, Augmentation::from_json({{"pad", -2}}, "--augment"), "pad", "-2");
}

TEST_CASE("The loader reads at most workers x prefetch batches ahead, and passes on a worker's error", "[data][loader]") {
  auto source = std::make_shared<Ramp>();
  {
    Loader loader(streamed(100, source), LoaderOptions().batch_size(4).workers(2).prefetch(2));
    Batch b;
    REQUIRE(loader.next(b));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(source->reads.load() <= (1 + 2 * 2) * 4);  // the batch taken and four ahead
    CHECK(source->reads.load() >= 2 * 4);
  }
  const auto bad = std::make_shared<Ramp>(9);
  Loader loader(streamed(20, bad), LoaderOptions().batch_size(4).workers(2));
  Batch b;
  REQUIRE(loader.next(b));
  REQUIRE(loader.next(b));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, loader.next(b), "sample 9 cannot be read");
}
