// ParseMessageResponse (read in one SAX pass by message_response_parser.cpp) against the
// DOM reading it replaced, kept here as the reference: hand-written cases with their
// expected outcome, then systematic mutations of realistic answers, where both must agree
// on every field or on the exact error.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "upstream/anthropic_wire.hpp"
#include "upstream/wire_dom.hpp"

namespace cms::upstream {
namespace {

namespace json = boost::json;

// ---- The reference: the DOM implementation ParseMessageResponse had before -------------
// The document walk is kept here; the field rules are the ones stream events are read by
// (upstream/wire_dom.hpp), so the one-pass reader is held to exactly those.

UpstreamError DomMalformed(std::string log_message) {
  return UpstreamError{
      UpstreamErrorKind::kUnavailable, 200, {}, std::nullopt, std::move(log_message)};
}

UpstreamResult<core::Completion> DomParseMessageResponse(std::string_view body) {
  boost::system::error_code ec;
  const json::value document = json::parse(body, ec);
  const json::object* root = ec ? nullptr : document.if_object();
  if (root == nullptr) return DomMalformed("response body is not a JSON object");
  const json::value* content = root->if_contains("content");
  if (content == nullptr || !content->is_array()) {
    return DomMalformed("response has no content array");
  }
  core::Completion completion;
  for (const json::value& block : content->get_array()) {
    if (!dom::AppendTextBlock(block, completion.content)) {
      return DomMalformed("response has a malformed content block");
    }
  }
  if (!dom::ReadOptionalString(*root, "model", completion.model) ||
      !dom::ReadOptionalString(*root, "stop_reason", completion.stop_reason)) {
    return DomMalformed("response model or stop_reason is not a string");
  }
  if (!dom::MergeUsage(root->if_contains("usage"), completion.usage)) {
    return DomMalformed("response usage is malformed");
  }
  return completion;
}

// ---- Comparing ----------------------------------------------------------------------------

// Every field of a result, so that two results are the same exactly when their summaries are.
std::string Summary(const UpstreamResult<core::Completion>& result) {
  if (!result) {
    const UpstreamError& error = result.error();
    return "error kind=" + std::to_string(static_cast<int>(error.kind)) +
           " status=" + std::to_string(error.status) + " type=" + error.error_type +
           " retry_after=" + error.retry_after.value_or("-") + " log=" + error.log_message;
  }
  const core::Usage& usage = result->usage;
  return "ok content=" + json::serialize(json::value(result->content)) +
         " model=" + json::serialize(json::value(result->model)) +
         " stop=" + json::serialize(json::value(result->stop_reason)) +
         " usage=" + std::to_string(usage.input_tokens) + "/" +
         std::to_string(usage.output_tokens) + "/" +
         std::to_string(usage.cache_creation_input_tokens) + "/" +
         std::to_string(usage.cache_read_input_tokens);
}

testing::AssertionResult SameAsDom(std::string_view body) {
  const std::string sax = Summary(ParseMessageResponse(body));
  const std::string dom = Summary(DomParseMessageResponse(body));
  if (sax == dom) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "body: " << body << "\n  sax: " << sax << "\n  dom: " << dom;
}

// The log messages of the errors, all kUnavailable with status 200.
constexpr std::string_view kNotJson = "response body is not a JSON object";
constexpr std::string_view kNoContent = "response has no content array";
constexpr std::string_view kBadBlock = "response has a malformed content block";
constexpr std::string_view kBadString = "response model or stop_reason is not a string";
constexpr std::string_view kBadUsage = "response usage is malformed";

// The Summary() of the error ParseMessageResponse reports with `log_message`.
std::string Unavailable(std::string_view log_message) {
  return Summary(UpstreamResult<core::Completion>(UpstreamError{
      UpstreamErrorKind::kUnavailable, 200, {}, std::nullopt, std::string(log_message)}));
}

// Nests `inner` in `levels` arrays.
std::string Nested(int levels, std::string_view inner = "1") {
  return std::string(static_cast<std::size_t>(levels), '[') + std::string(inner) +
         std::string(static_cast<std::size_t>(levels), ']');
}

// ---- Hand-written cases, each with its expected outcome ---------------------------------

struct Case {
  std::string name;
  std::string body;
  std::string expected;  // A Summary().
};

std::string Ok(std::string_view content, std::string_view model = "", std::string_view stop = "",
               std::string_view usage = "0/0/0/0") {
  return "ok content=" + json::serialize(json::value(content)) +
         " model=" + json::serialize(json::value(model)) +
         " stop=" + json::serialize(json::value(stop)) + " usage=" + std::string(usage);
}

void ExpectCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(Summary(ParseMessageResponse(c.body)), c.expected) << c.name << ": " << c.body;
    EXPECT_EQ(Summary(DomParseMessageResponse(c.body)), c.expected)
        << "(reference) " << c.name << ": " << c.body;
  }
}

