#include "upstream/sse_parser.hpp"

#include <cstddef>
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

TEST(SseParserTest, HasEventSaysWhetherNextWouldReturnOne) {
  SseParser parser;
  EXPECT_FALSE(parser.HasEvent());
  parser.Feed("event: a\ndata: 1\n");
  EXPECT_FALSE(parser.HasEvent()) << "no blank line yet";
  parser.Feed("\nevent: b\ndata: 2\n\n");
  ASSERT_TRUE(parser.HasEvent());
  SseEventView event;
  ASSERT_TRUE(parser.Next(event));
  EXPECT_EQ(event.event, "a");
  EXPECT_TRUE(parser.HasEvent());
  ASSERT_TRUE(parser.Next(event));
  EXPECT_EQ(event.event, "b");
  EXPECT_FALSE(parser.HasEvent());
  EXPECT_FALSE(parser.Next(event));
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

SseEvent Owned(SseEventView view) { return {std::string(view.event), std::string(view.data)}; }

// Pulls with Next(SseEventView&) into one reused view, as a hot loop would.
std::vector<SseEvent> DrainInto(SseParser& parser, SseEventView& event) {
  std::vector<SseEvent> events;
  while (parser.Next(event)) events.push_back(Owned(event));
  return events;
}

// Every line end at once: LF, CRLF, lone CR (also doubled, and before LF-less lines), a
// comment and a blank line made of a lone CR.
constexpr std::string_view kLineEndStream =
    "event: a\r"
    "data: 1\r\n"
    "data: 2\n"
    "\r"
    ": c\r\n"
    "event: b\r\n"
    "data:x\r"
    "\r"
    "data: y\n"
    "\r\n"
    "event: c\r\n"
    "\r";  // Ends the event at once: the stream may stop here.

const std::vector<SseEvent> kLineEndEvents = {{"a", "1\n2"}, {"b", "x"}, {"", "y"}, {"c", ""}};

TEST(SseParserTest, LineEndStreamWhole) { EXPECT_EQ(ParseWhole(kLineEndStream), kLineEndEvents); }

TEST(SseParserTest, SplitAtEveryPairOfBytePositionsYieldsTheSameEvents) {
  // Three Feed() calls cut at every pair of positions: every line, `\r\n` pair and line end
  // is split every possible way, including a line spanning all three calls.
  for (const std::string_view stream : {kLineEndStream, kMixedStream}) {
    const std::vector<SseEvent>& expected =
        stream == kLineEndStream ? kLineEndEvents : kMixedEvents;
    for (std::size_t first = 0; first <= stream.size(); ++first) {
      for (std::size_t second = first; second <= stream.size(); ++second) {
        SseParser parser;
        std::vector<SseEvent> events;
        for (const std::string_view piece :
             {stream.substr(0, first), stream.substr(first, second - first),
              stream.substr(second)}) {
          parser.Feed(piece);
          for (SseEvent& event : Drain(parser)) events.push_back(std::move(event));
        }
        ASSERT_EQ(events, expected) << "splits at " << first << " and " << second;
      }
    }
  }
}

TEST(SseParserTest, CrLfSplitDoesNotSwallowALaterLf) {
  // The `\n` completing a split `\r\n` is only the first byte of the next Feed(): an empty
  // Feed() in between keeps the pairing, and a second `\n` is a blank line of its own.
  SseParser parser;
  parser.Feed("data: x\r");
  parser.Feed("");
  parser.Feed("\n");
  EXPECT_FALSE(parser.Next().has_value());
  parser.Feed("\n");
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"", "x"}}));
}

TEST(SseParserTest, LineLongerThanOneFeedIsReassembled) {
  std::string value;
  for (int i = 0; i < 1000; ++i) value.push_back(static_cast<char>('a' + i % 26));
  const std::string stream = "event: long\ndata: " + value + "\r\n\r\n";
  for (const std::size_t chunk :
       {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{999}}) {
    SseParser parser;
    std::vector<SseEvent> events;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      parser.Feed(std::string_view(stream).substr(at, chunk));
      for (SseEvent& event : Drain(parser)) events.push_back(std::move(event));
    }
    EXPECT_EQ(events, (std::vector<SseEvent>{{"long", value}})) << "chunk " << chunk;
  }
}

