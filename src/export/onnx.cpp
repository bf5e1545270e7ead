#include "hwnas/export/onnx.h"

#include <functional>
#include <limits>
#include <unordered_map>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/registry.h"
#include "hwnas/version.h"
#include "trace.h"

namespace hwnas::exporting {

// Makes the writers registered conversions receive (OnnxNodeWriter's constructor is private).
struct OnnxWriterAccess {
  static OnnxNodeWriter make(void* converter, const void* node);
};

namespace {

using torch::jit::Node;
using torch::jit::Value;

constexpr int64_t kMinOpset = 13;
constexpr int64_t kMaxOpset = 17;

// Converts a frozen, inlined traced graph node by node into an ONNX GraphProto.
class Converter {
 public:
  using Rule = std::function<void(Converter&, const Node*)>;

  explicit Converter(onnx::GraphProto& graph) : graph_(graph) {}

  // Values known at export time: the module's weights (prim::GetAttr), constants, lists of
  // them, and every op computed from those alone (folded by running it here: a transposed
  // classifier weight, a kernel cropped from a larger one).
  void fold(const torch::jit::Module& module, const Node* n) {
    if (n->kind() == c10::prim::GetAttr) {
      known_[n->output()] = module.attr(n->s(c10::attr::name));
      return;
    }
    if (n->kind() == c10::prim::Constant) {
      if (auto v = torch::jit::toIValue(n->output())) known_[n->output()] = *v;
      return;
    }
    if (n->outputs().size() != 1 || n->kind() == c10::prim::Param) return;
    for (const auto* v : n->inputs())
      if (!known_.count(v)) return;
    torch::jit::Stack stack;
    for (const auto* v : n->inputs()) stack.push_back(known_.at(v));
    if (n->kind() == c10::prim::ListConstruct) {
      c10::impl::GenericList list(n->output()->type()->expectRef<c10::ListType>().getElementType());
      for (auto& v : stack) list.push_back(std::move(v));
      stack = {c10::IValue(std::move(list))};
    } else {
      n->getOperation()(stack);
    }
    known_[n->output()] = stack.back();
  }
  bool folded(const Node* n) const { return n->outputs().size() == 1 && known_.count(n->output()); }
  c10::optional<c10::IValue> known(const Value* v) const {
    if (auto it = known_.find(v); it != known_.end()) return it->second;
    return c10::nullopt;
  }

  static const std::unordered_map<std::string, Rule>& rules();
  // The conversion registered for `kind` (register_onnx_op), or an empty rule.
  static Rule registered_conversion(const std::string& kind);

  void bind(const Value* v, std::string name) { names_[v] = std::move(name); }

  void convert(const Node* n) {
    const std::string kind = n->kind().toQualString();
    if (folded(n) || kind == "prim::ListConstruct") return;  // read by their users
    const auto& all = rules();
    const auto rule = all.find(kind);
    if (rule == all.end()) {
      if (auto registered = registered_conversion(kind)) return registered(*this, n);
      std::string known;
      for (const auto& op : onnx_supported_ops()) known += (known.empty() ? "" : ", ") + op;
      throw Error(fmt::format("ONNX export: the op {} has no ONNX mapping (the network's forward uses it{}). "
                              "Express the forward with supported ops ({}), or export TorchScript, which takes "
                              "any op; nothing written",
                              kind, scope(n), known));
    }
    rule->second(*this, n);
  }

  // The ONNX name of a tensor value; a constant tensor becomes an initializer on first use.
  std::string in(const Value* v) {
    if (auto it = names_.find(v); it != names_.end()) return it->second;
    const auto value = known(v);
    if (value && value->isTensor()) return names_[v] = initializer(value->toTensor());
    if (value && (value->isDouble() || value->isInt()))
      return names_[v] = initializer(torch::tensor(value->toScalar().toDouble(), torch::kFloat));
    throw Error(fmt::format("ONNX export: {} is not a tensor the converter knows (internal: unsupported graph form)",
                            v->debugName()));
  }
  std::string out(const Value* v) {
    if (auto it = names_.find(v); it != names_.end()) return it->second;
    return names_[v] = fmt::format("t{}", v->unique());
  }
  std::string temp() { return fmt::format("tmp{}", temps_++); }

