#include "data/torch_file.h"

#include <torch/torch.h>
#include <zlib.h>

#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

#include "hwnas/core/error.h"

namespace hwnas::data::detail {
namespace {

constexpr const char* kForm = "save it with torch.save({\"images\": tensor, \"labels\": tensor}, path)";

// --- zip -----------------------------------------------------------------------------

struct Entry {
  uint64_t offset = 0, size = 0;
  uint32_t crc = 0;
  bool checked = false;
};

class Zip {
 public:
  Zip(const std::string& bytes, const std::string& name) : b_(bytes), name_(name) { read_directory(); }

  bool has(const std::string& entry) const { return entries_.count(entry) > 0; }
  const std::map<std::string, Entry>& entries() const { return entries_; }

  /// The bytes of an entry, its checksum checked on first use.
  std::pair<const char*, uint64_t> data(const std::string& entry) {
    auto it = entries_.find(entry);
    HWNAS_CHECK_T(DataError, it != entries_.end(), "tensor file '", name_, "' has no entry '", entry,
                  "': it is damaged or not written by torch.save; ", kForm);
    auto& e = it->second;
    if (!e.checked) {
      uLong crc = crc32(0L, Z_NULL, 0);
      for (uint64_t at = 0; at < e.size;) {
        const auto n = static_cast<uInt>(std::min<uint64_t>(e.size - at, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(b_.data() + e.offset + at), n);
        at += n;
      }
      HWNAS_CHECK_T(DataError, crc == e.crc, "tensor file '", name_, "': entry '", entry,
                    "' fails its checksum; the file is damaged: save it again");
      e.checked = true;
    }
    return {b_.data() + e.offset, e.size};
  }

 private:
  uint64_t u(uint64_t at, int bytes) const {
    HWNAS_CHECK_T(DataError, at <= b_.size() && b_.size() - at >= static_cast<uint64_t>(bytes), "tensor file '", name_,
                  "' is truncated or not a zip archive; ", kForm);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b_[at + static_cast<uint64_t>(i)]);
    return v;
  }

  void read_directory() {
    // The end-of-central-directory record: within the last 64 KiB + 22 bytes.
    const uint64_t n = b_.size();
    HWNAS_CHECK_T(DataError, n >= 22, "tensor file '", name_, "' is too short to be a torch.save file; ", kForm);
    uint64_t eocd = n - 22;
    const uint64_t floor = n > 65557 ? n - 65557 : 0;
    while (u(eocd, 4) != 0x06054b50) {
      HWNAS_CHECK_T(DataError, eocd > floor, "tensor file '", name_,
                    "' is not a zip archive (the format of torch.save since PyTorch 1.6); ", kForm);
      --eocd;
    }
    uint64_t count = u(eocd + 10, 2), dir_size = u(eocd + 12, 4), dir_at = u(eocd + 16, 4);
    if (count == 0xffff || dir_size == 0xffffffff || dir_at == 0xffffffff) {  // ZIP64
      HWNAS_CHECK_T(DataError, eocd >= 20 && u(eocd - 20, 4) == 0x07064b50, "tensor file '", name_,
                    "': a ZIP64 archive without its locator; the file is damaged");
      const uint64_t z = u(eocd - 20 + 8, 8);
      HWNAS_CHECK_T(DataError, u(z, 4) == 0x06064b50, "tensor file '", name_, "': damaged ZIP64 directory record");
      count = u(z + 32, 8), dir_size = u(z + 40, 8), dir_at = u(z + 48, 8);
    }
    HWNAS_CHECK_T(DataError, dir_at <= n && dir_size <= n - dir_at && count <= dir_size / 46 + 1, "tensor file '", name_,
                  "': its zip directory lies outside the file; the file is truncated or damaged");
    uint64_t at = dir_at;
    for (uint64_t i = 0; i < count; ++i) {
      HWNAS_CHECK_T(DataError, u(at, 4) == 0x02014b50, "tensor file '", name_, "': damaged zip directory entry ", i);
      const auto method = u(at + 10, 2);
      const auto crc = static_cast<uint32_t>(u(at + 16, 4));
      uint64_t csize = u(at + 20, 4), usize = u(at + 24, 4);
      const auto name_len = u(at + 28, 2), extra_len = u(at + 30, 2), comment_len = u(at + 32, 2);
      uint64_t local = u(at + 42, 4);
      HWNAS_CHECK_T(DataError, at + 46 + name_len <= n, "tensor file '", name_, "': damaged zip directory entry ", i);
      const std::string entry = b_.substr(at + 46, name_len);
      // ZIP64 sizes and offset, in that order, for the fields that overflowed.
      for (uint64_t x = at + 46 + name_len, end = x + extra_len; x + 4 <= end;) {
        const auto id = u(x, 2), len = u(x + 2, 2);
        if (id == 1) {
          uint64_t y = x + 4;
          if (usize == 0xffffffff) usize = u(y, 8), y += 8;
          if (csize == 0xffffffff) csize = u(y, 8), y += 8;
          if (local == 0xffffffff) local = u(y, 8), y += 8;
          HWNAS_CHECK_T(DataError, y <= x + 4 + len, "tensor file '", name_, "': damaged ZIP64 field of '", entry, "'");
        }
        x += 4 + len;
      }
      HWNAS_CHECK_T(DataError, method == 0 && csize == usize, "tensor file '", name_, "': entry '", entry,
                    "' is compressed; torch.save stores entries uncompressed: save the file again with torch.save");
      HWNAS_CHECK_T(DataError, u(local, 4) == 0x04034b50, "tensor file '", name_, "': entry '", entry,
                    "' has no local header; the file is damaged");
      const uint64_t start = local + 30 + u(local + 26, 2) + u(local + 28, 2);
      HWNAS_CHECK_T(DataError, start <= n && usize <= n - start, "tensor file '", name_, "': entry '", entry,
                    "' runs past the end of the file; the file is truncated");
      entries_[entry] = Entry{start, usize, crc, false};
      at += 46 + name_len + extra_len + comment_len;
    }
  }

