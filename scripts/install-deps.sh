#!/usr/bin/env bash
# Install every Debian package hwnas needs to build, test and run. Idempotent: packages
# already installed are skipped, and apt-get is only called when something is missing.
#
# Usage: scripts/install-deps.sh [--with-clients]
#   --with-clients  also install the outside test clients (python3-torch, python3-onnx)
#                   used by the export tests. The test command passes it.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-pthread    # fast BLAS behind LibTorch's matrix products (reference BLAS is ~15x slower)
  libeigen3-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev catch2
  zlib1g-dev libyaml-cpp-dev
  libopencv-imgcodecs-dev libopencv-imgproc-dev  # image-folder: decoding (libjpeg-turbo, libpng, libwebp) and resizing
  libxgboost-dev xgboost  # gradient-boosted tree predictor (C API; XGBoost's CMake package also needs its CLI)
  libbenchmark-dev
  libonnx-dev             # ONNX export: the ONNX protobuf, checker and shape inference
  dataset-fashion-mnist   # real data: /usr/share/datasets/fashion-mnist/*.gz
  clang libclang-rt-14-dev  # libFuzzer, AddressSanitizer and UBSan for scripts/fuzz.sh
  util-linux              # flock(1), used by the lock tests
)
if [[ "${1:-}" == "--with-clients" ]]; then
  # python3-opencv: the deployer's preprocessing in the input-contract test (the same
  # decoder as hwnas); python3-torchvision, python3-pil: the data-loading benchmark's peer.
  packages+=(python3-torch python3-onnx python3-numpy python3-opencv python3-torchvision python3-pil)
  # Node.js runs ONNX Runtime for the ONNX export tests (Debian's, unless one is on PATH).
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

install_onnx_client() {
  # ONNX Runtime's CPU runtime for the ONNX export tests and the profiling kit's runner:
  # npm's onnxruntime-node, pinned by each folder's package-lock.json. --ignore-scripts: its
  # install script would download GPU extras; the CPU runtime ships inside the package.
  local dir
  for dir in tests/export/onnx_client runners/onnxruntime; do
    if [[ ! -f $dir/node_modules/onnxruntime-node/package.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
      echo "install-deps: npm ci --ignore-scripts in $dir (onnxruntime-node)"
      (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    fi
  done
}

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  if [[ "${1:-}" == "--with-clients" ]]; then install_onnx_client; fi
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
if [[ "${1:-}" == "--with-clients" ]]; then install_onnx_client; fi

