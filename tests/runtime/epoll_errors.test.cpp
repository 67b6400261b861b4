// Backend-specific (Linux): how errno values are sorted into expected conditions and bugs.
#include <gtest/gtest.h>

#include <cerrno>

#include "quay/runtime/error.hpp"

using namespace quay;

TEST(map_os_error, sorts_expected_errno_conditions_from_bugs) {
  EXPECT_EQ(map_os_error(ECONNRESET), make_error_code(errc::connection_reset));
  EXPECT_EQ(map_os_error(EPIPE), make_error_code(errc::connection_reset));
  EXPECT_EQ(map_os_error(ECONNREFUSED), make_error_code(errc::connection_refused));
  EXPECT_EQ(map_os_error(EAGAIN), make_error_code(errc::would_block));
  EXPECT_EQ(map_os_error(EMFILE), make_error_code(errc::too_many_files));
  EXPECT_TRUE(is_expected(map_os_error(ECONNRESET)));
  const std::error_code bad = map_os_error(EBADF);
  EXPECT_EQ(bad.category(), std::system_category());
  EXPECT_FALSE(is_expected(bad));
  EXPECT_FALSE(map_os_error(0));
}