  c10::IValue constant(const Node* n, size_t i) const {
    const auto value = known(n->input(i));
    HWNAS_CHECK_T(Error, value.has_value(), "ONNX export: argument ", i, " of ", n->kind().toQualString(),
                  scope(n), " is computed at run time; the converter needs it constant (a size read from the input "
                  "bakes the batch size: use flatten, or view(-1, ...))");
    return *value;
  }
  std::vector<int64_t> ints(const Node* n, size_t i) const { return constant(n, i).toIntVector(); }
  int64_t integer(const Node* n, size_t i) const { return constant(n, i).toInt(); }
  bool is_none(const Node* n, size_t i) const { return n->input(i)->type()->kind() == c10::TypeKind::NoneType; }
  std::vector<int64_t> sizes(const Value* v) const {
    if (const auto value = known(v); value && value->isTensor()) return value->toTensor().sizes().vec();
    const auto t = v->type()->cast<c10::TensorType>();
    const auto s = t ? t->sizes().concrete_sizes() : c10::nullopt;
    HWNAS_CHECK_T(Error, s.has_value(), "ONNX export: the shape of ", v->debugName(), " was not recorded by the trace");
    return *s;
  }
  void require(bool ok, const Node* n, const std::string& what) const {
    if (!ok) throw Error(fmt::format("ONNX export: {}{} has no ONNX mapping: {}; nothing written",
                                     n->kind().toQualString(), scope(n), what));
  }

  onnx::NodeProto& add(const std::string& op, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs) {
    auto* node = graph_.add_node();
    node->set_op_type(op);
    node->set_name(fmt::format("{}_{}", op, graph_.node_size()));
    for (const auto& i : inputs) node->add_input(i);
    for (const auto& o : outputs) node->add_output(o);
    return *node;
  }
  std::string initializer(const torch::Tensor& value) {
    const auto t = value.detach().contiguous();
    auto* init = graph_.add_initializer();
    init->set_name(fmt::format("c{}", graph_.initializer_size()));
    for (auto d : t.sizes()) init->add_dims(d);
    if (t.scalar_type() == torch::kFloat) {
      init->set_data_type(onnx::TensorProto::FLOAT);
    } else if (t.scalar_type() == torch::kLong) {
      init->set_data_type(onnx::TensorProto::INT64);
    } else {
      throw Error(fmt::format("ONNX export: a constant of type {} (only float32 and int64 are exported)",
                              c10::toString(t.scalar_type())));
    }
    init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
    return init->name();
  }
  std::string int64s(const std::vector<int64_t>& v) {
    return initializer(torch::tensor(v, torch::kLong));
  }

 private:
  static std::string scope(const Node* n) {
    const auto s = n->scopeName();
    return s.empty() ? std::string() : " in " + s;
  }