  const std::string& b_;
  const std::string& name_;
  std::map<std::string, Entry> entries_;
};

// --- pickle ---------------------------------------------------------------------------

// Values live in one arena and refer to each other by index, so shared and even cyclic
// references (possible in a crafted pickle) are fine and freed with the arena.
struct Value {
  enum Kind { kNone, kBool, kInt, kFloat, kStr, kTuple, kList, kDict, kGlobal, kStorage, kTensor } kind = kNone;
  int64_t i = 0;
  double f = 0;
  std::string s, s2;           // kStr: s; kGlobal: module s, name s2; kStorage: its entry s
  std::vector<size_t> items;   // kTuple, kList; kDict: key, value, key, value, ...
  torch::ScalarType dtype = torch::kByte;  // kStorage
  at::Tensor tensor;
};

const char* kind_name(Value::Kind k) {
  static const char* names[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict", "class", "storage", "tensor"};
  return names[k];
}

const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> m{
      {"ByteStorage", torch::kByte},   {"CharStorage", torch::kChar},   {"ShortStorage", torch::kShort},
      {"IntStorage", torch::kInt},     {"LongStorage", torch::kLong},   {"HalfStorage", torch::kHalf},
      {"FloatStorage", torch::kFloat}, {"DoubleStorage", torch::kDouble}, {"BoolStorage", torch::kBool},
      {"BFloat16Storage", torch::kBFloat16}};
  return m;
}

class Unpickler {
 public:
  Unpickler(Zip& zip, std::string prefix, const char* data, uint64_t size, const std::string& name)
      : zip_(zip), prefix_(std::move(prefix)), p_(data), end_(data + size), name_(name) {}

