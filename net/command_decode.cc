// The JSON arguments of HELLO, ACK, FAIL, BEAT, MUTATE and werk's WERK
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

// MUTATE's filter (also WERK JOBS's): jids, regexp (a glob), jobtype.
OpStatus DecodeFilter(const FieldReader& r, od::value v, std::optional<core::MutateFilter>* out) {
  if (FieldReader::IsNull(v)) {
    out->reset();
    return core::OkStatus();
  }
  od::object fo;
  if (v.get_object().get(fo)) return r.Mismatch(v, "filter", "client.JobFilter");
  out->emplace();
  core::MutateFilter& f = **out;
  return ForEachField(fo, [&](std::string_view k2, od::value v2) -> OpStatus {
    if (KeyIs(k2, "jids")) return r.Strings(v2, "JobFilter.jids", &f.jids);
    if (KeyIs(k2, "regexp")) return r.String(v2, "JobFilter.regexp", &f.regexp);
    if (KeyIs(k2, "jobtype")) return r.String(v2, "JobFilter.jobtype", &f.jobtype);
    return core::OkStatus();
  });
}

}  // namespace

OpStatus DecodeHello(JobDecoder& d, std::string_view json, HelloArgs* out) {
  *out = HelloArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::OkStatus();
    const FieldReader r("ClientData");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "v")) {
        OpStatus s = r.Int(v, "v", &out->v);
        if (s.ok() && (out->v < 0 || out->v > 255))
          s = core::InvalidRequest("protocol version out of range");
        return s;
      }
      if (KeyIs(key, "hostname")) return r.String(v, "hostname", &out->hostname);
      if (KeyIs(key, "wid")) return r.String(v, "wid", &out->wid);
      if (KeyIs(key, "pid")) return r.Int(v, "pid", &out->pid);
      if (KeyIs(key, "labels")) return r.Strings(v, "labels", &out->labels);
      if (KeyIs(key, "pwdhash")) return r.String(v, "pwdhash", &out->pwdhash);
      if (KeyIs(key, "username")) return r.String(v, "username", &out->username);
      return core::OkStatus();
    });
  });
}

OpStatus DecodeAck(JobDecoder& d, std::string_view json, std::string* jid) {
  bool found = false;
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      const bool is_jid = key == "jid";  // a map key: exact match
      std::string_view sv;
      if (v.get_string().get(sv)) return NoReason();  // map[string]string
      if (is_jid) {
        jid->assign(sv);
        found = true;
      }
      return core::OkStatus();
    });
  });
  if (!s.ok() || !found) return InvalidArgument("ACK", json);
  return core::OkStatus();
}

OpStatus DecodeFail(JobDecoder& d, std::string_view json, FailArgs* out) {
  *out = FailArgs{};
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    const FieldReader r("FailPayload");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "jid")) return r.String(v, "jid", &out->jid);
      if (KeyIs(key, "message")) return r.String(v, "message", &out->message);
      if (KeyIs(key, "errtype")) return r.String(v, "errtype", &out->errtype);
      if (KeyIs(key, "backtrace")) return r.Strings(v, "backtrace", &out->backtrace);
      return core::OkStatus();
    });
  });
  if (!s.ok()) return InvalidArgument("FAIL", json);
  return core::OkStatus();
}

OpStatus DecodeBeat(JobDecoder& d, std::string_view json, BeatArgs* out) {
  *out = BeatArgs{};
  const OpStatus s = WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return NoReason();
    const FieldReader r("ClientBeat");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "wid")) return r.String(v, "wid", &out->wid);
      if (KeyIs(key, "current_state")) return r.String(v, "current_state", &out->current_state);
      if (KeyIs(key, "rss_kb")) return r.Int(v, "rss_kb", &out->rss_kb);
      return core::OkStatus();
    });
  });
  if (!s.ok()) return InvalidArgument("BEAT", json);
  return core::OkStatus();
}

OpStatus DecodeMutate(JobDecoder& d, std::string_view json, MutateArgs* out) {
  *out = MutateArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::OkStatus();
    const FieldReader r("Operation");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "cmd")) return r.String(v, "cmd", &out->cmd);
      if (KeyIs(key, "target")) return r.String(v, "target", &out->target);
      if (!KeyIs(key, "filter")) return core::OkStatus();
      if (FieldReader::IsNull(v)) {
        out->filter.reset();
        return core::OkStatus();
      }
      return DecodeFilter(r, v, &out->filter);
    });
  });
}

OpStatus DecodeWerkJobs(JobDecoder& d, std::string_view json, WerkJobsArgs* out) {
  *out = WerkJobsArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::InvalidRequest("WERK JOBS needs an object: {\"target\":\"retries\"}");
    const FieldReader r("Jobs");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "target")) return r.String(v, "target", &out->target);
      if (KeyIs(key, "queue")) return r.String(v, "queue", &out->queue);
      if (KeyIs(key, "limit")) return r.Int(v, "limit", &out->limit);
      if (KeyIs(key, "cursor")) return r.String(v, "cursor", &out->cursor);
      if (KeyIs(key, "filter")) return DecodeFilter(r, v, &out->filter);
      return core::OkStatus();
    });
  });
}

OpStatus DecodeWerkWorker(JobDecoder& d, std::string_view json, WerkWorkerArgs* out) {
  *out = WerkWorkerArgs{};
  return WithObject(d, json, [&](od::object* o) -> OpStatus {
    if (!o) return core::InvalidRequest("WERK WORKER needs an object: {\"wid\":…,\"state\":…}");
    const FieldReader r("Worker");
    return ForEachField(*o, [&](std::string_view key, od::value v) -> OpStatus {
      if (KeyIs(key, "wid")) return r.String(v, "wid", &out->wid);
      if (KeyIs(key, "state")) return r.String(v, "state", &out->state);
      return core::OkStatus();
    });
  });
}

}  // namespace werk::net
