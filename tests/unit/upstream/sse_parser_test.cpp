#include "upstream/sse_parser.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace cms::upstream {

// Readable failures: gtest finds this by ADL.
void PrintTo(const SseEvent& event, std::ostream* os) {
  *os << "{event=\"" << event.event << "\", data=\"" << event.data << "\"}";
}

namespace {

std::vector<SseEvent> Drain(SseParser& parser) {
  std::vector<SseEvent> events;
  while (std::optional<SseEvent> event = parser.Next()) events.push_back(std::move(*event));
  return events;
}

std::vector<SseEvent> ParseWhole(std::string_view stream) {
  SseParser parser;
  parser.Feed(stream);
  return Drain(parser);
}

// A stream exercising every rule at once: LF and CRLF line ends, a comment, multi-line data,
// a field without a space, multi-byte UTF-8 (2, 3 and 4 bytes) and an id line.
constexpr std::string_view kMixedStream =
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    ": ping comment\n"
    "event:content_block_delta\n"
    "id: 7\n"
    "data: {\"text\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}\n"
    "\n"
    "data: line one\r\n"
    "data: line two\r\n"
    "\r\n"
    "event: message_stop\n"
    "data: {}\n"
    "\n";

const std::vector<SseEvent> kMixedEvents = {
    {"message_start", "{\"type\":\"message_start\"}"},
    {"content_block_delta", "{\"text\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}"},
    {"", "line one\nline two"},
    {"message_stop", "{}"},
};

TEST(SseParserTest, ParsesAWholeStream) { EXPECT_EQ(ParseWhole(kMixedStream), kMixedEvents); }

TEST(SseParserTest, SplitAtEveryBytePositionYieldsTheSameEvents) {
  for (std::size_t split = 0; split <= kMixedStream.size(); ++split) {
    SseParser parser;
    parser.Feed(kMixedStream.substr(0, split));
    std::vector<SseEvent> events = Drain(parser);
    parser.Feed(kMixedStream.substr(split));
    for (SseEvent& event : Drain(parser)) events.push_back(std::move(event));
    EXPECT_EQ(events, kMixedEvents) << "split at byte " << split;
  }
}

TEST(SseParserTest, OneByteAtATimeYieldsTheSameEvents) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (char byte : kMixedStream) {
    parser.Feed(std::string_view(&byte, 1));
    for (SseEvent& event : Drain(parser)) events.push_back(std::move(event));
  }
  EXPECT_EQ(events, kMixedEvents);
}

TEST(SseParserTest, EventIsReportedOnlyAfterItsBlankLine) {
  SseParser parser;
  parser.Feed("event: a\ndata: 1\n");
  EXPECT_FALSE(parser.Next().has_value());
  parser.Feed("\n");
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"a", "1"}}));
}

TEST(SseParserTest, CrLfSplitAcrossFeedsIsOneLineEnd) {
  SseParser parser;
  parser.Feed("data: x\r");
  parser.Feed("\n\r");
  parser.Feed("\n");
  // Had the `\n` after a split `\r` counted as a line of its own, the event would have
  // ended after "data: x" and the stream would hold an extra (empty) line.
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"", "x"}}));
}

TEST(SseParserTest, LoneCarriageReturnEndsALine) {
  EXPECT_EQ(ParseWhole("event: a\rdata: 1\r\r"), (std::vector<SseEvent>{{"a", "1"}}));
}

TEST(SseParserTest, StripsExactlyOneSpaceAfterTheColon) {
  EXPECT_EQ(ParseWhole("data:x\n\ndata: x\n\ndata:  x\n\n"),
            (std::vector<SseEvent>{{"", "x"}, {"", "x"}, {"", " x"}}));
}

TEST(SseParserTest, JoinsDataLinesWithNewlines) {
  EXPECT_EQ(ParseWhole("data: a\ndata:\ndata: b\n\n"), (std::vector<SseEvent>{{"", "a\n\nb"}}));
}

TEST(SseParserTest, FieldWithoutColonIsAFieldWithAnEmptyValue) {
  EXPECT_EQ(ParseWhole("data\n\n"), (std::vector<SseEvent>{{"", ""}}));
}

TEST(SseParserTest, IgnoresCommentsUnknownFieldsAndEmptyEvents) {
  EXPECT_EQ(ParseWhole(": hello\n\n\n\nretry: 10\nid: 1\nfoo: bar\n\n: only a comment\n\n"
                       "event: ping\n\n"),
            (std::vector<SseEvent>{{"ping", ""}}));
}

TEST(SseParserTest, ColonInsideTheValueIsKept) {
  EXPECT_EQ(ParseWhole("data: {\"a\":\"b:c\"}\n\n"),
            (std::vector<SseEvent>{{"", "{\"a\":\"b:c\"}"}}));
}

TEST(SseParserTest, EventAtTheSizeBoundIsAccepted) {
  SseParser parser(16);
  parser.Feed("data: 0123456789\n\n");  // The line is exactly 16 bytes.
  EXPECT_FALSE(parser.Overflowed());
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"", "0123456789"}}));
}

TEST(SseParserTest, EventOverTheSizeBoundOverflowsAfterEarlierEvents) {
  SseParser parser(16);
  parser.Feed("data: ok\n\ndata: 01234567890\n\ndata: late\n\n");
  EXPECT_TRUE(parser.Overflowed());
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"", "ok"}}));
  parser.Feed("data: more\n\n");
  EXPECT_FALSE(parser.Next().has_value());
}

TEST(SseParserTest, BoundCountsDataAccumulatedOverSeveralLines) {
  SseParser parser(16);
  parser.Feed("data: 0123\n");    // 4 bytes of data kept.
  parser.Feed("data: 012345\n");  // 4 + 12 = 16: still within.
  EXPECT_FALSE(parser.Overflowed());
  parser.Feed("data: 0\n");  // 11 bytes of data + a 7-byte line > 16.
  EXPECT_TRUE(parser.Overflowed());
}

TEST(SseParserTest, UnterminatedLineGrowingPastTheBoundOverflows) {
  SseParser parser(1024);
  const std::string piece(100, 'x');
  parser.Feed("data: ");
  for (int i = 0; i < 10; ++i) parser.Feed(piece);
  EXPECT_FALSE(parser.Overflowed());
  parser.Feed(piece);
  EXPECT_TRUE(parser.Overflowed());
}

}  // namespace
}  // namespace cms::upstream