  size_t run() {
    while (true) {
      const auto op = byte();
      switch (op) {
        case 0x80: byte(); break;                                           // PROTO
        case 0x95: take(8); break;                                          // FRAME
        case '.':                                                           // STOP
          fail_unless(!stack_.empty(), "ends with nothing on its stack");
          return stack_.back();
        case '(': marks_.push_back(stack_.size()); break;                   // MARK
        case '}': push(make(Value::kDict)); break;                          // EMPTY_DICT
        case ']': push(make(Value::kList)); break;                          // EMPTY_LIST
        case ')': push(make(Value::kTuple)); break;                         // EMPTY_TUPLE
        case 't': push(tuple_of(pop_mark())); break;                        // TUPLE
        case 0x85: case 0x86: case 0x87: {                                  // TUPLE1..3
          const size_t k = op - 0x84u;
          fail_unless(stack_.size() >= k, "takes more items than its stack holds");
          std::vector<size_t> items(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
          stack_.resize(stack_.size() - k);
          push(tuple_of(std::move(items)));
          break;
        }
        case 'q': memo_[byte()] = top(); break;                             // BINPUT
        case 'r': memo_[u32()] = top(); break;                              // LONG_BINPUT
        case 0x94: memo_[static_cast<uint32_t>(memo_.size())] = top(); break;  // MEMOIZE
        case 'h': push(memo(byte())); break;                                // BINGET
        case 'j': push(memo(u32())); break;                                 // LONG_BINGET
        case 'X': push(str(take(u32()))); break;                            // BINUNICODE
        case 0x8c: push(str(take(byte()))); break;                          // SHORT_BINUNICODE
        case 'T': push(str(take(u32()))); break;                            // BINSTRING
        case 'U': push(str(take(byte()))); break;                           // SHORT_BINSTRING
        case 'J': push(integer(static_cast<int32_t>(u32()))); break;        // BININT
        case 'K': push(integer(byte())); break;                             // BININT1
        case 'M': {                                                         // BININT2
          const auto lo = byte(), hi = byte();
          push(integer(lo | (hi << 8)));
          break;
        }
        case 0x8a: push(integer(long1())); break;                           // LONG1
        case 'N': push(make(Value::kNone)); break;                          // NONE
        case 0x88: case 0x89: {                                             // NEWTRUE, NEWFALSE
          const auto v = make(Value::kBool);
          at(v).i = op == 0x88;
          push(v);
          break;
        }
        case 'G': {                                                         // BINFLOAT
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | byte();
          const auto v = make(Value::kFloat);
          std::memcpy(&at(v).f, &bits, 8);
          push(v);
          break;
        }
        case 'c': {                                                         // GLOBAL
          auto module = line(), name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {                                                        // STACK_GLOBAL
          const auto name = pop(), module = pop();
          fail_unless(at(name).kind == Value::kStr && at(module).kind == Value::kStr, "names a class by non-strings");
          push(global(at(module).s, at(name).s));
          break;
        }
        case 'R': {                                                         // REDUCE
          const auto args = pop(), callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'Q': push(persistent(pop())); break;                           // BINPERSID
        case 's': {                                                         // SETITEM
          const auto value = pop(), key = pop();
          set_items(top(), {key, value});
          break;
        }
        case 'u': {                                                         // SETITEMS
          auto items = pop_mark();
          fail_unless(items.size() % 2 == 0, "sets a dict item without a value");
          set_items(top(), items);
          break;
        }
        case 'a': {                                                         // APPEND
          const auto v = pop();
          append(top(), {v});
          break;
        }
        case 'e': {                                                         // APPENDS
          auto items = pop_mark();
          append(top(), items);
          break;
        }
        default:
          fail("uses pickle operation 0x" + hex(op) + ", which hwnas does not read (it reads torch.save's "
               "protocols 2 to 4 of dicts of tensors)");
      }
    }
  }

  Value& at(size_t v) { return arena_[v]; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError("tensor file '" + name_ + "': its pickle " + what + "; " + kForm);
  }
  void fail_unless(bool ok, const char* what) const {
    if (!ok) fail(what);
  }
  static std::string hex(int v) {
    const char* d = "0123456789abcdef";
    return {d[(v >> 4) & 15], d[v & 15]};
  }

  uint32_t byte() {
    fail_unless(p_ < end_, "is truncated");
    return static_cast<unsigned char>(*p_++);
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= byte() << (8 * k);
    return v;
  }
  std::string take(uint64_t n) {
    fail_unless(static_cast<uint64_t>(end_ - p_) >= n, "is truncated");
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  std::string line() {
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    fail_unless(nl != nullptr, "is truncated");
    std::string s(p_, nl);
    p_ = nl + 1;
    return s;
  }
  int64_t long1() {
    const auto n = byte();
    fail_unless(n <= 8, "holds an integer beyond 64 bits");
    uint64_t v = 0;
    for (uint32_t k = 0; k < n; ++k) v |= uint64_t{byte()} << (8 * k);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }

  size_t make(Value::Kind k) {
    arena_.emplace_back();
    arena_.back().kind = k;
    return arena_.size() - 1;
  }
  size_t str(std::string s) {
    const auto v = make(Value::kStr);
    at(v).s = std::move(s);
    return v;
  }
  size_t integer(int64_t i) {
    const auto v = make(Value::kInt);
    at(v).i = i;
    return v;
  }
  size_t tuple_of(std::vector<size_t> items) {
    const auto v = make(Value::kTuple);
    at(v).items = std::move(items);
    return v;
  }
  void push(size_t v) { stack_.push_back(v); }
  size_t pop() {
    fail_unless(!stack_.empty() && (marks_.empty() || stack_.size() > marks_.back()), "takes from an empty stack");
    const auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  size_t top() const {
    fail_unless(!stack_.empty(), "takes from an empty stack");
    return stack_.back();
  }
  std::vector<size_t> pop_mark() {
    fail_unless(!marks_.empty() && marks_.back() <= stack_.size(), "closes a mark it never opened");
    std::vector<size_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  size_t memo(uint32_t k) const {
    const auto it = memo_.find(k);
    fail_unless(it != memo_.end(), "refers to a value it never stored");
    return it->second;
  }
  void set_items(size_t dict, const std::vector<size_t>& items) {
    fail_unless(at(dict).kind == Value::kDict, "sets items of something that is not a dict");
    at(dict).items.insert(at(dict).items.end(), items.begin(), items.end());
  }
  void append(size_t list, const std::vector<size_t>& items) {
    fail_unless(at(list).kind == Value::kList, "appends to something that is not a list");
    at(list).items.insert(at(list).items.end(), items.begin(), items.end());
  }

  size_t global(const std::string& module, const std::string& name) {
    const bool known = (module == "torch._utils" && name == "_rebuild_tensor_v2") ||
                       (module == "collections" && name == "OrderedDict") ||
                       (module == "torch.jit._pickle" && name == "restore_type_tag") ||
                       (module == "torch" && storage_types().count(name));
    if (!known)
      fail("holds a " + module + "." + name + " object; hwnas reads dicts of torch tensors (convert other "
           "objects, e.g. torch.from_numpy for NumPy arrays)");
    const auto v = make(Value::kGlobal);
    at(v).s = module;
    at(v).s2 = name;
    return v;
  }

  // ('storage', torch.<Type>Storage, key, location, numel)
  size_t persistent(size_t pid) {
    const auto& t = at(pid);
    fail_unless(t.kind == Value::kTuple && t.items.size() == 5, "has a persistent id that is not a storage");
    const auto &tag = at(t.items[0]), &type = at(t.items[1]), &key = at(t.items[2]), &numel = at(t.items[4]);
    fail_unless(tag.kind == Value::kStr && tag.s == "storage" && type.kind == Value::kGlobal && type.s == "torch" &&
                    key.kind == Value::kStr && numel.kind == Value::kInt && numel.i >= 0,
                "has a persistent id that is not a storage");
    const auto dtype = storage_types().at(type.s2);
    const auto entry = prefix_ + "/data/" + key.s;
    fail_unless(zip_.has(entry), "names a storage the archive does not hold");
    const auto bytes = zip_.entries().at(entry).size;
    const auto item = static_cast<uint64_t>(c10::elementSize(dtype));
    fail_unless(static_cast<uint64_t>(numel.i) <= bytes / item && static_cast<uint64_t>(numel.i) * item == bytes,
                "has a storage whose size disagrees with its entry");
    const auto v = make(Value::kStorage);
    at(v).s = entry;
    at(v).i = numel.i;
    at(v).dtype = dtype;
    return v;
  }

  std::vector<int64_t> ints(size_t v, const char* what) {
    const auto& t = at(v);
    if (t.kind != Value::kTuple) fail(std::string("has a tensor ") + what + " that is not a tuple");
    fail_unless(t.items.size() <= 16, "has a tensor of more than 16 dimensions");
    std::vector<int64_t> out;
    for (auto i : t.items) {
      if (at(i).kind != Value::kInt || at(i).i < 0) fail(std::string("has a tensor ") + what + " that is not whole numbers");
      out.push_back(at(i).i);
    }
    return out;
  }

  size_t reduce(size_t callable, size_t args) {
    const auto& c = at(callable);
    fail_unless(c.kind == Value::kGlobal && at(args).kind == Value::kTuple, "calls something that is not a class");
    if (c.s == "collections") {  // OrderedDict(): backward hooks, always empty in a saved tensor
      fail_unless(at(args).items.empty(), "builds an OrderedDict from arguments");
      return make(Value::kDict);
    }
    if (c.s2 == "restore_type_tag") {  // (value, "Dict[str, Tensor]"): LibTorch's typed containers
      fail_unless(at(args).items.size() == 2, "tags a type with the wrong arguments");
      return at(args).items[0];
    }
    fail_unless(c.s2 == "_rebuild_tensor_v2", "calls a storage class");
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const auto a = at(args).items;
    fail_unless(a.size() >= 6 && a.size() <= 7 && at(a[0]).kind == Value::kStorage && at(a[1]).kind == Value::kInt,
                "rebuilds a tensor from arguments of the wrong kinds");
    const auto storage = a[0];
    const int64_t offset = at(a[1]).i;
    const auto size = ints(a[2], "size"), stride = ints(a[3], "stride");
    fail_unless(size.size() == stride.size() && offset >= 0, "rebuilds a tensor with a bad shape");
    // The tensor must lie inside its storage and hold no more elements than it.
    int64_t last = offset, count = 1;
    bool empty = false;
    for (size_t k = 0; k < size.size(); ++k) {
      int64_t step = 0;
      if (size[k] == 0) empty = true;
      fail_unless(!__builtin_mul_overflow(size[k] > 0 ? size[k] - 1 : 0, stride[k], &step) &&
                      !__builtin_add_overflow(last, step, &last) && !__builtin_mul_overflow(count, size[k], &count),
                  "rebuilds a tensor larger than any storage");
    }
    const int64_t numel = at(storage).i;
    fail_unless(empty || (last < numel && count <= numel),
                "rebuilds a tensor outside its storage (an expanded tensor? save tensor.contiguous())");
    const auto [data, bytes] = zip_.data(at(storage).s);
    (void)bytes;
    const auto v = make(Value::kTensor);
    auto base = torch::from_blob(const_cast<char*>(data), {numel}, torch::TensorOptions().dtype(at(storage).dtype));
    at(v).tensor = empty ? torch::empty(size, base.options()) : base.as_strided(size, stride, offset).clone();
    return v;
  }

  Zip& zip_;
  std::string prefix_;
  const char* p_;
  const char* end_;
  const std::string& name_;
  std::deque<Value> arena_;  // a deque: references to values stay valid while more are made
  std::vector<size_t> stack_, marks_;
  std::unordered_map<uint32_t, size_t> memo_;
};

}  // namespace

TorchFile read_torch_file(const std::string& bytes, const std::string& name) {
  Zip zip(bytes, name);
  std::string pickle;
  for (const auto& [entry, e] : zip.entries()) {
    const auto slash = entry.find('/');
    if (slash != std::string::npos && entry.compare(slash, std::string::npos, "/data.pkl") == 0) pickle = entry;
  }
  HWNAS_CHECK_T(DataError, !pickle.empty(), "tensor file '", name, "' is a zip archive without a data.pkl: not written "
                "by torch.save (a TorchScript module? use torch.save for tensors); ", kForm);
  const auto prefix = pickle.substr(0, pickle.find('/'));
  if (zip.has(prefix + "/byteorder")) {
    const auto [data, size] = zip.data(prefix + "/byteorder");
    HWNAS_CHECK_T(DataError, std::string(data, size) == "little", "tensor file '", name,
                  "' holds big-endian tensors; save it on a little-endian machine");
  }
  const auto [data, size] = zip.data(pickle);
  Unpickler u(zip, prefix, data, size, name);
  const auto root = u.run();
  const auto& dict = u.at(root);
  HWNAS_CHECK_T(DataError, dict.kind == Value::kDict, "tensor file '", name, "' holds a ", kind_name(dict.kind),
                ", not a dict; ", kForm);
  TorchFile out;
  for (size_t k = 0; k + 1 < dict.items.size(); k += 2) {
    const auto& key = u.at(dict.items[k]);
    const auto& value = u.at(dict.items[k + 1]);
    HWNAS_CHECK_T(DataError, key.kind == Value::kStr, "tensor file '", name, "' has a dict key that is a ",
                  kind_name(key.kind), "; keys are strings (\"images\", \"labels\")");
    if (value.kind == Value::kTensor) out.tensors[key.s] = value.tensor;
    else out.others[key.s] = kind_name(value.kind);
  }
  return out;
}

}  // namespace hwnas::data::detail
