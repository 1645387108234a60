// Every use of simdjson lives in this file (it is the costliest header to
// compile). Two passes per document: the first walks every value so that
// nothing malformed hides in a part we do not read; the second extracts the
// fields, taking `args`/`custom` as raw bytes.

#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>

#include "core/check.h"
#include "core/limits.h"
#include "core/time_format.h"
#include "net/command_decoders.h"
#include "net/job_decoder.h"

namespace werk::net {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

namespace {

std::string_view JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "bool";
    case od::json_type::null: return "null";
  }
  return "value";
}

error_code WalkValue(od::value v, int depth);

error_code WalkObject(od::object o, int depth) {
  if (depth > core::kJsonDepthMax) return simdjson::DEPTH_ERROR;
  for (auto field_result : o) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return err;
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return err;
    if (auto err = WalkValue(field.value(), depth)) return err;
  }
  return SUCCESS;
}

error_code WalkArray(od::array a, int depth) {
  if (depth > core::kJsonDepthMax) return simdjson::DEPTH_ERROR;
  for (auto el : a) {
    od::value v;
    if (auto err = el.get(v)) return err;
    if (auto err = WalkValue(v, depth)) return err;
  }
  return SUCCESS;
}

// Recursion is bounded by kJsonDepthMax, so hostile nesting cannot exhaust
// the stack.
error_code WalkValue(od::value v, int depth) {
  od::json_type t;
  if (auto err = v.type().get(t)) return err;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (auto err = v.get_object().get(o)) return err;
      return WalkObject(o, depth + 1);
    }
    case od::json_type::array: {
      od::array a;
      if (auto err = v.get_array().get(a)) return err;
      return WalkArray(a, depth + 1);
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = v.is_null().get(is_null)) return err;
      return is_null ? SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

std::string DescribeError(error_code err) {
  switch (err) {
    case simdjson::EMPTY: return "unexpected end of JSON input";
    case simdjson::TAPE_ERROR:
      return "malformed JSON (missing or extra commas, braces, brackets or quotes)";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "unexpected end of JSON input";
    case simdjson::UNCLOSED_STRING: return "unterminated string";
    case simdjson::STRING_ERROR: return "invalid string escape";
    case simdjson::UTF8_ERROR: return "invalid UTF-8 in string";
    case simdjson::NUMBER_ERROR: return "invalid number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: return "invalid literal (expected true, false or null)";
    case simdjson::DEPTH_ERROR: return "nesting too deep";
    case simdjson::CAPACITY: return "document too large";
    default: return simdjson::error_message(err);
  }
}

}  // namespace

