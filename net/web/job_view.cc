#include "net/web/job_view.h"

#include <simdjson.h>

namespace werk::net::web {
namespace {

std::string Text(simdjson::dom::element e) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(e);
}

}  // namespace

JobView ReadJobView(std::string_view json) {
  JobView v;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return v;
  simdjson::dom::object o;
  if (root.get(o) != simdjson::SUCCESS) return v;
  v.ok = true;
  for (auto [key, value] : o) {
    if (key == "jid") v.jid = Text(value);
    else if (key == "jobtype") v.jobtype = Text(value);
    else if (key == "queue") v.queue = Text(value);
    else if (key == "created_at") v.created_at = Text(value);
    else if (key == "enqueued_at") v.enqueued_at = Text(value);
    else if (key == "at") v.at = Text(value);
    else if (key == "custom") v.custom_json = simdjson::minify(value);
    else if (key == "retry") {
      int64_t r;
      if (value.get(r) == simdjson::SUCCESS) {
        v.retry = r;
        v.has_retry = true;
      }
    } else if (key == "args") {
      v.args_json = simdjson::minify(value);
      simdjson::dom::array a;
      if (value.get(a) == simdjson::SUCCESS)
        for (simdjson::dom::element arg : a) v.args.push_back(simdjson::minify(arg));
    } else if (key == "failure") {
      simdjson::dom::object f;
      if (value.get(f) != simdjson::SUCCESS) continue;
      v.failed = true;
      for (auto [fk, fv] : f) {
        if (fk == "retry_count") {
          int64_t n;
          if (fv.get(n) == simdjson::SUCCESS) v.retry_count = n;
        } else if (fk == "failed_at") v.failed_at = Text(fv);
        else if (fk == "next_at") v.next_at = Text(fv);
        else if (fk == "errtype") v.errtype = Text(fv);
        else if (fk == "message") v.message = Text(fv);
        else if (fk == "backtrace") {
          simdjson::dom::array bt;
          if (fv.get(bt) == simdjson::SUCCESS)
            for (simdjson::dom::element line : bt) v.backtrace.push_back(Text(line));
        }
      }
    }
  }
  return v;
}

std::string ShortArg(std::string_view arg) {
  if (arg.size() <= kArgDisplayMax) return std::string(arg);
  // Cut on a UTF-8 boundary.
  size_t cut = kArgDisplayMax;
  while (cut > 0 && (static_cast<unsigned char>(arg[cut]) & 0xC0) == 0x80) --cut;
  return std::string(arg.substr(0, cut)) + "\xE2\x80\xA6";
}

}  // namespace werk::net::web