TEST(SseParserTest, DataLineAtTheBoundIsAcceptedAndOneByteOverIsNotHoweverItIsSplit) {
  // Bound 16: "data: 0123456789" is exactly 16 bytes, "data: 01234567890" is 17. A line read
  // in place from one Feed() and one reassembled from several must obey the same bound.
  struct Row {
    std::string_view line;
    bool overflows;
  };
  for (const Row& row : {Row{"data: 0123456789", false}, Row{"data: 01234567890", true}}) {
    const std::string stream = "data: ok\n\n" + std::string(row.line) + "\n\n";
    for (std::size_t split = 0; split <= stream.size(); ++split) {
      SseParser parser(16);
      parser.Feed(std::string_view(stream).substr(0, split));
      std::vector<SseEvent> events = Drain(parser);
      parser.Feed(std::string_view(stream).substr(split));
      for (SseEvent& event : Drain(parser)) events.push_back(std::move(event));
      EXPECT_EQ(parser.Overflowed(), row.overflows) << row.line << " split at " << split;
      std::vector<SseEvent> expected = {{"", "ok"}};
      if (!row.overflows) expected.push_back({"", std::string(row.line.substr(6))});
      EXPECT_EQ(events, expected) << row.line << " split at " << split;
    }
  }
}

TEST(SseParserTest, BoundCountsTheEventNameAndForgetsItAfterTheEvent) {
  SseParser parser(16);
  parser.Feed("event: abcdefgh\n");  // 8 bytes of name kept.
  parser.Feed("data: 01\n");         // 8 + 8 = 16: within.
  EXPECT_FALSE(parser.Overflowed());
  parser.Feed("\n");  // The event ends: nothing of it counts any more.
  parser.Feed("data: 0123456789\n\n");
  EXPECT_FALSE(parser.Overflowed());
  EXPECT_EQ(Drain(parser), (std::vector<SseEvent>{{"abcdefgh", "01"}, {"", "0123456789"}}));
  parser.Feed("event: abcdefgh\ndata: 012\n");  // 8 + 9 > 16.
  EXPECT_TRUE(parser.Overflowed());
  EXPECT_FALSE(parser.Next().has_value());
}

TEST(SseParserTest, EventWithANameButNoDataHasEmptyDataEvenAfterLongerEvents) {
  // Buffers are reused from event to event: a name-only event must not show an earlier
  // event's data, nor a data-only event an earlier name.
  const std::string long_data(300, 'd');
  const std::string stream = "event: first\ndata: " + long_data +
                             "\n\nevent: ping\n\ndata: tail\n\nevent: message_stop\n\n";
  const std::vector<SseEvent> expected = {
      {"first", long_data}, {"ping", ""}, {"", "tail"}, {"message_stop", ""}};
  for (const bool reuse : {false, true}) {
    SseParser parser;
    SseEventView event{"stale name", "stale data"};
    std::vector<SseEvent> events;
    for (char byte : stream) {  // One event at a time, so each reuses the space of the last.
      parser.Feed(std::string_view(&byte, 1));
      for (SseEvent& pulled : reuse ? DrainInto(parser, event) : Drain(parser)) {
        events.push_back(std::move(pulled));
      }
    }
    EXPECT_EQ(events, expected) << "reuse " << reuse;
  }
}

TEST(SseParserTest, NextIntoAViewLeavesItUnchangedWhenNoneIsComplete) {
  SseParser parser;
  SseEventView event{"kept", "kept data"};
  EXPECT_FALSE(parser.Next(event));
  parser.Feed("event: a\ndata: 1\n");
  EXPECT_FALSE(parser.Next(event));
  EXPECT_EQ(Owned(event), (SseEvent{"kept", "kept data"}));
  parser.Feed("\n");
  ASSERT_TRUE(parser.Next(event));
  EXPECT_EQ(Owned(event), (SseEvent{"a", "1"}));
  EXPECT_FALSE(parser.Next(event));
  EXPECT_EQ(Owned(event), (SseEvent{"a", "1"}));
}