TEST(MessageResponseParserTest, ErrorCases) {
  const std::string s = Unavailable(kNotJson);
  ExpectCases({
      {"empty", "", s},
      {"whitespace", "  \n", s},
      {"not json", "not json", s},
      {"truncated", R"({"content":[)", s},
      {"array root", "[]", s},
      {"string root", R"("content")", s},
      {"number root", "5", s},
      {"null root", "null", s},
      {"trailing data", R"({"content":[]} x)", s},
      {"two roots", R"({"content":[]}{})", s},
      {"comment", R"({"content":[]/*c*/})", s},
      {"trailing comma", R"({"content":[],})", s},
      {"NaN", R"({"content":[],"x":NaN})", s},
      {"byte order mark", "\xEF\xBB\xBF{\"content\":[]}", s},
      {"control character in a string", "{\"content\":[],\"x\":\"a\x01\"}", s},
      {"invalid UTF-8 in an ignored string", "{\"content\":[],\"x\":\"\xC3\"}", s},
      {"invalid UTF-8 in the text", "{\"content\":[{\"type\":\"text\",\"text\":\"caf\xC3\x28\"}]}",
       s},
      {"invalid UTF-8 in a key", "{\"content\":[],\"\xFF\":1}", s},
      {"overlong UTF-8", "{\"content\":[],\"model\":\"\xC0\xAF\"}", s},
      {"UTF-8 surrogate", "{\"content\":[],\"model\":\"\xED\xA0\x80\"}", s},
      {"beyond U+10FFFF", "{\"content\":[],\"model\":\"\xF4\x90\x80\x80\"}", s},
      {"UTF-8 outside strings", "{\"content\":[]\xC3\xA9}", s},
      {"lone surrogate escape", R"({"content":[],"model":"\ud800"})", s},
      {"syntax error after a defect", R"({"content":5,"model":1,)", s},
      {"33 levels", R"({"content":[],"x":)" + Nested(32) + "}", s},
      {"33 levels in a tool_use input",
       R"({"content":[{"type":"tool_use","input":)" + Nested(30) + "}]}", s},
      {"no content", R"({})", Unavailable(kNoContent)},
      {"content object", R"({"content":{}})", Unavailable(kNoContent)},
      {"content null", R"({"content":null})", Unavailable(kNoContent)},
      {"content string", R"({"content":"text"})", Unavailable(kNoContent)},
      {"content only nested", R"({"x":{"content":[]}})", Unavailable(kNoContent)},
      {"no content beats a bad model", R"({"model":5})", Unavailable(kNoContent)},
      {"number block", R"({"content":[1]})", Unavailable(kBadBlock)},
      {"null block", R"({"content":[null]})", Unavailable(kBadBlock)},
      {"array block", R"({"content":[[{"type":"text","text":"a"}]]})", Unavailable(kBadBlock)},
      {"string block", R"({"content":["text"]})", Unavailable(kBadBlock)},
      {"text not a string", R"({"content":[{"type":"text","text":5}]})", Unavailable(kBadBlock)},
      {"text null", R"({"content":[{"type":"text","text":null}]})", Unavailable(kBadBlock)},
      {"text object", R"({"content":[{"text":{},"type":"text"}]})", Unavailable(kBadBlock)},
      {"text missing", R"({"content":[{"type":"text"}]})", Unavailable(kBadBlock)},
      {"bad block after good ones",
       R"({"content":[{"type":"text","text":"a"},{"type":"tool_use"},2]})", Unavailable(kBadBlock)},
      {"bad block beats a bad model", R"({"content":[1],"model":5,"usage":1})",
       Unavailable(kBadBlock)},
      {"model number", R"({"content":[],"model":5})", Unavailable(kBadString)},
      {"model array", R"({"content":[],"model":["m"]})", Unavailable(kBadString)},
      {"stop_reason array", R"({"content":[],"stop_reason":["end_turn"]})",
       Unavailable(kBadString)},
      {"stop_reason bool", R"({"content":[],"stop_reason":true})", Unavailable(kBadString)},
      {"stop_reason object", R"({"stop_reason":{},"content":[]})", Unavailable(kBadString)},
      {"bad model beats bad usage", R"({"content":[],"usage":[],"model":{}})",
       Unavailable(kBadString)},
      {"usage array", R"({"content":[],"usage":[]})", Unavailable(kBadUsage)},
      {"usage string", R"({"content":[],"usage":"x"})", Unavailable(kBadUsage)},
      {"usage number", R"({"content":[],"usage":5})", Unavailable(kBadUsage)},
      {"counter string", R"({"content":[],"usage":{"input_tokens":"12"}})", Unavailable(kBadUsage)},
      {"counter fraction", R"({"content":[],"usage":{"output_tokens":1.5}})",
       Unavailable(kBadUsage)},
      {"counter exponent", R"({"content":[],"usage":{"output_tokens":1e2}})",
       Unavailable(kBadUsage)},
      {"counter 2^63", R"({"content":[],"usage":{"output_tokens":9223372036854775808}})",
       Unavailable(kBadUsage)},
      {"counter 2^64-1",
       R"({"content":[],"usage":{"cache_read_input_tokens":18446744073709551615}})",
       Unavailable(kBadUsage)},
      {"counter beyond uint64",
       R"({"content":[],"usage":{"cache_creation_input_tokens":18446744073709551616}})",
       Unavailable(kBadUsage)},
      {"counter bool", R"({"content":[],"usage":{"input_tokens":true}})", Unavailable(kBadUsage)},
      {"counter object", R"({"content":[],"usage":{"input_tokens":{}}})", Unavailable(kBadUsage)},
      {"counter array", R"({"content":[],"usage":{"input_tokens":[1]}})", Unavailable(kBadUsage)},
  });
}