  onnx::GraphProto& graph_;
  std::unordered_map<const Value*, std::string> names_;
  std::unordered_map<const Value*, c10::IValue> known_;
  int64_t temps_ = 0;
};

void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

// ONNX pads: all begins then all ends.
std::vector<int64_t> symmetric_pads(const std::vector<int64_t>& p) {
  std::vector<int64_t> pads(p);
  pads.insert(pads.end(), p.begin(), p.end());
  return pads;
}
std::vector<int64_t> pair(const std::vector<int64_t>& v) { return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v; }

Converter::Rule unary(const std::string& op) {
  return [op](Converter& c, const Node* n) { c.add(op, {c.in(n->input(0))}, {c.out(n->output())}); };
}
Converter::Rule binary(const std::string& op, bool has_alpha) {
  return [op, has_alpha](Converter& c, const Node* n) {
    if (has_alpha) {
      const auto alpha = c.constant(n, 2);
      c.require(alpha.toScalar().toDouble() == 1.0, n, "alpha other than 1");
    }
    c.add(op, {c.in(n->input(0)), c.in(n->input(1))}, {c.out(n->output())});
  };
}
void slice(Converter& c, const Node* n, int64_t dim, int64_t start, int64_t end, int64_t step) {
  c.add("Slice", {c.in(n->input(0)), c.int64s({start}), c.int64s({end}), c.int64s({dim}), c.int64s({step})},
        {c.out(n->output())});
}
// avg_pool2d / max_pool2d(x, kernel, stride (empty: the kernel), padding, ...).
onnx::NodeProto& pool(Converter& c, const Node* n, const std::string& op) {
  const auto kernel = pair(c.ints(n, 1));
  auto& node = c.add(op, {c.in(n->input(0))}, {c.out(n->output())});
  attr(node, "kernel_shape", kernel);
  attr(node, "strides", c.ints(n, 2).empty() ? kernel : pair(c.ints(n, 2)));
  attr(node, "pads", symmetric_pads(pair(c.ints(n, 3))));
  return node;
}
void clip(Converter& c, const Node* n, float lo, float hi) {
  c.add("Clip", {c.in(n->input(0)), c.initializer(torch::tensor(lo)), c.initializer(torch::tensor(hi))},
        {c.out(n->output())});
}

const std::unordered_map<std::string, Converter::Rule>& Converter::rules() {
  static const std::unordered_map<std::string, Rule> table = {
      {"aten::_convolution",
       [](Converter& c, const Node* n) {
         c.require(!c.constant(n, 6).toBool(), n, "transposed convolution");
         const auto w = c.sizes(n->input(1));
         c.require(w.size() == 4, n, "only 2-d convolutions");
         std::vector<std::string> inputs{c.in(n->input(0)), c.in(n->input(1))};
         if (!c.is_none(n, 2)) inputs.push_back(c.in(n->input(2)));
         auto& node = c.add("Conv", inputs, {c.out(n->output())});
         attr(node, "kernel_shape", std::vector<int64_t>{w[2], w[3]});
         attr(node, "strides", pair(c.ints(n, 3)));
         attr(node, "pads", symmetric_pads(pair(c.ints(n, 4))));
         attr(node, "dilations", pair(c.ints(n, 5)));
         attr(node, "group", c.integer(n, 8));
       }},
      {"aten::batch_norm",
       [](Converter& c, const Node* n) {
         c.require(!c.constant(n, 5).toBool(), n, "batch statistics (training mode); export in eval mode");
         c.require(!c.is_none(n, 3) && !c.is_none(n, 4), n, "no running statistics (track_running_stats=false)");
         const auto channels = c.sizes(n->input(3)).at(0);
         const auto scale = c.is_none(n, 1) ? c.initializer(torch::ones({channels})) : c.in(n->input(1));
         const auto bias = c.is_none(n, 2) ? c.initializer(torch::zeros({channels})) : c.in(n->input(2));
         auto& node = c.add("BatchNormalization", {c.in(n->input(0)), scale, bias, c.in(n->input(3)),
                                                   c.in(n->input(4))}, {c.out(n->output())});
         attr(node, "epsilon", static_cast<float>(c.constant(n, 7).toDouble()));
         attr(node, "momentum", static_cast<float>(1.0 - c.constant(n, 6).toDouble()));
       }},
      {"aten::relu", unary("Relu")},
      {"aten::relu_", unary("Relu")},
      {"aten::sigmoid", unary("Sigmoid")},
      {"aten::tanh", unary("Tanh")},
      {"aten::contiguous", unary("Identity")},
      {"aten::clone", unary("Identity")},
      {"aten::detach", unary("Identity")},
      {"aten::relu6", [](Converter& c, const Node* n) { clip(c, n, 0.f, 6.f); }},
      {"aten::hardtanh",
       [](Converter& c, const Node* n) {
         clip(c, n, static_cast<float>(c.constant(n, 1).toScalar().toDouble()),
              static_cast<float>(c.constant(n, 2).toScalar().toDouble()));
       }},
      {"aten::hardsigmoid",
       [](Converter& c, const Node* n) {
         auto& node = c.add("HardSigmoid", {c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "alpha", 1.f / 6.f);
         attr(node, "beta", 0.5f);
       }},
      {"aten::hardswish",  // x * hardsigmoid(x): the same at every opset (HardSwish needs 14)
       [](Converter& c, const Node* n) {
         const auto gate = c.temp();
         auto& node = c.add("HardSigmoid", {c.in(n->input(0))}, {gate});
         attr(node, "alpha", 1.f / 6.f);
         attr(node, "beta", 0.5f);
         c.add("Mul", {c.in(n->input(0)), gate}, {c.out(n->output())});
       }},
      {"aten::dropout",
       [](Converter& c, const Node* n) {
         c.require(!c.constant(n, 2).toBool(), n, "dropout in training mode");
         c.add("Identity", {c.in(n->input(0))}, {c.out(n->output())});
       }},
      {"aten::add", binary("Add", true)},
      {"aten::sub", binary("Sub", true)},
      {"aten::mul", binary("Mul", false)},
      {"aten::div", binary("Div", false)},
      {"aten::matmul", binary("MatMul", false)},
      {"aten::avg_pool2d",
       [](Converter& c, const Node* n) {
         c.require(c.is_none(n, 6), n, "divisor_override");
         auto& node = pool(c, n, "AveragePool");
         attr(node, "ceil_mode", static_cast<int64_t>(c.constant(n, 4).toBool()));
         attr(node, "count_include_pad", static_cast<int64_t>(c.constant(n, 5).toBool()));
       }},
      {"aten::max_pool2d",
       [](Converter& c, const Node* n) {
         auto& node = pool(c, n, "MaxPool");
         attr(node, "dilations", pair(c.ints(n, 4)));
         attr(node, "ceil_mode", static_cast<int64_t>(c.constant(n, 5).toBool()));
       }},
      {"aten::adaptive_avg_pool2d",
       [](Converter& c, const Node* n) {
         const auto size = pair(c.ints(n, 1));
         const auto x = c.sizes(n->input(0));
         if (size == std::vector<int64_t>{1, 1}) {
           c.add("GlobalAveragePool", {c.in(n->input(0))}, {c.out(n->output())});
           return;
         }
         c.require(x.size() == 4 && x[2] % size[0] == 0 && x[3] % size[1] == 0, n,
                   "an output size that does not divide the input size");
         const std::vector<int64_t> kernel{x[2] / size[0], x[3] / size[1]};
         auto& node = c.add("AveragePool", {c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "kernel_shape", kernel);
         attr(node, "strides", kernel);
       }},
      {"aten::mean",
       [](Converter& c, const Node* n) {
         c.require(n->inputs().size() >= 3, n, "a mean over all elements");
         c.require(n->inputs().size() < 4 || c.is_none(n, 3), n, "a dtype argument");
         auto& node = c.add("ReduceMean", {c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "axes", c.ints(n, 1));
         attr(node, "keepdims", static_cast<int64_t>(c.constant(n, 2).toBool()));
       }},
      {"aten::flatten",
       [](Converter& c, const Node* n) {
         const auto sizes = c.sizes(n->input(0));
         const auto rank = static_cast<int64_t>(sizes.size());
         auto start = c.integer(n, 1), end = c.integer(n, 2);
         if (start < 0) start += rank;
         if (end < 0) end += rank;
         c.require(start >= 1 && start <= end && end < rank, n, "flatten of the batch dimension");
         if (start == 1 && end == rank - 1) {
           auto& node = c.add("Flatten", {c.in(n->input(0))}, {c.out(n->output())});
           attr(node, "axis", int64_t{1});
           return;
         }
         // Reshape: dims before `start` copied (0, the batch stays symbolic), the flattened
         // run as -1, the trailing dims as traced (they do not depend on the batch).
         std::vector<int64_t> shape(static_cast<size_t>(start), 0);
         shape.push_back(-1);
         shape.insert(shape.end(), sizes.begin() + end + 1, sizes.end());
         c.add("Reshape", {c.in(n->input(0)), c.int64s(shape)}, {c.out(n->output())});
       }},
      {"aten::view",
       [](Converter& c, const Node* n) {
         const auto shape = c.ints(n, 1);
         c.require(!shape.empty() && shape[0] == -1, n, "a view whose first size is not -1 (it would fix the batch "
                   "size); use flatten(1) or view(-1, ...)");
         c.add("Reshape", {c.in(n->input(0)), c.int64s(shape)}, {c.out(n->output())});
       }},
      {"aten::t",
       [](Converter& c, const Node* n) {
         auto& node = c.add("Transpose", {c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "perm", std::vector<int64_t>{1, 0});
       }},
      {"aten::addmm",
       [](Converter& c, const Node* n) {
         auto& node = c.add("Gemm", {c.in(n->input(1)), c.in(n->input(2)), c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "beta", static_cast<float>(c.constant(n, 3).toScalar().toDouble()));
         attr(node, "alpha", static_cast<float>(c.constant(n, 4).toScalar().toDouble()));
       }},
      {"aten::linear",  // x W^T + b, for inputs of any rank
       [](Converter& c, const Node* n) {
         const auto wt = c.temp();
         auto& t = c.add("Transpose", {c.in(n->input(1))}, {wt});
         attr(t, "perm", std::vector<int64_t>{1, 0});
         if (c.is_none(n, 2)) {
           c.add("MatMul", {c.in(n->input(0)), wt}, {c.out(n->output())});
           return;
         }
         const auto product = c.temp();
         c.add("MatMul", {c.in(n->input(0)), wt}, {product});
         c.add("Add", {product, c.in(n->input(2))}, {c.out(n->output())});
       }},
      {"aten::cat",
       [](Converter& c, const Node* n) {
         const auto* list = n->input(0)->node();
         c.require(list->kind() == c10::prim::ListConstruct, n, "a tensor list built at run time");
         std::vector<std::string> inputs;
         for (const auto* v : list->inputs()) inputs.push_back(c.in(v));
         auto& node = c.add("Concat", inputs, {c.out(n->output())});
         attr(node, "axis", c.integer(n, 1));
       }},
      {"aten::slice",
       [](Converter& c, const Node* n) {
         const auto start = c.is_none(n, 2) ? 0 : c.integer(n, 2);
         const auto end = c.is_none(n, 3) ? std::numeric_limits<int64_t>::max() : c.integer(n, 3);
         slice(c, n, c.integer(n, 1), start, end, c.integer(n, 4));
       }},
      {"aten::narrow",
       [](Converter& c, const Node* n) {
         const auto start = c.integer(n, 2);
         slice(c, n, c.integer(n, 1), start, start + c.integer(n, 3), 1);
       }},
      {"aten::zeros_like",  // exact zeros of the input's (run-time) shape, even for inf/nan inputs
       [](Converter& c, const Node* n) {
         const auto shape = c.temp();
         c.add("Shape", {c.in(n->input(0))}, {shape});
         auto& node = c.add("ConstantOfShape", {shape}, {c.out(n->output())});
         auto* a = node.add_attribute();
         a->set_name("value");
         a->set_type(onnx::AttributeProto::TENSOR);
         a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
         a->mutable_t()->add_dims(1);
         a->mutable_t()->add_float_data(0.f);
       }},
      {"aten::softmax",
       [](Converter& c, const Node* n) {
         auto& node = c.add("Softmax", {c.in(n->input(0))}, {c.out(n->output())});
         attr(node, "axis", c.integer(n, 1));
       }},
  };
  return table;
}

void set_float_tensor_type(onnx::ValueInfoProto& info, const std::string& name, const std::vector<int64_t>& dims) {
  info.set_name(name);
  auto* t = info.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (size_t i = 1; i < dims.size(); ++i) shape->add_dim()->set_dim_value(dims[i]);
}

Registry<OnnxOpConversion>& onnx_op_registry() {
  static Registry<OnnxOpConversion> registry("ONNX op conversion");
  return registry;
}

Converter::Rule Converter::registered_conversion(const std::string& kind) {
  auto& registry = onnx_op_registry();
  if (!registry.contains(kind)) return {};
  return [conversion = registry.shared(kind)](Converter& c, const Node* n) {
    auto writer = OnnxWriterAccess::make(&c, n);
    (*conversion)(writer);
  };
}

Converter& converter_of(void* c) { return *static_cast<Converter*>(c); }
const Node* node_of(const void* n) { return static_cast<const Node*>(n); }
onnx::NodeProto& proto_of(void* p) { return *static_cast<onnx::NodeProto*>(p); }

}  // namespace

OnnxNodeWriter OnnxWriterAccess::make(void* converter, const void* node) { return OnnxNodeWriter(converter, node); }

OnnxNodeAttributes& OnnxNodeAttributes::i(const std::string& name, int64_t value) {
  attr(proto_of(node_), name, value);
  return *this;
}
OnnxNodeAttributes& OnnxNodeAttributes::f(const std::string& name, float value) {
  attr(proto_of(node_), name, value);
  return *this;
}
OnnxNodeAttributes& OnnxNodeAttributes::ints(const std::string& name, const std::vector<int64_t>& values) {
  attr(proto_of(node_), name, values);
  return *this;
}

std::string OnnxNodeWriter::input(size_t index) {
  const auto* n = node_of(node_);
  if (index >= n->inputs().size()) refuse(fmt::format("it has no input {}", index));
  return converter_of(converter_).in(n->input(index));
}
std::string OnnxNodeWriter::output(size_t index) {
  const auto* n = node_of(node_);
  if (index >= n->outputs().size()) refuse(fmt::format("it has no output {}", index));
  return converter_of(converter_).out(n->outputs()[index]);
}
int64_t OnnxNodeWriter::int_input(size_t index) const { return converter_of(converter_).integer(node_of(node_), index); }
double OnnxNodeWriter::float_input(size_t index) const {
  return converter_of(converter_).constant(node_of(node_), index).toScalar().toDouble();
}
std::vector<int64_t> OnnxNodeWriter::ints_input(size_t index) const {
  return converter_of(converter_).ints(node_of(node_), index);
}
std::vector<int64_t> OnnxNodeWriter::input_sizes(size_t index) const {
  return converter_of(converter_).sizes(node_of(node_)->input(index));
}
std::string OnnxNodeWriter::temp() { return converter_of(converter_).temp(); }
std::string OnnxNodeWriter::constant(const std::vector<int64_t>& values) { return converter_of(converter_).int64s(values); }
std::string OnnxNodeWriter::constant(float value) { return converter_of(converter_).initializer(torch::tensor(value)); }
OnnxNodeAttributes OnnxNodeWriter::add(const std::string& op_type, const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& outputs) {
  return OnnxNodeAttributes(&converter_of(converter_).add(op_type, inputs, outputs));
}
void OnnxNodeWriter::refuse(const std::string& why) const {
  converter_of(converter_).require(false, node_of(node_), why);
  HWNAS_INTERNAL_ASSERT(false, "require(false) returned");
}

void register_onnx_op(const std::string& aten_op, OnnxOpConversion conversion) {
  HWNAS_CHECK_T(ConfigError, aten_op.rfind("aten::", 0) == 0 && aten_op.size() > 6, "register_onnx_op: '", aten_op,
                "' is not an ATen op name (e.g. aten::transpose)");
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(conversion), "register_onnx_op: no conversion given for ", aten_op);
  HWNAS_CHECK_T(ConfigError, !Converter::rules().count(aten_op), "register_onnx_op: hwnas converts ", aten_op,
                " already");
  onnx_op_registry().add_value(aten_op, "registered conversion", std::move(conversion));
}

std::vector<std::string> onnx_supported_ops() {
  std::vector<std::string> ops;
  for (const auto& [op, rule] : Converter::rules()) ops.push_back(op);
  for (const auto& op : onnx_op_registry().names()) ops.push_back(op);
  std::sort(ops.begin(), ops.end());
  return ops;
}

OnnxReport save_onnx(nn::Network& net, const Shape& input, const std::string& path, const OnnxOptions& options) {
  HWNAS_CHECK_T(ConfigError, options.opset() >= kMinOpset && options.opset() <= kMaxOpset, "ONNX export: opset ",
                options.opset(), " is not supported; choose ", kMinOpset, " to ", kMaxOpset);
  auto traced = detail::trace_network(net, input, options.trace_batch(), options.seed());
  torch::NoGradGuard no_grad;
  auto graph = traced.module.get_method("forward").graph();
  HWNAS_CHECK_T(Error, graph->inputs().size() == 2 && graph->outputs().size() == 1,
                "ONNX export: the traced forward has ", graph->inputs().size() - 1, " inputs and ",
                graph->outputs().size(), " outputs; one of each is exported");

  onnx::ModelProto model;
  // The IR version of the ONNX release that introduced the opset (1.8: IR 7, 1.10+: IR 8).
  model.set_ir_version(options.opset() <= 14 ? onnx::IR_VERSION_2020_5_8 : onnx::IR_VERSION);
  model.set_producer_name("hwnas");
  model.set_producer_version(kVersion);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset());
  auto* g = model.mutable_graph();
  g->set_name(options.graph_name());

  Converter converter(*g);
  const auto* x = graph->inputs()[1];
  const auto* y = graph->outputs()[0];
  converter.bind(x, "input");
  set_float_tensor_type(*g->add_input(), "input", {1, input.c, input.h, input.w});
  if (!converter.folded(y->node()) && y != x) converter.bind(y, "logits");
  for (const auto* n : graph->nodes()) converter.fold(traced.module, n);
  for (const auto* n : graph->nodes()) converter.convert(n);
  if (converter.in(y) != "logits") converter.add("Identity", {converter.in(y)}, {"logits"});
  // The output shape the trace recorded (its batch dimension becomes symbolic).
  set_float_tensor_type(*g->add_output(), "logits", converter.sizes(y));

  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1,
                                                                   /*data_prop=*/true));
  } catch (const std::exception& e) {
    throw Error(fmt::format("ONNX export: the converted model fails the ONNX checker or shape inference: {} "
                            "(a converter bug: please report it with the network); nothing written", e.what()));
  }
  OnnxReport report;
  report.path = path;
  report.opset = options.opset();
  report.nodes = g->node_size();
  report.initializers = g->initializer_size();
  for (const auto& n : g->node()) ++report.ops[n.op_type()];
  std::string bytes;
  HWNAS_CHECK(model.SerializeToString(&bytes), "ONNX export: the model could not be serialized (",
              model.ByteSizeLong(), " bytes; protobuf's limit is 2 GiB)");
  write_file_atomic(path, bytes);
  return report;
}

}  // namespace hwnas::exporting
