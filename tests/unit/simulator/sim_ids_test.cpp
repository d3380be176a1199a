#include "simulator/sim_ids.hpp"

#include <set>

#include <gtest/gtest.h>

namespace cms::simulator {
namespace {

bool IsLowerHex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(IdSourceTest, IdsHaveTheirPrefixAndTwentyFourHexDigits) {
  IdSource ids;
  const std::string message_id = ids.NextMessageId();
  const std::string request_id = ids.NextRequestId();
  ASSERT_EQ(message_id.size(), 8u + 24u);
  ASSERT_EQ(request_id.size(), 8u + 24u);
  EXPECT_EQ(message_id.substr(0, 8), "msg_sim_");
  EXPECT_EQ(request_id.substr(0, 8), "req_sim_");
  EXPECT_TRUE(IsLowerHex(message_id.substr(8)));
  EXPECT_TRUE(IsLowerHex(request_id.substr(8)));
}

TEST(IdSourceTest, IdsAreUniqueAndSeedDecidesThem) {
  IdSource ids{7};
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(seen.insert(ids.NextRequestId()).second);
  IdSource same_seed_a{99};
  IdSource same_seed_b{99};
  IdSource other_seed{100};
  const std::string a = same_seed_a.NextMessageId();
  EXPECT_EQ(a, same_seed_b.NextMessageId());
  EXPECT_NE(a, other_seed.NextMessageId());
}

}  // namespace
}  // namespace cms::simulator
