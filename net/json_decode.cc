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
  return ForEachField(o, [&](std::string_view k, od::value fv) -> OpStatus {
    if (KeyIs(k, "retry_count")) return r.Int(fv, "Failure.retry_count", &f->retry_count);
    if (KeyIs(k, "remaining")) return r.Int(fv, "Failure.remaining", &f->remaining);
    if (KeyIs(k, "failed_at")) return r.String(fv, "Failure.failed_at", &f->failed_at);
    if (KeyIs(k, "next_at")) return r.String(fv, "Failure.next_at", &f->next_at);
    if (KeyIs(k, "message")) return r.String(fv, "Failure.message", &f->message);
    if (KeyIs(k, "errtype")) return r.String(fv, "Failure.errtype", &f->errtype);
    if (KeyIs(k, "backtrace")) return r.Strings(fv, "Failure.backtrace", &f->backtrace);
    return core::OkStatus();
  });
}

// `custom`: the client's bytes, and the Enterprise fields among its keys (a
// key with a null value is as good as absent). The keys are read only here,
// for a job that has a `custom` object.
OpStatus DecodeCustom(od::value v, const FieldReader& r, std::string* out,
                      EnterpriseFieldSet* fields) {
  out->clear();
  *fields = 0;  // a repeated `custom`: the last one is kept
  if (FieldReader::IsNull(v)) return core::OkStatus();
  od::object o;
  if (v.get_object().get(o)) return r.Mismatch(v, "custom", "map[string]interface {}");
  const OpStatus s = ForEachField(o, [&](std::string_view key, od::value fv) -> OpStatus {
    if (const EnterpriseFieldSet f = EnterpriseFieldOfCustomKey(key); f && !FieldReader::IsNull(fv))
      *fields |= f;
    return core::OkStatus();
  });
  if (!s.ok()) return s;
  // Iterated to its end, the object's raw_json() is still the whole object:
  // from its '{' up to the token after its '}'.
  std::string_view raw;
  if (o.raw_json().get(raw)) return NoReason();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                          raw.back() == '\t'))
    raw.remove_suffix(1);
  // Go omits an empty map when it re-encodes the job.
  if (raw.find_first_not_of("{} \t\r\n") != std::string_view::npos) out->assign(raw);
  return core::OkStatus();
}

OpStatus DecodeJobObject(od::value v, core::JobSpec* job, bool* args_present,
                         EnterpriseFieldSet* fields) {
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
  // enqueued_at is server-owned and everything else is dropped, as in Faktory.
  return ForEachField(o, [&](std::string_view key, od::value fv) -> OpStatus {
    if (KeyIs(key, "jid")) return r.String(fv, "jid", &job->jid);
    if (KeyIs(key, "jobtype")) return r.String(fv, "jobtype", &job->jobtype);
    if (KeyIs(key, "queue")) return r.String(fv, "queue", &job->queue);
    if (KeyIs(key, "args")) return r.RawArray(fv, "args", &job->args_json, args_present);
    if (KeyIs(key, "custom")) return DecodeCustom(fv, r, &job->custom_json, fields);
    if (KeyIs(key, "created_at")) return r.String(fv, "created_at", &job->created_at);
    if (KeyIs(key, "at")) return r.String(fv, "at", &job->at);
    if (KeyIs(key, "retry")) return r.Int(fv, "retry", &job->retry, core::kRetryDefault);
    if (KeyIs(key, "reserve_for")) return r.Int(fv, "reserve_for", &job->reserve_for);
    if (KeyIs(key, "backtrace")) return r.Int(fv, "backtrace", &job->backtrace);
    if (KeyIs(key, "failure")) {
      if (FieldReader::IsNull(fv)) {
        job->failure.reset();
        return core::OkStatus();
      }
      job->failure.emplace();
      return DecodeFailure(fv, &*job->failure, r);
    }
    return core::OkStatus();
  });
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

OpStatus JobDecoder::DecodeOne(std::string_view json, core::JobSpec* out,
                               EnterpriseFieldUses* uses) {
  *out = core::JobSpec{};
  bool args_present = false;
  EnterpriseFieldSet fields = 0;
  OpStatus s = json_->Load(json, root_depth_);
  if (s.ok()) {
    s = WithRoot(*json_, [&](od::value* root, od::json_type t) -> OpStatus {
      if (t == od::json_type::null) return core::OkStatus();
      if (!root) {
        return core::InvalidRequest("cannot unmarshal " + std::string(JsonTypeName(t)) +
                                    " into Go value of type client.Job");
      }
      return DecodeJobObject(*root, out, &args_present, &fields);
    });
  }
  json_->Trim();
  if (!s.ok()) return InvalidJson(s);
  if (!args_present) out->args_json.clear();
  if (fields && uses) uses->Note(fields);
  return core::OkStatus();
}

OpStatus JobDecoder::DecodeMany(std::string_view json, std::vector<core::JobSpec>* out,
                                EnterpriseFieldUses* uses) {
  out->clear();
  EnterpriseFieldUses batch;  // counted only if the whole batch decodes
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
        EnterpriseFieldSet fields = 0;
        if (OpStatus js = DecodeJobObject(v, &job, &args_present, &fields); !js.ok()) return js;
        if (!args_present) job.args_json.clear();
        if (fields) batch.Note(fields);
        out->push_back(std::move(job));
      }
      return core::OkStatus();
    });
  }
  json_->Trim();
  if (!s.ok()) return InvalidJson(s);
  if (batch.seen && uses) uses->Add(batch);
  return core::OkStatus();
}

}  // namespace werk::net