TEST(SseParserTest, ViewsStayValidUntilTheNextFeed) {
  SseParser parser;
  parser.Feed("event: first\ndata: one\n\nevent: second\ndata: two\n\n");
  SseEventView first;
  SseEventView second;
  SseEventView none;
  ASSERT_TRUE(parser.Next(first));
  ASSERT_TRUE(parser.Next(second));
  EXPECT_FALSE(parser.Next(none));
  EXPECT_EQ(Owned(first), (SseEvent{"first", "one"}));
  EXPECT_EQ(Owned(second), (SseEvent{"second", "two"}));
  // Every event was pulled: the next Feed() reuses the space, from its start.
  parser.Feed("event: third\ndata: three\n\n");
  SseEventView third;
  ASSERT_TRUE(parser.Next(third));
  EXPECT_EQ(Owned(third), (SseEvent{"third", "three"}));
  EXPECT_EQ(third.event.data(), first.event.data()) << "the space of pulled events is reused";
}

TEST(SseParserTest, AConsumerOneEventBehindKeepsTheBufferBounded) {
  // The consumer never empties the queue: one event always waits while more are fed. The
  // pulled part must still be dropped as the stream goes on, not kept for its whole life.
  SseParser parser;
  int fed = 0;
  int pulled = 0;
  const auto feed = [&](int events) {
    std::string chunk;
    for (int i = 0; i < events; ++i) chunk += "data: " + std::to_string(fed++) + "\n\n";
    parser.Feed(chunk);
  };
  SseEventView event;
  const char* lowest = nullptr;
  const char* highest = nullptr;
  const auto pull = [&] {
    ASSERT_TRUE(parser.Next(event));
    ASSERT_EQ(event.data, std::to_string(pulled++));
    lowest = lowest == nullptr ? event.data.data() : std::min(lowest, event.data.data());
    highest = std::max(highest, event.data.data());
  };
  feed(1);
  for (int round = 0; round < 2000; ++round) {
    feed(2);
    pull();
    pull();
    ASSERT_TRUE(parser.HasEvent());
  }
  pull();
  EXPECT_FALSE(parser.HasEvent());
  EXPECT_EQ(pulled, fed);
  EXPECT_LT(highest - lowest, 4096) << "events stay near the start of one buffer";
}

TEST(SseParserTest, QueuedEventsKeepTheirOrderAcrossPartialPullsAndGrowth) {
  // Events pile up while only some are pulled, so the queue wraps around and grows with its
  // oldest event in the middle; both pull styles, interleaved, see one ordered sequence.
  SseParser parser;
  SseEventView reused;
  int fed = 0;
  int pulled = 0;
  for (int round = 0; round < 40; ++round) {
    std::string chunk;
    for (int i = 0; i < round % 7 + 1; ++i) {
      chunk += "event: e\ndata: " + std::to_string(fed++) + "\n\n";
    }
    parser.Feed(chunk);
    for (int i = 0; i < round % 5; ++i) {
      std::string data;
      if (round % 2 == 0) {
        std::optional<SseEvent> event = parser.Next();
        if (!event) break;
        data = event->data;
      } else {
        if (!parser.Next(reused)) break;
        data = std::string(reused.data);
      }
      ASSERT_EQ(data, std::to_string(pulled++)) << "round " << round;
    }
  }
  for (const SseEvent& event : Drain(parser)) {
    ASSERT_EQ(event, (SseEvent{"e", std::to_string(pulled++)}));
  }
  EXPECT_EQ(pulled, fed);
  EXPECT_GT(fed, 100);
}

TEST(SseParserTest, OverflowInsideAFeedKeepsTheEventsCompletedBeforeIt) {
  SseParser parser(32);
  std::string stream;
  for (int i = 0; i < 10; ++i) stream += "data: " + std::to_string(i) + "\n\n";
  stream += "data: " + std::string(40, 'x') + "\n\ndata: never\n\n";
  parser.Feed(stream);
  EXPECT_TRUE(parser.Overflowed());
  SseEventView event;
  std::vector<SseEvent> events = DrainInto(parser, event);
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(events.back(), (SseEvent{"", "9"}));
}

}  // namespace
}  // namespace cms::upstream