// Parser state and a padded copy of the input.
class JsonDecoder {
 public:
  // Copies `json` and checks the whole document. On failure sets `error` to
  // a description (without any prefix).
  // `root_depth`: the nesting level of the document's root (2 for an
  // element of a PUSHB array decoded on its own, as it is inside the array).
  bool Load(std::string_view json, std::string* error, int root_depth = 1) {
    const size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (buf_.size() < need) buf_.resize(need);
    if (!json.empty()) std::memcpy(buf_.data(), json.data(), json.size());
    std::memset(buf_.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    len_ = json.size();
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      *error = "unexpected end of JSON input";
      return false;
    }
    od::document doc;
    error_code err = Begin(&doc);
    if (!err) err = WalkRoot(doc, root_depth);
    if (!err) {
      // Anything left after the root value (the iterator is not at the end).
      const char* rest = nullptr;
      if (!doc.current_location().get(rest)) {
        *error = "invalid character after top-level value";
        return false;
      }
    }
    if (err) {
      *error = DescribeError(err);
      return false;
    }
    return true;
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

namespace {

// --- Typed field readers (second pass; the document is known to be valid) ---

// Go's decoding rules: null leaves the zero value; any other mismatch fails.
class FieldReader {
 public:
  FieldReader(std::string_view type_name, std::string* error)
      : type_name_(type_name), error_(error) {}

  bool Mismatch(od::value& v, std::string_view field, std::string_view want) {
    od::json_type t = od::json_type::null;
    (void)v.type().get(t);
    if (error_) {
      *error_ = "cannot unmarshal ";
      error_->append(JsonTypeName(t));
      error_->append(" into Go struct field ");
      error_->append(type_name_);
      error_->push_back('.');
      error_->append(field);
      error_->append(" of type ");
      error_->append(want);
    }
    return false;
  }

  static bool IsNull(od::value& v) {
    od::json_type t;
    return !v.type().get(t) && t == od::json_type::null;
  }

  bool String(od::value v, std::string_view field, std::string* out) {
    if (IsNull(v)) return true;
    std::string_view s;
    if (v.get_string().get(s)) return Mismatch(v, field, "string");
    out->assign(s);
    return true;
  }
  bool Int(od::value v, std::string_view field, int64_t* out, int64_t null_value = 0) {
    if (IsNull(v)) {
      *out = null_value;
      return true;
    }
    int64_t i;
    if (v.get_int64().get(i)) return Mismatch(v, field, "int");
    *out = i;
    return true;
  }
  bool Strings(od::value v, std::string_view field, std::vector<std::string>* out) {
    out->clear();
    if (IsNull(v)) return true;
    od::array a;
    if (v.get_array().get(a)) return Mismatch(v, field, "[]string");
    for (auto el : a) {
      od::value ev;
      if (el.get(ev)) return false;
      std::string s;
      if (!String(ev, field, &s)) return false;
      out->push_back(std::move(s));
    }
    return true;
  }
  // The raw bytes of an array (`args`) or object (`custom`).
  bool Raw(od::value v, std::string_view field, bool want_array, std::string* out,
           bool* present) {
    *present = false;
    out->clear();
    if (IsNull(v)) return true;
    std::string_view raw;
    if (want_array) {
      od::array a;
      if (v.get_array().get(a) || a.raw_json().get(raw)) return Mismatch(v, field, "[]interface {}");
    } else {
      od::object o;
      if (v.get_object().get(o) || o.raw_json().get(raw))
        return Mismatch(v, field, "map[string]interface {}");
    }
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                            raw.back() == '\t'))
      raw.remove_suffix(1);
    out->assign(raw);
    *present = true;
    return true;
  }

 private:
  std::string_view type_name_;
  std::string* error_;
};

// Case-insensitive key match (Go's decoder folds case).
bool KeyIs(std::string_view key, std::string_view name) {
  return absl::EqualsIgnoreCase(absl::string_view(key.data(), key.size()),
                               absl::string_view(name.data(), name.size()));
}

bool DecodeFailure(od::value v, core::Failure* f, FieldReader& r) {
  od::object o;
  if (v.get_object().get(o)) return r.Mismatch(v, "failure", "client.Failure");
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    std::string k(key);
    od::value fv = field.value();
    bool ok = true;
    if (KeyIs(k, "retry_count")) ok = r.Int(fv, "Failure.retry_count", &f->retry_count);
    else if (KeyIs(k, "remaining")) ok = r.Int(fv, "Failure.remaining", &f->remaining);
    else if (KeyIs(k, "failed_at")) ok = r.String(fv, "Failure.failed_at", &f->failed_at);
    else if (KeyIs(k, "next_at")) ok = r.String(fv, "Failure.next_at", &f->next_at);
    else if (KeyIs(k, "message")) ok = r.String(fv, "Failure.message", &f->message);
    else if (KeyIs(k, "errtype")) ok = r.String(fv, "Failure.errtype", &f->errtype);
    else if (KeyIs(k, "backtrace")) ok = r.Strings(fv, "Failure.backtrace", &f->backtrace);
    if (!ok) return false;
  }
  return true;
}

// Reads one job object. `args_present` tells a missing/null args from [].
bool DecodeJobObject(od::value v, core::JobSpec* job, bool* args_present, std::string* error) {
  FieldReader r("Job", error);
  *args_present = false;
  if (FieldReader::IsNull(v)) return true;
  od::object o;
  if (v.get_object().get(o)) {
    od::json_type t = od::json_type::null;
    (void)v.type().get(t);
    *error = "cannot unmarshal ";
    error->append(JsonTypeName(t));
    error->append(" into Go value of type client.Job");
    return false;
  }
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key_view;
    if (field.unescaped_key().get(key_view)) return false;
    const std::string key(key_view);
    od::value fv = field.value();
    bool ok = true;
    if (KeyIs(key, "jid")) ok = r.String(fv, "jid", &job->jid);
    else if (KeyIs(key, "jobtype")) ok = r.String(fv, "jobtype", &job->jobtype);
    else if (KeyIs(key, "queue")) ok = r.String(fv, "queue", &job->queue);
    else if (KeyIs(key, "args")) ok = r.Raw(fv, "args", true, &job->args_json, args_present);
    else if (KeyIs(key, "custom")) {
      bool present;
      ok = r.Raw(fv, "custom", false, &job->custom_json, &present);
      // Go omits an empty map when it re-encodes the job.
      if (ok && present) {
        std::string_view c = job->custom_json;
        if (c.find_first_not_of("{} \t\r\n") == std::string_view::npos) job->custom_json.clear();
      }
    } else if (KeyIs(key, "created_at")) ok = r.String(fv, "created_at", &job->created_at);
    else if (KeyIs(key, "at")) ok = r.String(fv, "at", &job->at);
    else if (KeyIs(key, "retry")) ok = r.Int(fv, "retry", &job->retry, core::kRetryDefault);
    else if (KeyIs(key, "reserve_for")) ok = r.Int(fv, "reserve_for", &job->reserve_for);
    else if (KeyIs(key, "backtrace")) ok = r.Int(fv, "backtrace", &job->backtrace);
    else if (KeyIs(key, "failure")) {
      if (FieldReader::IsNull(fv)) {
        job->failure.reset();
      } else {
        job->failure.emplace();
        ok = DecodeFailure(fv, &*job->failure, r);
      }
    }
    // enqueued_at is server-owned and everything else is dropped, as in Faktory.
    if (!ok) return false;
  }
  return true;
}

