#include "http/random_batch.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cms::http {
namespace {

// A deterministic source: refill number n (from 1) fills every byte with n, and the count
// of refills is shared with the test.
RandomBatch::Fill CountingFill(const std::shared_ptr<int>& refills) {
  return [refills](std::span<unsigned char> out) {
    ++*refills;
    for (auto& byte : out) byte = static_cast<unsigned char>(*refills);
  };
}

TEST(RandomBatchTest, RefillsOncePerKibibyteOfSixteenByteTakes) {
  auto refills = std::make_shared<int>(0);
  RandomBatch batch(CountingFill(refills));
  std::array<unsigned char, 16> id{};
  for (int i = 0; i < 64; ++i) {
    batch.Take(id);
    EXPECT_EQ(id.front(), 1) << i;
  }
  EXPECT_EQ(*refills, 1);
  batch.Take(id);  // The 65th id starts the second batch.
  EXPECT_EQ(*refills, 2);
  EXPECT_EQ(id.front(), 2);
  for (int i = 0; i < 63 + 64 * 10; ++i) batch.Take(id);
  EXPECT_EQ(*refills, 12);
}

TEST(RandomBatchTest, NeverSplitsATakeAcrossTwoBatches) {
  auto refills = std::make_shared<int>(0);
  RandomBatch batch(CountingFill(refills));
  std::array<unsigned char, 1000> big{};
  batch.Take(big);  // 24 bytes are left: too few for the next 100.
  std::array<unsigned char, 100> next{};
  batch.Take(next);
  EXPECT_EQ(*refills, 2);
  for (const unsigned char byte : next) ASSERT_EQ(byte, 2);
}

TEST(RandomBatchTest, UsesEveryByteOfABatchExactlyOnce) {
  RandomBatch batch([](std::span<unsigned char> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<unsigned char>(i % 251);
  });
  std::array<unsigned char, 16> id{};
  for (std::size_t take = 0; take < RandomBatch::kCapacity / 16; ++take) {
    batch.Take(id);
    for (std::size_t j = 0; j < id.size(); ++j) {
      ASSERT_EQ(id[j], static_cast<unsigned char>((take * 16 + j) % 251)) << take << " " << j;
    }
  }
}

TEST(RandomBatchTest, AFailedRefillPropagatesAndIsRetriedByTheNextTake) {
  int calls = 0;
  RandomBatch batch([&calls](std::span<unsigned char> out) {
    if (++calls == 1) throw std::runtime_error("no entropy");
    for (auto& byte : out) byte = 7;
  });
  std::array<unsigned char, 16> id{};
  EXPECT_THROW(batch.Take(id), std::runtime_error);
  batch.Take(id);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(id.back(), 7);
}

TEST(RandomBatchTest, AForkedChildRefillsInsteadOfReusingItsParentsBytes) {
  auto refills = std::make_shared<int>(0);
  RandomBatch batch(CountingFill(refills));
  std::array<unsigned char, 16> id{};
  batch.Take(id);  // The parent has 63 ids' worth of bytes left.
  ASSERT_EQ(*refills, 1);

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    batch.Take(id);
    const unsigned char seen = id.front();  // 2 after a refill, 1 if the parent's bytes leaked.
    _exit(write(pipe_fds[1], &seen, 1) == 1 ? 0 : 1);
  }
  close(pipe_fds[1]);
  unsigned char child_saw = 0;
  EXPECT_EQ(read(pipe_fds[0], &child_saw, 1), 1);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(child_saw, 2);

  batch.Take(id);  // The parent itself did not fork: it keeps its batch.
  EXPECT_EQ(*refills, 1);
  EXPECT_EQ(id.front(), 1);
}

TEST(RandomBatchTest, OpenSslFillWritesEveryByte) {
  // 1 KiB of zeros surviving a fill by chance has probability 2^-8192.
  std::array<unsigned char, RandomBatch::kCapacity> bytes{};
  RandomBatch::FillFromOpenSsl(bytes);
  std::size_t zeros = 0;
  for (const unsigned char byte : bytes) zeros += byte == 0 ? 1 : 0;
  EXPECT_LT(zeros, 32u);  // About 4 expected.
}

}  // namespace
}  // namespace cms::http
