#include "hwnas/data/loader.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"

namespace hwnas::data {

void Augmentation::validate() const {
  HWNAS_CHECK_T(ConfigError, pad() >= -1 && pad() <= 1024, "augmentation \"pad\" is ", pad(),
                "; give 0 (none), -1 (1/14 of the side) or up to 1024 pixels");
  HWNAS_CHECK_T(ConfigError, resized_crop_min() == 0 || (resized_crop_min() > 0 && resized_crop_min() <= 1),
                "augmentation \"resized_crop_min\" is ", resized_crop_min(), "; give an area fraction in (0, 1] or 0 (none)");
  HWNAS_CHECK_T(ConfigError, cutout() >= 0 && cutout() <= 4096, "augmentation \"cutout\" is ", cutout(),
                "; give 0 (none) to 4096 pixels");
  for (double f : fill()) HWNAS_CHECK_T(ConfigError, std::isfinite(f), "augmentation fill ", f, " is not finite");
}

nlohmann::json Augmentation::to_json() const {
  return {{"pad", pad()}, {"resized_crop_min", resized_crop_min()}, {"flip", flip()}, {"cutout", cutout()}};
}

Augmentation Augmentation::from_json(const nlohmann::json& j, const std::string& what) {
  ConfigReader r(j, what);
  Augmentation a;
  a.pad(r.get_int("pad", a.pad(), -1, 1024));
  a.resized_crop_min(r.get_double("resized_crop_min", a.resized_crop_min(), 0, 1));
  a.flip(r.get_bool("flip", a.flip()));
  a.cutout(r.get_int("cutout", a.cutout(), 0, 4096));
  r.finish();
  a.validate();
  return a;
}

void augment_into(const at::Tensor& sample, const Augmentation& a, Rng& rng, at::Tensor& out) {
  const int64_t c = sample.size(0), h = sample.size(1), w = sample.size(2);
  std::vector<float> fill(static_cast<size_t>(c), 0.0f);
  if (!a.fill().empty()) {
    HWNAS_CHECK_T(ConfigError, static_cast<int64_t>(a.fill().size()) == c, "augmentation has ", a.fill().size(),
                  " fill values for ", c, " channels");
    for (int64_t k = 0; k < c; ++k) fill[static_cast<size_t>(k)] = static_cast<float>(a.fill()[static_cast<size_t>(k)]);
  }
  auto x = sample.to(torch::kFloat32).contiguous();
  if (a.resized_crop_min() > 0) {
    // Up to ten tries for a crop that fits, else the whole image (torchvision's rule).
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
    x = torch::nn::functional::interpolate(
            x.narrow(1, top, ch).narrow(2, left, cw).unsqueeze(0),
            torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false))
            .squeeze(0)
            .contiguous();
  }
  // The random crop of the padded sample is a shift by (dy, dx); then the flip and the
  // cutout square, all written in one pass.
  int64_t dy = 0, dx = 0;
  if (a.pad() != 0) {
    const int64_t pad = a.pad() > 0 ? a.pad() : std::max<int64_t>(1, std::min(h, w) / 14);
    dy = rng.uniform_int(0, 2 * pad) - pad, dx = rng.uniform_int(0, 2 * pad) - pad;
  }
  const bool flip = a.flip() && rng.bernoulli(0.5);
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  if (a.cutout() > 0) {
    const int64_t cy = rng.uniform_int(0, h - 1), cx = rng.uniform_int(0, w - 1), half = a.cutout() / 2;
    y0 = std::max<int64_t>(0, cy - half), y1 = std::min(h, cy - half + a.cutout());
    x0 = std::max<int64_t>(0, cx - half), x1 = std::min(w, cx - half + a.cutout());
  }
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t k = 0; k < c; ++k) {
    const float f = fill[static_cast<size_t>(k)];
    for (int64_t y = 0; y < h; ++y) {
      float* row = o + (k * h + y) * w;
      const int64_t sy = y + dy;
      if (sy < 0 || sy >= h) {
        std::fill(row, row + w, f);
        continue;
      }
      const float* src = in + (k * h + sy) * w;
      for (int64_t col = 0; col < w; ++col) {
        const int64_t sx = (flip ? w - 1 - col : col) + dx;
        row[col] = sx >= 0 && sx < w ? src[sx] : f;
      }
      if (y >= y0 && y < y1) std::fill(row + x0, row + std::max(x0, x1), f);
    }
  }
}

at::Tensor augment_sample(const at::Tensor& sample, const Augmentation& a, Rng& rng) {
  auto out = torch::empty(sample.sizes(), torch::kFloat32);
  augment_into(sample, a, rng, out);
  return out;
}

