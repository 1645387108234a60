// The Web UI's text helpers: escaping, URL encoding, figures, and reading a
// job's JSON back for display.

#include <gtest/gtest.h>

#include "net/web/html.h"
#include "net/web/job_view.h"

namespace werk::net::web {
namespace {

TEST(Html, EscapesEverythingThatCouldLeaveTextOrAnAttribute) {
  EXPECT_EQ(Escaped(R"(<script>alert("x")</script> & 'y')"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  EXPECT_EQ(Escaped("plain"), "plain");
}

TEST(Html, UrlEncodesAllButUnreserved) {
  EXPECT_EQ(UrlEncoded("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(UrlEncoded("job-1.x_~"), "job-1.x_~");
  EXPECT_EQ(UrlEncoded("\xC3\xA9"), "%C3%A9");
}

TEST(Html, FormatsFiguresAndDurations) {
  EXPECT_EQ(Count(0), "0");
  EXPECT_EQ(Count(999), "999");
  EXPECT_EQ(Count(1000), "1,000");
  EXPECT_EQ(Count(1234567), "1,234,567");
  EXPECT_EQ(Duration(5), "5s");
  EXPECT_EQ(Duration(125), "2m 5s");
  EXPECT_EQ(Duration(3 * 3600 + 60), "3h 1m");
  EXPECT_EQ(Duration(2 * 86400 + 3600), "2d 1h");
  EXPECT_EQ(Duration(-4), "0s");
  EXPECT_EQ(UtcTime(1'700'000'000'000'000'000), "2023-11-14 22:13:20 UTC");
}

TEST(JobView, ReadsAFailedJob) {
  const JobView j = ReadJobView(
      R"({"jid":"job-12345","queue":"mail","jobtype":"Send","args":[1,"<b>x</b>",{"k":[2]}],)"
      R"("created_at":"2026-12-04T10:00:00Z","retry":5,"custom":{"a":1},)"
      R"("failure":{"retry_count":2,"failed_at":"2026-12-04T10:01:00Z","next_at":"2026-12-04T10:05:00Z",)"
      R"("message":"boom","errtype":"RuntimeError","backtrace":["a.rb:1","b.rb:2"]}})");
  ASSERT_TRUE(j.ok);
  EXPECT_EQ(j.jid, "job-12345");
  EXPECT_EQ(j.queue, "mail");
  EXPECT_EQ(j.jobtype, "Send");
  ASSERT_EQ(j.args.size(), 3u);
  EXPECT_EQ(j.args[1], R"("<b>x</b>")");
  EXPECT_EQ(j.args[2], R"({"k":[2]})");
  EXPECT_EQ(j.args_json, R"([1,"<b>x</b>",{"k":[2]}])");
  EXPECT_TRUE(j.has_retry);
  EXPECT_EQ(j.retry, 5);
  EXPECT_EQ(j.custom_json, R"({"a":1})");
  EXPECT_TRUE(j.failed);
  EXPECT_EQ(j.retry_count, 2);
  EXPECT_EQ(j.errtype, "RuntimeError");
  EXPECT_EQ(j.message, "boom");
  EXPECT_EQ(j.backtrace, (std::vector<std::string>{"a.rb:1", "b.rb:2"}));
}

TEST(JobView, SaysWhenItCannotRead) {
  EXPECT_FALSE(ReadJobView("").ok);
  EXPECT_FALSE(ReadJobView("[1]").ok);
  EXPECT_FALSE(ReadJobView("{\"jid\":").ok);
}

TEST(JobView, CutsLongArgumentsOnACharacterBoundary) {
  EXPECT_EQ(ShortArg("short"), "short");
  std::string long_arg = std::string(kArgDisplayMax - 1, 'a') + "\xC3\xA9" + "tail";
  const std::string cut = ShortArg(long_arg);
  EXPECT_EQ(cut, std::string(kArgDisplayMax - 1, 'a') + "\xE2\x80\xA6");
}

}  // namespace
}  // namespace werk::net::web