// Second-pass entry: iterate the already validated document and hand its root
// to `fn` as a value (wrapping scalar roots is not needed: callers only accept
// objects, arrays and null).
template <typename Fn>
bool WithRoot(JsonDecoder& d, std::string* error, Fn fn) {
  od::document doc;
  if (auto err = d.Begin(&doc)) {
    *error = DescribeError(err);
    return false;
  }
  od::json_type t;
  if (auto err = doc.type().get(t)) {
    *error = DescribeError(err);
    return false;
  }
  if (t != od::json_type::object && t != od::json_type::array && t != od::json_type::null) {
    return fn(nullptr, t);
  }
  if (t == od::json_type::null) return fn(nullptr, t);
  od::value root;
  if (auto err = doc.get_value().get(root)) {
    *error = DescribeError(err);
    return false;
  }
  return fn(&root, t);
}

}  // namespace

// --- JobDecoder -----------------------------------------------------------------

JobDecoder::JobDecoder(int root_depth)
    : json_(std::make_unique<JsonDecoder>()), root_depth_(root_depth) {}
JobDecoder::~JobDecoder() = default;

bool JobDecoder::DecodeOne(std::string_view json, core::JobSpec* out, std::string* error) {
  std::string detail;
  *out = core::JobSpec{};
  bool args_present = false;
  bool ok = json_->Load(json, &detail, root_depth_) &&
            WithRoot(*json_, &detail, [&](od::value* root, od::json_type t) {
              if (t == od::json_type::null) return true;
              if (!root) {
                detail = std::string("cannot unmarshal ") + std::string(JsonTypeName(t)) +
                         " into Go value of type client.Job";
                return false;
              }
              return DecodeJobObject(*root, out, &args_present, &detail);
            });
  json_->Trim();
  if (!ok) {
    *error = "invalid JSON: " + detail;
    return false;
  }
  if (!args_present) out->args_json.clear();
  return true;
}

bool JobDecoder::DecodeMany(std::string_view json, std::vector<core::JobSpec>* out,
                            std::string* error) {
  std::string detail;
  out->clear();
  bool ok = json_->Load(json, &detail) &&
            WithRoot(*json_, &detail, [&](od::value* root, od::json_type t) {
              if (t == od::json_type::null) return true;
              od::array a;
              if (!root || root->get_array().get(a)) {
                detail = std::string("cannot unmarshal ") + std::string(JsonTypeName(t)) +
                         " into Go value of type []client.Job";
                return false;
              }
              for (auto el : a) {
                od::value v;
                if (el.get(v)) return false;
                core::JobSpec job;
                bool args_present = false;
                if (!DecodeJobObject(v, &job, &args_present, &detail)) return false;
                if (!args_present) job.args_json.clear();
                out->push_back(std::move(job));
              }
              return true;
            });
  json_->Trim();
  if (!ok) {
    *error = "invalid JSON: " + detail;
    return false;
  }
  return true;
}

// --- JobBatchDecoder ------------------------------------------------------------

struct JobBatchDecoder::State {
  MallocBytes block;  // holds the JSON and its padding
  std::string_view json;
  od::parser parser{core::kLineBytesMax};
  od::document doc;
  od::array array;
  od::array_iterator it, end;
  JobDecoder element{2};  // each element, checked and decoded as one document
  bool done = false;
};

JobBatchDecoder::JobBatchDecoder() : s_(std::make_unique<State>()) {}
JobBatchDecoder::~JobBatchDecoder() = default;

bool JobBatchDecoder::done() const { return s_->done; }

namespace {

// After the root value: anything but whitespace is an error (as Load says).
bool NothingAfterRoot(od::document& doc, std::string* error) {
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    *error = "invalid JSON: invalid character after top-level value";
    return false;
  }
  return true;
}

}  // namespace