TEST(MessageResponseParserTest, FieldsInAnyOrderWithNullsAndBoundaries) {
  ExpectCases({
      {"minimal", R"({"content":[]})", Ok("")},
      {"trailing whitespace", "{\"content\":[]} \n\t", Ok("")},
      {"type after text", R"({"content":[{"text":"a","type":"text"}]})", Ok("a")},
      {"usage and model first",
       R"({"usage":{"output_tokens":2,"input_tokens":1},"stop_reason":"end_turn","model":"m",)"
       R"("content":[{"type":"text","text":"x"}]})",
       Ok("x", "m", "end_turn", "1/2/0/0")},
      {"null fields", R"({"model":null,"stop_reason":null,"usage":null,"content":[]})", Ok("")},
      {"null counters",
       R"({"content":[],"usage":{"input_tokens":null,"output_tokens":2,"cache_read_input_tokens":null}})",
       Ok("", "", "", "0/2/0/0")},
      {"all counters",
       R"({"content":[],"usage":{"cache_read_input_tokens":4,"cache_creation_input_tokens":3,)"
       R"("output_tokens":2,"input_tokens":1,"service_tier":"standard"}})",
       Ok("", "", "", "1/2/3/4")},
      {"counter limits",
       R"({"content":[],"usage":{"input_tokens":9223372036854775807,)"
       R"("output_tokens":-9223372036854775808,"cache_read_input_tokens":-1,)"
       R"("cache_creation_input_tokens":0}})",
       Ok("", "", "", "9223372036854775807/-9223372036854775808/0/-1")},
      {"negative zero counter", R"({"content":[],"usage":{"input_tokens":-0}})", Ok("")},
      {"empty strings", R"({"content":[{"type":"text","text":""}],"model":"","stop_reason":""})",
       Ok("")},
      {"block without type", R"({"content":[{"text":"a"}]})", Ok("")},
      {"type not a string", R"({"content":[{"type":5,"text":"a"},{"type":null,"text":"b"}]})",
       Ok("")},
      {"types that are not text",
       R"({"content":[{"type":"Text","text":"1"},{"type":"tex","text":"2"},)"
       R"({"type":"texts","text":"3"},{"type":"","text":"4"},{"type":"text ","text":"5"},)"
       R"({"type":{"text":"text"},"text":"6"},{"type":["text"],"text":"7"}]})",
       Ok("")},
      {"non-text blocks need no text",
       R"({"content":[{"type":"tool_use","text":5},{"type":"thinking","text":{}},{}]})", Ok("")},
      {"33 levels are 32 below the root: allowed", R"({"content":[],"x":)" + Nested(31) + "}",
       Ok("")},
      {"32 levels in a tool_use input",
       R"({"content":[{"type":"tool_use","input":)" + Nested(29) +
           R"(},{"type":"text","text":"t"}]})",
       Ok("t")},
  });
}

