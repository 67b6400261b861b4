#include "quay/bots/script.hpp"

#include <gtest/gtest.h>

namespace quay::bots {
namespace {

TEST(Script, DirectivesInTheLeadingCommentsAreRead) {
  script s("a.lua", "-- a title\n--! bots=3 timeout=20\n--! zone=meadow\n\nlogin()\n");
  EXPECT_EQ(s.directive("bots"), "3");
  EXPECT_EQ(s.directive_int("timeout", 5), 20);
  EXPECT_EQ(s.directive("zone"), "meadow");
  EXPECT_EQ(s.directives().size(), 3u);
}

TEST(Script, ADirectiveAfterTheFirstLineOfCodeIsAnOrdinaryComment) {
  script s("a.lua", "--! bots=2\nlocal x = 1\n--! bots=9\n");
  EXPECT_EQ(s.directive_int("bots", 1), 2);
}

TEST(Script, MissingOrInvalidDirectivesFallBack) {
  script s("a.lua", "--! bots=many timeout=-3 empty=\n");
  EXPECT_EQ(s.directive_int("bots", 1), 1);
  EXPECT_EQ(s.directive_int("timeout", 7), 7);
  EXPECT_EQ(s.directive("absent", "x"), "x");
  EXPECT_EQ(s.directive("empty", "x"), "");
}

TEST(Script, LoadingAFileNamesTheChunkAfterTheFileAlone) {
  std::error_code ec;
  auto missing = script::load_file("/nonexistent/dir/x.lua", ec);
  EXPECT_FALSE(missing.has_value());
  EXPECT_TRUE(ec);

  const std::string path = ::testing::TempDir() + "bots_script_test.lua";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("--! bots=2\nsleep(1)\n", f);
    std::fclose(f);
  }
  auto loaded = script::load_file(path, ec);
  ASSERT_TRUE(loaded.has_value()) << ec.message();
  EXPECT_EQ(loaded->chunk_name(), "bots_script_test.lua");
  EXPECT_EQ(loaded->directive_int("bots", 1), 2);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace quay::bots
