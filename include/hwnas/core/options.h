#pragma once
// HWNAS_ARG declares one field of an options struct with a chainable setter and a getter:
//
//   struct TrainOptions {
//     /// Learning rate of SGD.
//     HWNAS_ARG(double, lr) = 0.05;
//   };
//   auto opts = TrainOptions().lr(0.1);   // setter returns *this
//   double lr = opts.lr();                // getter
//
// Required values go in the struct's constructor; the rest have inline defaults.
#include <utility>

#define HWNAS_ARG(T, name)                                          \
 public:                                                            \
  inline auto name(const T& new_##name)->decltype(*this) {          \
    this->name##_ = new_##name;                                     \
    return *this;                                                   \
  }                                                                 \
  inline auto name(T&& new_##name)->decltype(*this) {               \
    this->name##_ = std::move(new_##name);                          \
    return *this;                                                   \
  }                                                                 \
  inline const T& name() const noexcept { return this->name##_; }   \
  inline T& name() noexcept { return this->name##_; }               \
                                                                    \
 private:                                                           \
  T name##_