TEST(MessageResponseParserTest, BlocksInterleavedAndNestedKeysIgnored) {
  ExpectCases({
      {"text, tool_use, thinking, text",
       R"({"model":"claude-sonnet-4-6","content":[)"
       R"({"type":"text","text":"I'll check ","citations":null},)"
       R"({"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"location":"Paris",)"
       R"("type":"text","text":"not this","content":[{"type":"text","text":"nor this"}]}},)"
       R"({"type":"thinking","thinking":"hmm","signature":"sig"},)"
       R"({"type":"redacted_thinking","data":"abc"},)"
       R"({"type":"text","text":"the weather.","citations":[{"type":"char_location",)"
       R"("cited_text":"x","text":"inner","document_index":0}]}],)"
       R"("stop_reason":"tool_use","stop_sequence":null,)"
       R"("usage":{"input_tokens":48,"cache_creation":{"input_tokens":7},"output_tokens":61}})",
       Ok("I'll check the weather.", "claude-sonnet-4-6", "tool_use", "48/61/0/0")},
      {"keys of root fields elsewhere are not root fields",
       R"({"content":[{"type":"text","text":"a","model":"x","usage":5,"stop_reason":1}],)"
       R"("meta":{"model":5,"content":7,"usage":[]},"model":"m"})",
       Ok("a", "m")},
      {"counter names outside usage",
       R"({"content":[{"type":"text","text":"a","input_tokens":"x"}],"input_tokens":"y"})",
       Ok("a")},
      {"block keys outside blocks", R"({"type":"text","text":"t","content":[]})", Ok("")},
  });
}

TEST(MessageResponseParserTest, EscapesAndUnicode) {
  ExpectCases({
      {"escapes in text",
       R"({"content":[{"type":"text","text":"a\"b\\c\/d\b\f\n\r\t\u00e9\u65e5\ud83d\ude00"}]})",
       Ok("a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80")},
      {"raw UTF-8",
       "{\"content\":[{\"type\":\"text\",\"text\":\"caf\xC3\xA9 \xE6\x97\xA5 "
       "\xF0\x9F\x98\x80\"}],\"model\":\"\xC3\xBC\"}",
       Ok("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80", "\xC3\xBC")},
      {"escaped keys",
       R"({"c\u006fntent":[{"\u0074ype":"text","t\u0065xt":"a"}],"mod\u0065l":"m",)"
       R"("\u0075sage":{"input_\u0074okens":3}})",
       Ok("a", "m", "", "3/0/0/0")},
      {"escaped type value",
       R"({"content":[{"type":"t\u0065xt","text":"a"},{"type":"\u0074ex","text":"b"}]})", Ok("a")},
      {"escaped model and stop_reason",
       R"({"content":[],"model":"cl\u0061ude\n","stop_reason":"\u0065nd_turn"})",
       Ok("", "claude\n", "end_turn")},
      {"escaped long unknown key",
       R"({"\u0063ache_creation_input_tokens_and_more":5,"content":[],)"
       R"("usage":{"\u0063ache_creation_input_tokens_and_more":"x","c\u0061che_read_input_tokens":9}})",
       Ok("", "", "", "0/0/0/9")},
      {"keys in pieces at the field key size and over it",
       R"({"content":[],"usage":{"x\u0063ache_creation_input_tokens":"x",)"
       R"("c\u0061che_creation_input_tokens":5,"c\u0061che_creation_input_tokens_":"x",)"
       R"("o\u0075tput_tokens":6}})",
       Ok("", "", "", "0/6/5/0")},
      {"keys that are prefixes or extensions",
       R"({"content_":5,"conten":5,"content":[{"typ":1,"types":2,"text_":3,"texts":4}],)"
       R"("usage":{"input_token":"x","input_tokens_":"x","cache_creation_input_tokenss":"x"}})",
       Ok("")},
  });
}

