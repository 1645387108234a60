// The JSON arguments of HELLO, ACK, FAIL, BEAT and MUTATE
// (net/command_decoders.h), with Faktory's error texts.

#include "net/command_decoders.h"
#include "net/json_reader.h"

namespace werk::net {

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