static_assert(JobBatchDecoder::kPaddingBytes >= simdjson::SIMDJSON_PADDING);

bool JobBatchDecoder::Start(std::string_view json, std::string* error) {
  MallocBytes block = AllocateBytes(json.size() + kPaddingBytes);
  std::memcpy(block.get(), json.data(), json.size());
  return Start(std::move(block), 0, json.size(), json.size() + kPaddingBytes, error);
}

bool JobBatchDecoder::Start(MallocBytes block, size_t offset, size_t len, size_t capacity,
                            std::string* error) {
  State& s = *s_;
  WERK_CHECK(offset + len + kPaddingBytes <= capacity);
  s.block = std::move(block);
  s.json = std::string_view(s.block.get() + offset, len);
  if (s.json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    *error = "invalid JSON: unexpected end of JSON input";
    return false;
  }
  // (The padding's bytes may be anything, simdjson only reads them.)
  error_code err = s.parser.allocate(std::max(len, size_t(4096)));
  if (!err)
    err = s.parser.iterate(simdjson::padded_string_view(s.json.data(), len, capacity - offset))
              .get(s.doc);
  od::json_type t = od::json_type::null;
  if (!err) err = s.doc.type().get(t);
  if (err) {
    *error = "invalid JSON: " + DescribeError(err);
    return false;
  }
  if (t == od::json_type::null) {
    bool is_null = false;
    if (s.doc.is_null().get(is_null) || !is_null) {
      *error = "invalid JSON: " + DescribeError(simdjson::N_ATOM_ERROR);
      return false;
    }
    s.done = true;
    return NothingAfterRoot(s.doc, error);
  }
  if (t != od::json_type::array) {
    *error = "invalid JSON: cannot unmarshal " + std::string(JsonTypeName(t)) +
             " into Go value of type []client.Job";
    return false;
  }
  if ((err = s.doc.get_array().get(s.array)) || (err = s.array.begin().get(s.it)) ||
      (err = s.array.end().get(s.end))) {
    *error = "invalid JSON: " + DescribeError(err);
    return false;
  }
  if (s.it == s.end) {
    s.done = true;
    return NothingAfterRoot(s.doc, error);
  }
  return true;
}

bool JobBatchDecoder::Next(size_t max, std::vector<core::JobSpec>* out, std::string* error) {
  State& s = *s_;
  for (size_t n = 0; n < max && !s.done; ++n) {
    od::value v;
    od::json_type t = od::json_type::null;
    error_code err = (*s.it).get(v);
    if (!err) err = v.type().get(t);
    if (err) {
      *error = "invalid JSON: " + DescribeError(err);
      return false;
    }
    core::JobSpec job;
    if (t == od::json_type::null) {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) {
        *error = "invalid JSON: " + DescribeError(simdjson::N_ATOM_ERROR);
        return false;
      }
    } else if (t != od::json_type::object) {
      *error = "invalid JSON: cannot unmarshal " + std::string(JsonTypeName(t)) +
               " into Go value of type client.Job";
      return false;
    } else {
      od::object o;
      std::string_view raw;
      if ((err = v.get_object().get(o)) || (err = o.raw_json().get(raw))) {
        *error = "invalid JSON: " + DescribeError(err);
        return false;
      }
      if (!s.element.DecodeOne(raw, &job, error)) return false;
    }
    out->push_back(std::move(job));
    ++s.it;
    if (s.it == s.end) {
      s.done = true;
      if (!NothingAfterRoot(s.doc, error)) return false;
    }
  }
  return true;
}

// --- Command arguments --------------------------------------------------------------

namespace {

// Loads `json` and hands the root object to `fn`; false for anything else.
template <typename Fn>
bool WithObject(JobDecoder& d, std::string_view json, std::string* error, Fn fn) {
  std::string detail;
  bool ok = d.json().Load(json, &detail) &&
            WithRoot(d.json(), &detail, [&](od::value* root, od::json_type t) {
              if (t == od::json_type::null) return fn(nullptr);
              od::object o;
              if (!root || root->get_object().get(o)) {
                detail = std::string("cannot unmarshal ") + std::string(JsonTypeName(t)) +
                         " into an object";
                return false;
              }
              return fn(&o);
            });
  d.json().Trim();
  if (!ok && error && !detail.empty()) *error = detail;
  return ok;
}

}  // namespace