TEST(MessageResponseParserTest, RepeatedKeysKeepTheLastOccurrenceLikeTheDom) {
  ExpectCases({
      {"content twice", R"({"content":[1],"content":[{"type":"text","text":"b"}]})", Ok("b")},
      {"content twice, second not an array",
       R"({"content":[{"type":"text","text":"a"}],"content":{}})", Unavailable(kNoContent)},
      {"content twice, second malformed",
       R"({"content":[{"type":"text","text":"a"}],"content":[2]})", Unavailable(kBadBlock)},
      {"model string then null", R"({"content":[],"model":"a","model":null})", Ok("")},
      {"model number then string", R"({"content":[],"model":5,"model":"b"})", Ok("", "b")},
      {"model string then number", R"({"content":[],"model":"a","model":5})",
       Unavailable(kBadString)},
      {"stop_reason twice", R"({"content":[],"stop_reason":[],"stop_reason":"x"})",
       Ok("", "", "x")},
      {"usage twice",
       R"({"content":[],"usage":{"input_tokens":1,"output_tokens":2},)"
       R"("usage":{"output_tokens":3}})",
       Ok("", "", "", "0/3/0/0")},
      {"usage malformed then null", R"({"content":[],"usage":{"input_tokens":"x"},"usage":null})",
       Ok("")},
      {"usage then malformed", R"({"content":[],"usage":{"input_tokens":1},"usage":7})",
       Unavailable(kBadUsage)},
      {"counter malformed then valid",
       R"({"content":[],"usage":{"input_tokens":"x","input_tokens":4}})",
       Ok("", "", "", "4/0/0/0")},
      {"counter then null", R"({"content":[],"usage":{"input_tokens":4,"input_tokens":null}})",
       Ok("")},
      {"counter valid then malformed",
       R"({"content":[],"usage":{"input_tokens":4,"input_tokens":1.0}})", Unavailable(kBadUsage)},
      {"block text twice", R"({"content":[{"type":"text","text":"a","text":"b"}]})", Ok("b")},
      {"block text malformed then string", R"({"content":[{"type":"text","text":5,"text":"b"}]})",
       Ok("b")},
      {"block text string then malformed", R"({"content":[{"type":"text","text":"a","text":5}]})",
       Unavailable(kBadBlock)},
      {"block type text then other",
       R"({"content":[{"type":"text","text":"a","type":"tool_use"},{"type":"text","text":"b"}]})",
       Ok("b")},
      {"block type other then text",
       R"({"content":[{"type":"tool_use","text":"a","type":"text"}]})", Ok("a")},
      {"block type text then number", R"({"content":[{"type":"text","type":5,"text":7}]})", Ok("")},
  });
}

// ---- Large answers (strings in many parser pieces; documents over any fixed buffer) -----

// A text of over 8 KB starting with an escape, so that the parser hands it over in pieces of
// up to 4096 bytes, with multibyte characters and escapes across the seams at an offset
// that moves with `shift`.
std::string SeamText(int shift) {
  std::string text = "\n" + std::string(4090 + static_cast<std::size_t>(shift), 'a');
  for (int i = 0; i < 40; ++i) text += "caf\xC3\xA9 \xE6\x97\xA5\"\\\xF0\x9F\x98\x80 ";
  text.append(4000, 'b');
  text += '\t';
  return text;
}

