// Decoding jobs: PUSH's object and PUSHB's array in one piece (a PUSHB too
// long for that: net/json_batch_decode.cc). Two passes per document: the
// first walks every value so that nothing malformed hides in a part we do
// not read; the second extracts the fields, taking `args`/`custom` as raw
// bytes. Every use of simdjson is in the files that include
// net/json_reader.h.

#include "net/job_decoder.h"
#include "net/json_reader.h"

namespace werk::net {

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


OpStatus DecodeFailure(od::value v, core::Failure* f, const FieldReader& r) {
  od::object o;
  if (v.get_object().get(o)) return r.Mismatch(v, "failure", "client.Failure");
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field)) return NoReason();
    std::string_view key;
    if (field.unescaped_key().get(key)) return NoReason();
    std::string k(key);
    od::value fv = field.value();
    OpStatus s;
    if (KeyIs(k, "retry_count")) s = r.Int(fv, "Failure.retry_count", &f->retry_count);
    else if (KeyIs(k, "remaining")) s = r.Int(fv, "Failure.remaining", &f->remaining);
    else if (KeyIs(k, "failed_at")) s = r.String(fv, "Failure.failed_at", &f->failed_at);
    else if (KeyIs(k, "next_at")) s = r.String(fv, "Failure.next_at", &f->next_at);
    else if (KeyIs(k, "message")) s = r.String(fv, "Failure.message", &f->message);
    else if (KeyIs(k, "errtype")) s = r.String(fv, "Failure.errtype", &f->errtype);
    else if (KeyIs(k, "backtrace")) s = r.Strings(fv, "Failure.backtrace", &f->backtrace);
    if (!s.ok()) return s;
  }
  return core::OkStatus();
}

// Reads one job object. `args_present` tells a missing/null args from [].
OpStatus DecodeJobObject(od::value v, core::JobSpec* job, bool* args_present) {
  const FieldReader r("Job");
  *args_present = false;
  if (FieldReader::IsNull(v)) return core::OkStatus();
  od::object o;
  if (v.get_object().get(o)) {
    od::json_type t = od::json_type::null;
    (void)v.type().get(t);
    return core::InvalidRequest("cannot unmarshal " + std::string(JsonTypeName(t)) +
                                " into Go value of type client.Job");
  }
  for (auto field_result : o) {
    od::field field;
    if (std::move(field_result).get(field)) return NoReason();
    std::string_view key_view;
    if (field.unescaped_key().get(key_view)) return NoReason();
    const std::string key(key_view);
    od::value fv = field.value();
    // Built in place (no assignment of a status per field).
    const OpStatus s = [&]() -> OpStatus {
      if (KeyIs(key, "jid")) return r.String(fv, "jid", &job->jid);
      else if (KeyIs(key, "jobtype")) return r.String(fv, "jobtype", &job->jobtype);
      else if (KeyIs(key, "queue")) return r.String(fv, "queue", &job->queue);
      else if (KeyIs(key, "args")) return r.Raw(fv, "args", true, &job->args_json, args_present);
      else if (KeyIs(key, "custom")) {
        bool present;
        OpStatus cs = r.Raw(fv, "custom", false, &job->custom_json, &present);
        // Go omits an empty map when it re-encodes the job.
        if (cs.ok() && present) {
          std::string_view c = job->custom_json;
          if (c.find_first_not_of("{} \t\r\n") == std::string_view::npos) job->custom_json.clear();
        }
        return cs;
      } else if (KeyIs(key, "created_at")) return r.String(fv, "created_at", &job->created_at);
      else if (KeyIs(key, "at")) return r.String(fv, "at", &job->at);
      else if (KeyIs(key, "retry")) return r.Int(fv, "retry", &job->retry, core::kRetryDefault);
      else if (KeyIs(key, "reserve_for")) return r.Int(fv, "reserve_for", &job->reserve_for);
      else if (KeyIs(key, "backtrace")) return r.Int(fv, "backtrace", &job->backtrace);
      else if (KeyIs(key, "failure")) {
        if (FieldReader::IsNull(fv)) {
          job->failure.reset();
        } else {
          job->failure.emplace();
          return DecodeFailure(fv, &*job->failure, r);
        }
      }
      return core::OkStatus();
    }();
    // enqueued_at is server-owned and everything else is dropped, as in Faktory.
    if (!s.ok()) return s;
  }
  return core::OkStatus();
}

namespace {

// PUSH's and PUSHB's refusal: Faktory prefixes what its decoder says.
OpStatus InvalidJson(const OpStatus& s) {
  return core::InvalidRequest("invalid JSON: " + std::string(s.message()));
}

}  // namespace

// --- JobDecoder -----------------------------------------------------------------

JobDecoder::JobDecoder(int root_depth)
    : json_(std::make_unique<JsonDecoder>()), root_depth_(root_depth) {}
JobDecoder::~JobDecoder() = default;

OpStatus JobDecoder::DecodeOne(std::string_view json, core::JobSpec* out) {
  *out = core::JobSpec{};
  bool args_present = false;
  OpStatus s = json_->Load(json, root_depth_);
  if (s.ok()) {
    s = WithRoot(*json_, [&](od::value* root, od::json_type t) -> OpStatus {
      if (t == od::json_type::null) return core::OkStatus();
      if (!root) {
        return core::InvalidRequest("cannot unmarshal " + std::string(JsonTypeName(t)) +
                                    " into Go value of type client.Job");
      }
      return DecodeJobObject(*root, out, &args_present);
    });
  }
  json_->Trim();
  if (!s.ok()) return InvalidJson(s);
  if (!args_present) out->args_json.clear();
  return core::OkStatus();
}

OpStatus JobDecoder::DecodeMany(std::string_view json, std::vector<core::JobSpec>* out) {
  out->clear();
  OpStatus s = json_->Load(json);
  if (s.ok()) {
    s = WithRoot(*json_, [&](od::value* root, od::json_type t) -> OpStatus {
      if (t == od::json_type::null) return core::OkStatus();
      od::array a;
      if (!root || root->get_array().get(a)) {
        return core::InvalidRequest("cannot unmarshal " + std::string(JsonTypeName(t)) +
                                    " into Go value of type []client.Job");
      }
      for (auto el : a) {
        od::value v;
        if (el.get(v)) return NoReason();
        core::JobSpec job;
        bool args_present = false;
        if (OpStatus js = DecodeJobObject(v, &job, &args_present); !js.ok()) return js;
        if (!args_present) job.args_json.clear();
        out->push_back(std::move(job));
      }
      return core::OkStatus();
    });
  }
  json_->Trim();
  if (!s.ok()) return InvalidJson(s);
  return core::OkStatus();
}

}  // namespace werk::net