void LoaderOptions::validate() const {
  HWNAS_CHECK_T(ConfigError, batch_size() >= 1, "loader batch size is ", batch_size(), "; give 1 or more");
  HWNAS_CHECK_T(ConfigError, workers() >= 0 && workers() <= 256, "loader workers is ", workers(), "; give 0 to 256");
  HWNAS_CHECK_T(ConfigError, prefetch() >= 1 && prefetch() <= 64, "loader prefetch is ", prefetch(), "; give 1 to 64");
  HWNAS_CHECK_T(ConfigError, max_batches() >= 0, "loader max_batches is ", max_batches(), "; give 0 (all) or more");
  augmentation().validate();
}

namespace {
// The augmentation stream of sample `index` under `seed`.
uint64_t sample_seed(uint64_t seed, int64_t index) {
  Rng mix(seed ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(index + 1)));
  return mix.next();
}
}  // namespace

struct Loader::State {
  Dataset data;
  LoaderOptions o;
  std::vector<int64_t> order;
  int64_t batches = 0;
  // The ring of batches read ahead: slot k % ring.size() holds batch k.
  struct Slot {
    Batch batch;
    std::exception_ptr error;
    bool ready = false;
  };
  std::vector<Slot> ring;
  std::mutex m;
  std::condition_variable changed;
  int64_t claimed = 0, consumed = 0;
  bool stop = false;
  std::vector<std::thread> workers;

  Batch build(int64_t k) const {
    const int64_t begin = k * o.batch_size(), end = std::min<int64_t>(begin + o.batch_size(), static_cast<int64_t>(order.size()));
    std::vector<int64_t> idx(order.begin() + begin, order.begin() + end);
    const auto sel = torch::tensor(idx, torch::kLong);
    Batch b;
    b.labels = data.labels.index_select(0, sel);
    if (!data.is_streamed() && !o.augmentation().any()) {
      b.images = data.images.index_select(0, sel);
      return b;
    }
    // Each sample read (and augmented) straight into its slot of the batch.
    const auto shape = data.sample_shape();
    b.images = torch::empty({static_cast<int64_t>(idx.size()), shape[0], shape[1], shape[2]}, torch::kFloat32);
    at::Tensor read;
    if (o.augmentation().any() && data.is_streamed()) read = torch::empty(shape, torch::kFloat32);
    for (size_t j = 0; j < idx.size(); ++j) {
      auto slot = b.images[static_cast<int64_t>(j)];
      if (!o.augmentation().any()) {
        data.sample_into(idx[j], slot);
        continue;
      }
      if (data.is_streamed()) data.sample_into(idx[j], read);
      Rng rng(sample_seed(o.seed(), idx[j]));
      augment_into(data.is_streamed() ? read : data.images[idx[j]], o.augmentation(), rng, slot);
    }
    return b;
  }

  void work() {
    while (true) {
      int64_t k;
      {
        std::unique_lock<std::mutex> lock(m);
        changed.wait(lock, [&] { return stop || claimed >= batches || claimed < consumed + static_cast<int64_t>(ring.size()); });
        if (stop || claimed >= batches) return;
        k = claimed++;
      }
      Slot slot;
      try {
        slot.batch = build(k);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(m);
        slot.ready = true;
        ring[static_cast<size_t>(k) % ring.size()] = std::move(slot);
      }
      changed.notify_all();
    }
  }
};

Loader::Loader(Dataset data, LoaderOptions options) : state_(std::make_unique<State>()) {
  options.validate();
  auto& s = *state_;
  s.data = std::move(data);
  s.o = std::move(options);
  Rng rng(s.o.seed());
  s.order = visit_order(s.data.size(), s.o.shuffle() ? &rng : nullptr);
  s.batches = (s.data.size() + s.o.batch_size() - 1) / s.o.batch_size();
  if (s.o.max_batches() > 0) s.batches = std::min(s.batches, s.o.max_batches());
  if (s.o.workers() > 0) {
    s.ring.resize(static_cast<size_t>(s.o.workers() * s.o.prefetch()));
    for (int64_t t = 0; t < s.o.workers(); ++t) s.workers.emplace_back([&s] { s.work(); });
  }
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(state_->m);
    state_->stop = true;
  }
  state_->changed.notify_all();
  for (auto& t : state_->workers) t.join();
}

int64_t Loader::num_batches() const { return state_->batches; }

bool Loader::next(Batch& out) {
  auto& s = *state_;
  if (s.consumed >= s.batches) return false;
  if (s.workers.empty()) {
    out = s.build(s.consumed++);
    return true;
  }
  State::Slot slot;
  {
    std::unique_lock<std::mutex> lock(s.m);
    auto& ready = s.ring[static_cast<size_t>(s.consumed) % s.ring.size()];
    s.changed.wait(lock, [&] { return ready.ready; });
    slot = std::move(ready);
    ready = State::Slot();
    ++s.consumed;
  }
  s.changed.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  out = std::move(slot.batch);
  return true;
}

}  // namespace hwnas::data