// Twelve SeamText()s, each in a tool_use input and in a text block; their concatenation in
// `expected`.
std::string SeamAnswer(std::string& expected) {
  std::string body = R"({"model":"m","content":[)";
  for (int shift = 0; shift < 12; ++shift) {
    const std::string text = SeamText(shift);
    const std::string quoted = json::serialize(json::value(text));
    if (shift > 0) body += ',';
    body += R"({"type":"tool_use","input":{"note":)";
    body += quoted;
    body += R"(}},{"text":)";
    body += quoted;
    body += R"(,"type":"text"})";
    expected += text;
  }
  body += R"(],"usage":{"output_tokens":4096}})";
  return body;
}

TEST(MessageResponseParserTest, LargeAnswersWithEscapesAndMultibyteCharacters) {
  std::string expected;
  const std::string body = SeamAnswer(expected);
  ASSERT_GT(body.size(), 100'000u);
  const auto completion = ParseMessageResponse(body);
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_EQ(completion->content, expected);
  EXPECT_EQ(completion->usage.output_tokens, 4096);
  EXPECT_TRUE(SameAsDom(body));
  // The same body cut inside the last string, and with an invalid byte deep inside.
  EXPECT_TRUE(SameAsDom(std::string_view(body).substr(0, body.size() - 100)));
  std::string invalid = body;
  invalid[body.size() / 2] = '\xFF';
  EXPECT_EQ(Summary(ParseMessageResponse(invalid)), Unavailable(kNotJson));
  EXPECT_TRUE(SameAsDom(invalid));
}

TEST(MessageResponseParserTest, ManyBlocksAndWideIgnoredValues) {
  std::string body = R"({"content":[)";
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) body += ',';
    if (i % 3 == 0) {
      body += R"({"type":"tool_use","input":{"values":[1,2.5,"x",null,true,{"a":[]}]}})";
    } else {
      const std::string piece = "block " + std::to_string(i) + " caf\xC3\xA9 " +
                                std::string(static_cast<std::size_t>(i % 97), 'z');
      body += R"({"type":"text","text":)" + json::serialize(json::value(piece)) + "}";
      expected += piece;
    }
  }
  body += "]}";
  ASSERT_GT(body.size(), 100'000u);
  const auto completion = ParseMessageResponse(body);
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_EQ(completion->content, expected);
  EXPECT_TRUE(SameAsDom(body));
}

// ---- UTF-8: the body-wide check agrees with the parser's check of strings ---------------

// "a" followed by every lead byte 0x80-0xFF with up to three interesting later bytes: well
// formed, overlong, surrogates, beyond U+10FFFF, cut short.
std::vector<std::string> Utf8Candidates() {
  const unsigned char seconds[] = {0x00, 0x20, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                   0x9F, 0xA0, 0xBF, 0xC0, 0xC3, 0xF0, 0xFF};
  const unsigned char laters[] = {0x41, 0x80, 0xBF, 0xC0};
  std::vector<std::string> candidates;
  for (int lead = 0x80; lead <= 0xFF; ++lead) {
    for (const unsigned char second : seconds) {
      for (const unsigned char third : laters) {
        for (const unsigned char fourth : laters) {
          std::string text = "a";
          text.push_back(static_cast<char>(lead));
          for (const unsigned char byte : {second, third, fourth}) {
            if (byte != 0x00) text.push_back(static_cast<char>(byte));
          }
          candidates.push_back(std::move(text));
        }
      }
    }
  }
  return candidates;
}

TEST(MessageResponseParserTest, Utf8AcceptedExactlyWhenTheDomAcceptsIt) {
  const std::string not_json = Unavailable(kNotJson);
  int accepted = 0;
  int refused = 0;
  for (const std::string& text : Utf8Candidates()) {
    // In the answer text after 8 ASCII bytes (the check's word size), and at the very end.
    std::string body = R"({"content":[{"type":"text","text":"12345678)";
    body += text;
    body += R"("}],"x":")";
    body += text;
    body += "\"}";
    const std::string dom = Summary(DomParseMessageResponse(body));
    ASSERT_EQ(Summary(ParseMessageResponse(body)), dom) << body;
    ++(dom == not_json ? refused : accepted);
  }
  EXPECT_GT(accepted, 300);
  EXPECT_GT(refused, 10'000);
}

