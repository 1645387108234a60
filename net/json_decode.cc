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

}  // namespace werk::net
