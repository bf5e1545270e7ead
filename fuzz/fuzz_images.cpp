// Encoded images as the image-folder dataset decodes them: any bytes (PNG, JPEG, BMP,
// WebP or none of them) with decoding options taken from the first byte.
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "hwnas/data/image_folder.h"

// OpenCV refuses images above 2^30 pixels by default, which the fuzzer's memory limit
// cannot hold; a smaller cap keeps huge declared sizes a refusal rather than an OOM.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "4194304", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t k = data[0];
  const auto options = hwnas::data::ImageFolderOptions()
                           .channels(k & 1 ? 3 : 1)
                           .size(1 + ((k >> 1) & 15))
                           .resize(k & 32 ? "crop" : "stretch")
                           .interpolation(k & 64 ? "linear" : "area")
                           .convert(!(k & 128));
  hwnas::fuzz::expect_only_errors([&] {
    (void)hwnas::data::decode_image(std::string(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz input", options);
  });
  return 0;
}