// ---- Mutations of realistic answers ----------------------------------------------------

// A non-streaming answer as the simulator sends it.
constexpr std::string_view kSimulatorAnswer =
    R"({"id":"msg_sim_e8a040490d50c5c700000001","type":"message","role":"assistant",)"
    R"("model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"Simulated answer )"
    R"(to a message of 29 characters (hash b6ee7713). Answers jalapeño fixed byte request )"
    R"(streams words latency. River stone crème and jalapeño careful. Careful token carry )"
    R"(words gateway 日本語 this über gateway byte no carry."}],"stop_reason":"end_turn",)"
    R"("stop_sequence":null,"usage":{"input_tokens":8,"cache_creation_input_tokens":0,)"
    R"("cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,)"
    R"("ephemeral_1h_input_tokens":0},"output_tokens":76,"service_tier":"standard"}})";

// An answer with every kind of block and member, escapes and nulls included.
constexpr std::string_view kRichAnswer = R"({
  "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
  "content": [
    {"type": "thinking", "thinking": "Let me think \"hard\".", "signature": "sig=="},
    {"text": "I'll check\n", "type": "text", "citations": null},
    {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
     "input": {"location": "Paris", "units": ["c", {"type": "text", "text": "no"}], "days": 3}},
    {"type": "text", "text": "caf\u00e9 \ud83d\ude00 ok",
     "citations": [{"type": "char_location", "cited_text": "x", "document_index": 0,
                    "start_char_index": 1, "end_char_index": 2.5}]}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 48, "output_tokens": 61, "cache_creation_input_tokens": 2051,
            "cache_read_input_tokens": null, "cache_creation": {"ephemeral_5m_input_tokens": 0},
            "service_tier": "standard"}
})";

enum class Edit { kDelete, kReplace, kDuplicateBefore, kDuplicateAfter };

struct Mutation {
  std::size_t target;  // A value's number in pre-order (the root is 0).
  Edit edit;
  std::string_view replacement;  // JSON text: the new value, or the duplicate's value.
};

void EmitValue(const json::value& value, const Mutation& mutation, std::size_t& next,
               std::string& out);

// One member (with its key) or item of a container, as `mutation` edits it.
void EmitEntry(const json::string* key, const json::value& value, const Mutation& mutation,
               std::size_t& next, bool& first, std::string& out) {
  const std::size_t index = next;
  std::string text;
  EmitValue(value, mutation, next, text);
  const auto put = [&](std::string_view value_text) {
    if (!first) out += ',';
    first = false;
    if (key != nullptr) out += json::serialize(*key) + ":";
    out += value_text;
  };
  if (index != mutation.target) return put(text);
  switch (mutation.edit) {
    case Edit::kDelete:
      return;
    case Edit::kReplace:
      return put(text);  // EmitValue replaced it.
    case Edit::kDuplicateBefore:
      put(mutation.replacement);
      return put(text);
    case Edit::kDuplicateAfter:
      put(text);
      return put(mutation.replacement);
  }
}

void EmitValue(const json::value& value, const Mutation& mutation, std::size_t& next,
               std::string& out) {
  const std::size_t index = next++;
  std::string text;
  bool first = true;
  if (const json::object* object = value.if_object()) {
    text += '{';
    for (const json::key_value_pair& member : *object) {
      const json::string key(member.key());
      EmitEntry(&key, member.value(), mutation, next, first, text);
    }
    text += '}';
  } else if (const json::array* array = value.if_array()) {
    text += '[';
    for (const json::value& item : *array) EmitEntry(nullptr, item, mutation, next, first, text);
    text += ']';
  } else {
    text = json::serialize(value);
  }
  out += index == mutation.target && mutation.edit == Edit::kReplace
             ? std::string(mutation.replacement)
             : text;
}