bool DecodeHello(JobDecoder& d, std::string_view json, HelloArgs* out, std::string* error) {
  *out = HelloArgs{};
  return WithObject(d, json, error, [&](od::object* o) {
    if (!o) return true;
    FieldReader r("ClientData", error);
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return false;
      const std::string key(kv);
      od::value v = field.value();
      bool ok = true;
      if (KeyIs(key, "v")) {
        ok = r.Int(v, "v", &out->v);
        if (ok && (out->v < 0 || out->v > 255)) {
          if (error) *error = "protocol version out of range";
          ok = false;
        }
      } else if (KeyIs(key, "hostname")) ok = r.String(v, "hostname", &out->hostname);
      else if (KeyIs(key, "wid")) ok = r.String(v, "wid", &out->wid);
      else if (KeyIs(key, "pid")) ok = r.Int(v, "pid", &out->pid);
      else if (KeyIs(key, "labels")) ok = r.Strings(v, "labels", &out->labels);
      else if (KeyIs(key, "pwdhash")) ok = r.String(v, "pwdhash", &out->pwdhash);
      else if (KeyIs(key, "username")) ok = r.String(v, "username", &out->username);
      if (!ok) return false;
    }
    return true;
  });
}

bool DecodeAck(JobDecoder& d, std::string_view json, std::string* jid) {
  bool found = false;
  const bool ok = WithObject(d, json, nullptr, [&](od::object* o) {
    if (!o) return false;
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return false;
      const bool is_jid = kv == "jid";  // a map key: exact match
      std::string_view s;
      if (field.value().get_string().get(s)) return false;  // map[string]string
      if (is_jid) {
        jid->assign(s);
        found = true;
      }
    }
    return true;
  });
  return ok && found;
}

bool DecodeFail(JobDecoder& d, std::string_view json, FailArgs* out) {
  *out = FailArgs{};
  return WithObject(d, json, nullptr, [&](od::object* o) {
    if (!o) return false;
    FieldReader r("FailPayload", nullptr);
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return false;
      const std::string key(kv);
      od::value v = field.value();
      bool ok = true;
      if (KeyIs(key, "jid")) ok = r.String(v, "jid", &out->jid);
      else if (KeyIs(key, "message")) ok = r.String(v, "message", &out->message);
      else if (KeyIs(key, "errtype")) ok = r.String(v, "errtype", &out->errtype);
      else if (KeyIs(key, "backtrace")) ok = r.Strings(v, "backtrace", &out->backtrace);
      if (!ok) return false;
    }
    return true;
  });
}

bool DecodeBeat(JobDecoder& d, std::string_view json, BeatArgs* out) {
  *out = BeatArgs{};
  return WithObject(d, json, nullptr, [&](od::object* o) {
    if (!o) return false;
    FieldReader r("ClientBeat", nullptr);
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return false;
      const std::string key(kv);
      od::value v = field.value();
      bool ok = true;
      if (KeyIs(key, "wid")) ok = r.String(v, "wid", &out->wid);
      else if (KeyIs(key, "current_state")) ok = r.String(v, "current_state", &out->current_state);
      else if (KeyIs(key, "rss_kb")) ok = r.Int(v, "rss_kb", &out->rss_kb);
      if (!ok) return false;
    }
    return true;
  });
}

bool DecodeMutate(JobDecoder& d, std::string_view json, MutateArgs* out, std::string* error) {
  *out = MutateArgs{};
  return WithObject(d, json, error, [&](od::object* o) {
    if (!o) return true;
    FieldReader r("Operation", error);
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return false;
      const std::string key(kv);
      od::value v = field.value();
      bool ok = true;
      if (KeyIs(key, "cmd")) ok = r.String(v, "cmd", &out->cmd);
      else if (KeyIs(key, "target")) ok = r.String(v, "target", &out->target);
      else if (KeyIs(key, "filter")) {
        if (FieldReader::IsNull(v)) {
          out->filter.reset();
          continue;
        }
        od::object fo;
        if (v.get_object().get(fo)) return r.Mismatch(v, "filter", "client.JobFilter");
        out->filter.emplace();
        for (auto ff : fo) {
          od::field f2;
          if (std::move(ff).get(f2)) return false;
          std::string_view k2v;
          if (f2.unescaped_key().get(k2v)) return false;
          const std::string k2(k2v);
          od::value v2 = f2.value();
          bool ok2 = true;
          if (KeyIs(k2, "jids")) ok2 = r.Strings(v2, "JobFilter.jids", &out->filter->jids);
          else if (KeyIs(k2, "regexp")) ok2 = r.String(v2, "JobFilter.regexp", &out->filter->regexp);
          else if (KeyIs(k2, "jobtype")) ok2 = r.String(v2, "JobFilter.jobtype", &out->filter->jobtype);
          if (!ok2) return false;
        }
      }
      if (!ok) return false;
    }
    return true;
  });
}

}  // namespace werk::net
