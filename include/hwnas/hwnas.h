#pragma once
// Everything of hwnas's public API that does not need LibTorch's headers. Include
// hwnas/nn/network.h, hwnas/data/*.h and hwnas/train/*.h for the parts that do.
#include "hwnas/core/arch.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/layer_spec.h"
#include "hwnas/core/logging.h"
#include "hwnas/core/random.h"
#include "hwnas/core/registry.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/layer_kind.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/version.h"
