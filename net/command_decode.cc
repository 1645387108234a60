// The JSON arguments of HELLO, ACK, FAIL, BEAT and MUTATE
// (net/command_decoders.h), with Faktory's error texts.

#include "net/command_decoders.h"
#include "net/json_reader.h"

namespace werk::net {

// --- Command arguments --------------------------------------------------------------

namespace {

// Loads `json` and hands the root object to `fn` (null for a JSON null);
// refuses anything else. Returns what `fn` returns.
template <typename Fn>
OpStatus WithObject(JobDecoder& d, std::string_view json, Fn fn) {
  OpStatus s = d.json().Load(json);
  if (s.ok()) {
    s = WithRoot(d.json(), [&](od::value* root, od::json_type t) -> OpStatus {
      if (t == od::json_type::null) return fn(nullptr);
      od::object o;
      if (!root || root->get_object().get(o)) {
        return core::InvalidRequest("cannot unmarshal " + std::string(JsonTypeName(t)) +
                                    " into an object");
      }
      return fn(&o);
    });
  }
  d.json().Trim();
  return s;
}

// ACK's, FAIL's and BEAT's refusal names the command and its argument.
OpStatus InvalidArgument(std::string_view verb, std::string_view json) {
  return core::InvalidRequest("invalid " + std::string(verb) + " " +
                              std::string(json.substr(0, 1024)));
}

}  // namespace

OpStatus DecodeHello(JobDecoder& d, std::string_view json, HelloArgs* out) {
  *out = HelloArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::OkStatus();
    const FieldReader r("ClientData");
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return NoReason();
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return NoReason();
      const std::string key(kv);
      od::value v = field.value();
      OpStatus s;
      if (KeyIs(key, "v")) {
        s = r.Int(v, "v", &out->v);
        if (s.ok() && (out->v < 0 || out->v > 255))
          s = core::InvalidRequest("protocol version out of range");
      } else if (KeyIs(key, "hostname")) s = r.String(v, "hostname", &out->hostname);
      else if (KeyIs(key, "wid")) s = r.String(v, "wid", &out->wid);
      else if (KeyIs(key, "pid")) s = r.Int(v, "pid", &out->pid);
      else if (KeyIs(key, "labels")) s = r.Strings(v, "labels", &out->labels);
      else if (KeyIs(key, "pwdhash")) s = r.String(v, "pwdhash", &out->pwdhash);
      else if (KeyIs(key, "username")) s = r.String(v, "username", &out->username);
      if (!s.ok()) return s;
    }
    return core::OkStatus();
  });
}

OpStatus DecodeAck(JobDecoder& d, std::string_view json, std::string* jid) {
  bool found = false;
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return NoReason();
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return NoReason();
      const bool is_jid = kv == "jid";  // a map key: exact match
      std::string_view sv;
      if (field.value().get_string().get(sv)) return NoReason();  // map[string]string
      if (is_jid) {
        jid->assign(sv);
        found = true;
      }
    }
    return core::OkStatus();
  });
  if (!s.ok() || !found) return InvalidArgument("ACK", json);
  return core::OkStatus();
}

OpStatus DecodeFail(JobDecoder& d, std::string_view json, FailArgs* out) {
  *out = FailArgs{};
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    const FieldReader r("FailPayload");
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return NoReason();
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return NoReason();
      const std::string key(kv);
      od::value v = field.value();
      OpStatus fs;
      if (KeyIs(key, "jid")) fs = r.String(v, "jid", &out->jid);
      else if (KeyIs(key, "message")) fs = r.String(v, "message", &out->message);
      else if (KeyIs(key, "errtype")) fs = r.String(v, "errtype", &out->errtype);
      else if (KeyIs(key, "backtrace")) fs = r.Strings(v, "backtrace", &out->backtrace);
      if (!fs.ok()) return fs;
    }
    return core::OkStatus();
  });
  if (!s.ok()) return InvalidArgument("FAIL", json);
  return core::OkStatus();
}

OpStatus DecodeBeat(JobDecoder& d, std::string_view json, BeatArgs* out) {
  *out = BeatArgs{};
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    const FieldReader r("ClientBeat");
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return NoReason();
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return NoReason();
      const std::string key(kv);
      od::value v = field.value();
      OpStatus fs;
      if (KeyIs(key, "wid")) fs = r.String(v, "wid", &out->wid);
      else if (KeyIs(key, "current_state")) fs = r.String(v, "current_state", &out->current_state);
      else if (KeyIs(key, "rss_kb")) fs = r.Int(v, "rss_kb", &out->rss_kb);
      if (!fs.ok()) return fs;
    }
    return core::OkStatus();
  });
  if (!s.ok()) return InvalidArgument("BEAT", json);
  return core::OkStatus();
}

OpStatus DecodeMutate(JobDecoder& d, std::string_view json, MutateArgs* out) {
  *out = MutateArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::OkStatus();
    const FieldReader r("Operation");
    for (auto field_result : *o) {
      od::field field;
      if (std::move(field_result).get(field)) return NoReason();
      std::string_view kv;
      if (field.unescaped_key().get(kv)) return NoReason();
      const std::string key(kv);
      od::value v = field.value();
      OpStatus s;
      if (KeyIs(key, "cmd")) s = r.String(v, "cmd", &out->cmd);
      else if (KeyIs(key, "target")) s = r.String(v, "target", &out->target);
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
          if (std::move(ff).get(f2)) return NoReason();
          std::string_view k2v;
          if (f2.unescaped_key().get(k2v)) return NoReason();
          const std::string k2(k2v);
          od::value v2 = f2.value();
          OpStatus s2;
          if (KeyIs(k2, "jids")) s2 = r.Strings(v2, "JobFilter.jids", &out->filter->jids);
          else if (KeyIs(k2, "regexp")) s2 = r.String(v2, "JobFilter.regexp", &out->filter->regexp);
          else if (KeyIs(k2, "jobtype")) s2 = r.String(v2, "JobFilter.jobtype", &out->filter->jobtype);
          if (!s2.ok()) return s2;
        }
      }
      if (!s.ok()) return s;
    }
    return core::OkStatus();
  });
}

}  // namespace werk::net
