// Feeds arbitrary bytes through what a connection does with its input: line
// splitting, verb extraction and the JSON decoder of every command.

#include <cstdint>
#include <cstring>
#include <string>

#include "net/command_decoders.h"
#include "net/input_buffer.h"
#include "net/job_decoder.h"

using namespace werk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static net::JobDecoder decoder;
  net::InputBuffer in;
  size_t off = 0;
  std::string_view line;
  while (off < size) {
    if (!in.Prepare(1 << 20)) break;
    const size_t n = std::min(in.writable(), size - off);
    std::memcpy(in.write_ptr(), data + off, n);
    in.Produced(n);
    off += n;
    while (in.NextLine(&line)) {
      const std::string_view verb = line.substr(0, line.find(' '));
      const std::string_view arg =
          line.size() > verb.size() ? line.substr(verb.size() + 1) : std::string_view();
      if (verb == "PUSH") {
        core::JobSpec job;
        if (decoder.DecodeOne(arg, &job).ok()) (void)core::ValidateJob(job, 1, {});
      } else if (verb == "PUSHB") {
        std::vector<core::JobSpec> jobs;
        if (decoder.DecodeMany(arg, &jobs).ok())
          for (auto& j : jobs) (void)core::ValidateJob(j, 1, {});
      } else if (verb == "ACK") {
        std::string jid;
        (void)net::DecodeAck(decoder, arg, &jid);
      } else if (verb == "FAIL") {
        net::FailArgs f;
        if (net::DecodeFail(decoder, arg, &f).ok()) core::CleanseFailure(&f);
      } else if (verb == "BEAT") {
        net::BeatArgs b;
        (void)net::DecodeBeat(decoder, arg, &b);
      } else if (verb == "MUTATE") {
        net::MutateArgs m;
        (void)net::DecodeMutate(decoder, arg, &m);
      } else if (verb == "HELLO") {
        net::HelloArgs h;
        (void)net::DecodeHello(decoder, arg, &h);
      }
    }
  }
  return 0;
}