// Every variant of `answer` with one value deleted, replaced by a value of another type, or
// preceded or followed by a duplicate member (or item) holding such a value.
std::vector<std::string> StructuralMutations(std::string_view answer) {
  const std::string_view replacements[] = {"null",
                                           "true",
                                           "0",
                                           "-7",
                                           "1.5",
                                           "1e3",
                                           "9223372036854775807",
                                           "9223372036854775808",
                                           "18446744073709551615",
                                           "18446744073709551616",
                                           R"("")",
                                           R"("text")",
                                           R"("x\u00e9\n")",
                                           "[]",
                                           "[1]",
                                           "{}",
                                           R"({"type":"text","text":"inner"})",
                                           R"([{"type":"text","text":"item"}])",
                                           R"({"input_tokens":5})"};
  const json::value root = json::parse(answer);
  std::size_t count = 0;
  {
    std::string ignored;
    EmitValue(root, Mutation{static_cast<std::size_t>(-1), Edit::kReplace, ""}, count, ignored);
  }
  std::vector<std::string> variants;
  for (std::size_t target = 0; target < count; ++target) {
    for (const Edit edit :
         {Edit::kDelete, Edit::kReplace, Edit::kDuplicateBefore, Edit::kDuplicateAfter}) {
      if (target == 0 && edit != Edit::kReplace) continue;
      for (const std::string_view replacement : replacements) {
        std::size_t next = 0;
        std::string variant;
        EmitValue(root, Mutation{target, edit, replacement}, next, variant);
        variants.push_back(std::move(variant));
        if (edit == Edit::kDelete) break;
      }
    }
  }
  return variants;
}

struct Answer {
  std::string_view name;
  std::string_view body;
};

// Names the answer in test output, instead of printing it whole.
void PrintTo(const Answer& answer, std::ostream* out) { *out << answer.name; }

class MessageResponseMutationTest : public testing::TestWithParam<Answer> {};

TEST_P(MessageResponseMutationTest, TheAnswerItselfReadsAsExpected) {
  const auto completion = ParseMessageResponse(GetParam().body);
  ASSERT_TRUE(completion.has_value()) << completion.error().log_message;
  EXPECT_FALSE(completion->content.empty());
  EXPECT_FALSE(completion->model.empty());
  EXPECT_FALSE(completion->stop_reason.empty());
  EXPECT_GT(completion->usage.input_tokens, 0);
  EXPECT_TRUE(SameAsDom(GetParam().body));
}

TEST_P(MessageResponseMutationTest, EveryStructuralMutationReadsAsTheDomReadsIt) {
  const std::vector<std::string> variants = StructuralMutations(GetParam().body);
  ASSERT_GT(variants.size(), 1000u);
  std::size_t accepted = 0;
  for (const std::string& body : variants) {
    EXPECT_TRUE(SameAsDom(body));
    accepted += ParseMessageResponse(body).has_value() ? 1 : 0;
  }
  // Both outcomes are well represented: the mutations test the reading, not just refusals.
  EXPECT_GT(accepted, variants.size() / 4);
  EXPECT_LT(accepted, variants.size());
}

TEST_P(MessageResponseMutationTest, EveryTruncationReadsAsTheDomReadsIt) {
  const std::string_view answer = GetParam().body;
  for (std::size_t size = 0; size <= answer.size(); ++size) {
    ASSERT_TRUE(SameAsDom(answer.substr(0, size))) << "size " << size;
  }
}

TEST_P(MessageResponseMutationTest, EveryByteReplacementReadsAsTheDomReadsIt) {
  const std::string_view answer = GetParam().body;
  const char bytes[] = {'"', '\\', '{', '}',    '[',    ']',    ',',    ':', ' ',
                        '0', 'x',  'n', '\x01', '\x80', '\xC3', '\xFF', '\0'};
  for (std::size_t i = 0; i < answer.size(); ++i) {
    for (const char byte : bytes) {
      std::string body(answer);
      body[i] = byte;
      ASSERT_TRUE(SameAsDom(body)) << "byte " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Answers, MessageResponseMutationTest,
                         testing::Values(Answer{"Simulator", kSimulatorAnswer},
                                         Answer{"Rich", kRichAnswer}),
                         [](const testing::TestParamInfo<Answer>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace cms::upstream
