#pragma once
// Image folders in torchvision's ImageFolder convention: root/<class>/.../*.{png,jpg,jpeg,
// bmp,webp} (extensions in any case), classes in sorted order of their folder names, files
// in sorted order of their paths. With root/train/ the training part is root/train and the
// test part root/test (or root/val); without it root holds the classes and there is no
// test part.
//
// Decoding is OpenCV's imgcodecs (libjpeg-turbo, libpng, libwebp and its own BMP reader
// underneath) and resizing its imgproc; docs/datasets.md says why. Every image is decoded
// as stored (cv::IMREAD_UNCHANGED: no EXIF rotation), 16-bit samples are scaled to 8 bits,
// colour is converted to the configured channels (RGB order), and the image is resized to
// the configured square size: "stretch" scales both sides, "crop" scales the shorter side
// to the size and cuts the centre. model.json records every step (image_preprocessing),
// so a deployer reproduces the pixels with the same library.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

struct ImageFolderOptions {
  /// The dataset's root folder.
  HWNAS_ARG(std::string, root);
  /// The training part or the test part (root/test or root/val).
  HWNAS_ARG(bool, train) = true;
  /// Keep `limit` samples (0: all): a seeded class-stratified choice, in folder order.
  HWNAS_ARG(int64_t, limit) = 0;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// 1 (grey) or 3 (RGB).
  HWNAS_ARG(int64_t, channels) = 3;
  /// The side of the square images the network sees.
  HWNAS_ARG(int64_t, size) = 32;
  /// "stretch" or "crop" (shorter side to `size`, then the centre).
  HWNAS_ARG(std::string, resize) = "stretch";
  /// OpenCV's interpolation: "area", "linear", "cubic" or "nearest".
  HWNAS_ARG(std::string, interpolation) = "area";
  /// Convert images of other sizes and channel counts (true) or refuse them naming the file.
  HWNAS_ARG(bool, convert) = true;
  /// Leave out images that cannot be decoded (counted in Dataset::skipped) instead of
  /// refusing the dataset.
  HWNAS_ARG(bool, skip_bad_images) = false;
  /// Per-channel normalisation after scaling to [0, 1]: empty mean and std compute them
  /// from the loaded samples (pass the training part's to the test part);
  /// normalize(false) leaves the values in [0, 1].
  HWNAS_ARG(bool, normalize) = true;
  HWNAS_ARG(std::vector<double>, mean);
  HWNAS_ARG(std::vector<double>, std);
  /// Decoding threads (0: the machine's cores).
  HWNAS_ARG(int64_t, threads) = 0;
  /// "memory": decode every image up front and keep them; "stream": keep only the file
  /// list and decode each image when a batch needs it (data::Loader), so memory does not
  /// grow with the folder; "auto": memory when the decoded part (N x C x size x size
  /// floats) fits in `cache_bytes`, else stream.
  HWNAS_ARG(std::string, cache) = "auto";
  HWNAS_ARG(int64_t, cache_bytes) = int64_t{1} << 30;
  /// Streamed folders compute the normalisation from this many training images (a seeded
  /// class-stratified choice), not from all.
  HWNAS_ARG(int64_t, stats_samples) = 2000;

 public:
  /// Checks the values (ConfigError naming the field).
  void validate() const;
};

/// One image file and its class.
struct ImageFile {
  std::string path;
  int64_t label = 0;
};

/// The files of one part and the class names (the training part's, sorted), without
/// decoding anything. Throws DataError naming the folder when it is missing, holds images
/// at its top level instead of class folders, has an empty class folder, or (test part) a
/// class the training part lacks.
struct ImageFolderIndex {
  std::vector<std::string> classes;
  std::vector<ImageFile> files;
};
ImageFolderIndex scan_image_folder(const std::string& root, bool train);

/// Decodes one encoded image (the bytes of a file) into a `channels` x size x size uint8
/// tensor as the options say. Throws DataError naming `name` when the bytes are not a
/// decodable image, are truncated, or (convert false) have another size or channel count.
at::Tensor decode_image(const std::string& bytes, const std::string& name, const ImageFolderOptions& options);

/// The requested part with the input contract filled in (decoder, resize,
/// normalisation): decoded in parallel into memory, or streamed (Dataset::source) as
/// `cache` says. A streamed part reports an image it cannot decode when a batch reads it.
Dataset load_image_folder(const ImageFolderOptions& options);

/// The preprocessing steps of `options` as model.json records them.
nlohmann::json image_preprocessing(const ImageFolderOptions& options);

}  // namespace hwnas::data
