#pragma once
// What the JSON decoders share (net/json_decode.cc, net/json_batch_decode.cc,
// net/command_decode.cc): the simdjson parser with a padded copy of the
// input, the first pass that walks every value, and the typed field readers
// of the second pass. Internal to those files: simdjson is the costliest
// header to compile, and no other file includes it.

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include <absl/strings/match.h>

#include "core/job.h"
#include "core/limits.h"
#include "core/op_status.h"
#include "net/enterprise_fields.h"

namespace werk::net {

namespace od = simdjson::ondemand;
using core::OpStatus;
using simdjson::error_code;
using simdjson::SUCCESS;

// A refusal without a reason of its own: an iteration error in the second
// pass, which the first pass leaves no reason to expect.
inline OpStatus NoReason() { return absl::InvalidArgumentError({}); }

// The JSON type's name as Go's encoding/json says it ("number", "object").
std::string_view JsonTypeName(od::json_type t);
// The first pass: every value, so nothing malformed hides in a part the
// second pass does not read.
error_code WalkObject(od::object o, int depth);
error_code WalkArray(od::array a, int depth);
error_code WalkValue(od::value v, int depth);
// A parse error as a message.
std::string DescribeError(error_code err);

// Parser state and a padded copy of the input.
class JsonDecoder {
 public:
  // Copies `json` and checks the whole document. On failure: InvalidRequest
  // with a description (without any prefix).
  // `root_depth`: the nesting level of the document's root (2 for an
  // element of a PUSHB array decoded on its own, as it is inside the array).
  OpStatus Load(std::string_view json, int root_depth = 1) {
    const size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (buf_.size() < need) buf_.resize(need);
    if (!json.empty()) std::memcpy(buf_.data(), json.data(), json.size());
    std::memset(buf_.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    len_ = json.size();
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos)
      return core::InvalidRequest("unexpected end of JSON input");
    od::document doc;
    error_code err = Begin(&doc);
    if (!err) err = WalkRoot(doc, root_depth);
    if (!err) {
      // Anything left after the root value (the iterator is not at the end).
      const char* rest = nullptr;
      if (!doc.current_location().get(rest))
        return core::InvalidRequest("invalid character after top-level value");
    }
    if (err) return core::InvalidRequest(DescribeError(err));
    return core::OkStatus();
  }

  error_code Begin(od::document* doc) {
    if (len_ > parser_.capacity()) {
      if (auto err = parser_.allocate(std::max(len_, size_t(4096)))) return err;
    }
    return parser_.iterate(simdjson::padded_string_view(buf_.data(), len_, buf_.size()))
        .get(*doc);
  }

  // Shrinks the parser after a huge document so one big PUSHB does not pin
  // its buffers forever.
  void Trim() {
    if (buf_.size() > (1u << 20)) {
      buf_.clear();
      buf_.shrink_to_fit();
    }
    if (parser_.capacity() > (1u << 20) && parser_.allocate(4096)) parser_ = od::parser{core::kLineBytesMax};
  }

