// Splitting a connection's input into command lines and verbs (the first
// thing every request goes through), over a buffer of pipelined requests.

#include <benchmark/benchmark.h>

#include <cstring>

#include "net/command_decoders.h"
#include "net/input_buffer.h"

namespace werk::net {
namespace {

void BM_SplitLines(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 64; ++i) {
    input += R"(PUSH {"jid":"job-)" + std::to_string(100000 + i) +
             R"(","jobtype":"SendEmail","args":[1,"two"]})" + "\r\nFETCH critical default\r\n" +
             R"(ACK {"jid":"job-)" + std::to_string(100000 + i) + "\"}\r\n";
  }
  size_t lines = 0;
  for (auto _ : state) {
    InputBuffer in;
    in.Prepare(1 << 20);
    std::memcpy(in.write_ptr(), input.data(), input.size());
    in.Produced(input.size());
    std::string_view line;
    while (in.NextLine(&line)) {
      const std::string_view verb = line.substr(0, line.find(' '));
      benchmark::DoNotOptimize(verb.data());
      ++lines;
    }
  }
  state.SetItemsProcessed(int64_t(lines));
  state.SetBytesProcessed(int64_t(state.iterations() * input.size()));
}
BENCHMARK(BM_SplitLines);

void BM_DecodeAck(benchmark::State& state) {
  JobDecoder d;
  std::string jid;
  for (auto _ : state) benchmark::DoNotOptimize(DecodeAck(d, R"({"jid":"7c9f0a7e-55b3-4c5f"})", &jid));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeAck);

}  // namespace
}  // namespace werk::net
