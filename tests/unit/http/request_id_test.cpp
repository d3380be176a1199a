#include "http/request_id.hpp"

#include <cstddef>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cms::http {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// 8-4-4-4-12 lowercase hex, version nibble 4, variant bits 10.
void ExpectUuidV4(const std::string& id) {
  ASSERT_EQ(id.size(), 36u) << id;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ASSERT_EQ(id[i], '-') << id;
    } else {
      ASSERT_TRUE(IsLowerHex(id[i])) << id;
    }
  }
  EXPECT_EQ(id[14], '4') << id;
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
  EXPECT_TRUE(IsValidRequestId(id)) << id;
}

TEST(NewRequestIdTest, IdsAcrossSeveralRefillsAreWellFormedAndDistinct) {
  // 64 ids per refill: this crosses five refill boundaries, wherever the thread's batch
  // stood when the test began.
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 64 * 5 + 7; ++i) {
    const std::string id = NewRequestId();
    ExpectUuidV4(id);
    EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
}

TEST(NewRequestIdTest, TwoThreadsNeverShareAnId) {
  constexpr int kPerThread = 50000;
  std::vector<std::string> a;
  std::vector<std::string> b;
  a.reserve(kPerThread);
  b.reserve(kPerThread);
  std::thread first([&] {
    for (int i = 0; i < kPerThread; ++i) a.push_back(NewRequestId());
  });
  std::thread second([&] {
    for (int i = 0; i < kPerThread; ++i) b.push_back(NewRequestId());
  });
  first.join();
  second.join();
  std::unordered_set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(2 * kPerThread));
  ExpectUuidV4(a.back());
  ExpectUuidV4(b.front());
}

TEST(NewRequestIdTest, AForkedChildDoesNotRepeatItsParentsNextId) {
  (void)NewRequestId();  // The thread's batch now holds unused bytes the child inherits.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = NewRequestId();
    _exit(write(pipe_fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string child_id(36, '\0');
  EXPECT_EQ(read(pipe_fds[0], child_id.data(), child_id.size()), 36);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ExpectUuidV4(child_id);
  EXPECT_NE(NewRequestId(), child_id);
}

struct ValidityCase {
  std::string candidate;
  bool valid;
};

class IsValidRequestIdTest : public testing::TestWithParam<ValidityCase> {};

TEST_P(IsValidRequestIdTest, AcceptsTheContractAlphabetUpTo128Characters) {
  EXPECT_EQ(IsValidRequestId(GetParam().candidate), GetParam().valid) << GetParam().candidate;
}

INSTANTIATE_TEST_SUITE_P(
    Table, IsValidRequestIdTest,
    testing::Values(ValidityCase{"abc-123", true}, ValidityCase{"A.b_c:d-9", true},
                    ValidityCase{std::string(128, 'x'), true},
                    ValidityCase{std::string(129, 'x'), false}, ValidityCase{"", false},
                    ValidityCase{"has space", false}, ValidityCase{"slash/", false},
                    ValidityCase{"caf\xC3\xA9", false}, ValidityCase{"new\nline", false}));

TEST(SettleRequestIdTest, KeepsAValidIdAndReplacesAnInvalidOne) {
  EXPECT_EQ(SettleRequestId("client-id-1"), "client-id-1");
  ExpectUuidV4(SettleRequestId(""));
  ExpectUuidV4(SettleRequestId("bad id"));
}

}  // namespace
}  // namespace cms::http