 private:
  static error_code WalkRoot(od::document& doc, int depth) {
    od::json_type t;
    if (auto err = doc.type().get(t)) return err;
    switch (t) {
      case od::json_type::object: {
        od::object o;
        if (auto err = doc.get_object().get(o)) return err;
        return WalkObject(o, depth);
      }
      case od::json_type::array: {
        od::array a;
        if (auto err = doc.get_array().get(a)) return err;
        return WalkArray(a, depth);
      }
      case od::json_type::string: {
        std::string_view s;
        return doc.get_string().get(s);
      }
      case od::json_type::number: {
        od::number n;
        return doc.get_number().get(n);
      }
      case od::json_type::boolean: {
        bool b;
        return doc.get_bool().get(b);
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = doc.is_null().get(is_null)) return err;
        return is_null ? SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  od::parser parser_{core::kLineBytesMax};
  std::string buf_;
  size_t len_ = 0;
};

// --- Typed field readers (second pass; the document is known to be valid) ---

// Go's decoding rules: null leaves the zero value; any other mismatch fails
// with Go's message (InvalidRequest).
class FieldReader {
 public:
  explicit FieldReader(std::string_view type_name) : type_name_(type_name) {}

  OpStatus Mismatch(od::value& v, std::string_view field, std::string_view want) const {
    od::json_type t = od::json_type::null;
    (void)v.type().get(t);
    std::string e = "cannot unmarshal ";
    e.append(JsonTypeName(t));
    e.append(" into Go struct field ");
    e.append(type_name_);
    e.push_back('.');
    e.append(field);
    e.append(" of type ");
    e.append(want);
    return core::InvalidRequest(e);
  }

  static bool IsNull(od::value& v) {
    od::json_type t;
    return !v.type().get(t) && t == od::json_type::null;
  }

  OpStatus String(od::value v, std::string_view field, std::string* out) const {
    if (IsNull(v)) return core::OkStatus();
    std::string_view s;
    if (v.get_string().get(s)) return Mismatch(v, field, "string");
    out->assign(s);
    return core::OkStatus();
  }
  OpStatus Int(od::value v, std::string_view field, int64_t* out, int64_t null_value = 0) const {
    if (IsNull(v)) {
      *out = null_value;
      return core::OkStatus();
    }
    int64_t i;
    if (v.get_int64().get(i)) return Mismatch(v, field, "int");
    *out = i;
    return core::OkStatus();
  }
  OpStatus Strings(od::value v, std::string_view field, std::vector<std::string>* out) const {
    out->clear();
    if (IsNull(v)) return core::OkStatus();
    od::array a;
    if (v.get_array().get(a)) return Mismatch(v, field, "[]string");
    for (auto el : a) {
      od::value ev;
      if (el.get(ev)) return NoReason();
      std::string s;
      if (OpStatus st = String(ev, field, &s); !st.ok()) return st;
      out->push_back(std::move(s));
    }
    return core::OkStatus();
  }
  // The raw bytes of an array (`args`; `custom` is DecodeCustom's).
  OpStatus RawArray(od::value v, std::string_view field, std::string* out, bool* present) const {
    *present = false;
    out->clear();
    if (IsNull(v)) return core::OkStatus();
    std::string_view raw;
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return Mismatch(v, field, "[]interface {}");
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                            raw.back() == '\t'))
      raw.remove_suffix(1);
    out->assign(raw);
    *present = true;
    return core::OkStatus();
  }

 private:
  std::string_view type_name_;
};

// Case-insensitive key match (Go's decoder folds case).
inline bool KeyIs(std::string_view key, std::string_view name) {
  return absl::EqualsIgnoreCase(absl::string_view(key.data(), key.size()),
                               absl::string_view(name.data(), name.size()));
}

// Calls `fn(key, value)` for each field of `o` (the key unescaped, valid
// while the document is) and stops at the first status that is not OK,
// returning it; an iteration error is NoReason(). A template, so the
// decoders' per-field code is inlined as it was when each wrote the loop.
template <typename Fn>
OpStatus ForEachField(od::object& o, Fn&& fn) {
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field)) return NoReason();
    std::string_view key;
    if (field.unescaped_key().get(key)) return NoReason();
    if (OpStatus s = fn(key, od::value(field.value())); !s.ok()) return s;
  }
  return core::OkStatus();
}

// Reads one job object. `args_present` tells a missing/null args from [];
// `fields` gets the Enterprise fields its `custom` carries.
OpStatus DecodeJobObject(od::value v, core::JobSpec* job, bool* args_present,
                         EnterpriseFieldSet* fields);

// Second-pass entry: iterate the already validated document and hand its root
// to `fn` as a value (wrapping scalar roots is not needed: callers only accept
// objects, arrays and null). Returns what `fn` returns.
template <typename Fn>
OpStatus WithRoot(JsonDecoder& d, Fn fn) {
  od::document doc;
  if (auto err = d.Begin(&doc)) return core::InvalidRequest(DescribeError(err));
  od::json_type t;
  if (auto err = doc.type().get(t)) return core::InvalidRequest(DescribeError(err));
  if (t != od::json_type::object && t != od::json_type::array && t != od::json_type::null) {
    return fn(nullptr, t);
  }
  if (t == od::json_type::null) return fn(nullptr, t);
  od::value root;
  if (auto err = doc.get_value().get(root)) return core::InvalidRequest(DescribeError(err));
  return fn(&root, t);
}

}  // namespace werk::net
