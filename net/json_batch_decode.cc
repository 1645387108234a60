// PUSHB's array decoded a slice at a time (net/job_decoder.h:
// JobBatchDecoder), for a line too long to decode at once.

#include "core/check.h"
#include "net/job_decoder.h"
#include "net/json_reader.h"

namespace werk::net {

// --- JobBatchDecoder ------------------------------------------------------------

struct JobBatchDecoder::State {
  MallocBytes block;  // holds the JSON and its padding
  std::string_view json;
  od::parser parser{core::kLineBytesMax};
  od::document doc;
  od::array array;
  od::array_iterator it, end;
  JobDecoder element{2};  // each element, checked and decoded as one document
  EnterpriseFieldUses uses;
  bool done = false;
};

JobBatchDecoder::JobBatchDecoder() : s_(std::make_unique<State>()) {}
JobBatchDecoder::~JobBatchDecoder() = default;

bool JobBatchDecoder::done() const { return s_->done; }
const EnterpriseFieldUses& JobBatchDecoder::field_uses() const { return s_->uses; }

namespace {

// PUSHB's refusal, with Faktory's prefix.
OpStatus InvalidJson(std::string_view detail) {
  return core::InvalidRequest("invalid JSON: " + std::string(detail));
}

// After the root value: anything but whitespace is an error (as Load says).
OpStatus NothingAfterRoot(od::document& doc) {
  const char* rest = nullptr;
  if (!doc.current_location().get(rest))
    return InvalidJson("invalid character after top-level value");
  return core::OkStatus();
}

}  // namespace

static_assert(JobBatchDecoder::kPaddingBytes >= simdjson::SIMDJSON_PADDING);

OpStatus JobBatchDecoder::Start(std::string_view json) {
  MallocBytes block = AllocateBytes(json.size() + kPaddingBytes);
  std::memcpy(block.get(), json.data(), json.size());
  return Start(std::move(block), 0, json.size(), json.size() + kPaddingBytes);
}

OpStatus JobBatchDecoder::Start(MallocBytes block, size_t offset, size_t len, size_t capacity) {
  State& s = *s_;
  WERK_CHECK(offset + len + kPaddingBytes <= capacity);
  s.block = std::move(block);
  s.json = std::string_view(s.block.get() + offset, len);
  if (s.json.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return InvalidJson("unexpected end of JSON input");
  // (The padding's bytes may be anything, simdjson only reads them.)
  error_code err = s.parser.allocate(std::max(len, size_t(4096)));
  if (!err)
    err = s.parser.iterate(simdjson::padded_string_view(s.json.data(), len, capacity - offset))
              .get(s.doc);
  od::json_type t = od::json_type::null;
  if (!err) err = s.doc.type().get(t);
  if (err) return InvalidJson(DescribeError(err));
  if (t == od::json_type::null) {
    bool is_null = false;
    if (s.doc.is_null().get(is_null) || !is_null)
      return InvalidJson(DescribeError(simdjson::N_ATOM_ERROR));
    s.done = true;
    return NothingAfterRoot(s.doc);
  }
  if (t != od::json_type::array) {
    return InvalidJson("cannot unmarshal " + std::string(JsonTypeName(t)) +
                       " into Go value of type []client.Job");
  }
  if ((err = s.doc.get_array().get(s.array)) || (err = s.array.begin().get(s.it)) ||
      (err = s.array.end().get(s.end)))
    return InvalidJson(DescribeError(err));
  if (s.it == s.end) {
    s.done = true;
    return NothingAfterRoot(s.doc);
  }
  return core::OkStatus();
}

OpStatus JobBatchDecoder::Next(size_t max, std::vector<core::JobSpec>* out) {
  State& s = *s_;
  for (size_t n = 0; n < max && !s.done; ++n) {
    od::value v;
    od::json_type t = od::json_type::null;
    error_code err = (*s.it).get(v);
    if (!err) err = v.type().get(t);
    if (err) return InvalidJson(DescribeError(err));
    core::JobSpec job;
    if (t == od::json_type::null) {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null)
        return InvalidJson(DescribeError(simdjson::N_ATOM_ERROR));
    } else if (t != od::json_type::object) {
      return InvalidJson("cannot unmarshal " + std::string(JsonTypeName(t)) +
                         " into Go value of type client.Job");
    } else {
      od::object o;
      std::string_view raw;
      if ((err = v.get_object().get(o)) || (err = o.raw_json().get(raw)))
        return InvalidJson(DescribeError(err));
      if (OpStatus js = s.element.DecodeOne(raw, &job, &s.uses); !js.ok()) return js;
    }
    out->push_back(std::move(job));
    ++s.it;
    if (s.it == s.end) {
      s.done = true;
      if (OpStatus rest = NothingAfterRoot(s.doc); !rest.ok()) return rest;
    }
  }
  return core::OkStatus();
}

}  // namespace werk::net
