// Backend-specific (Windows): how Winsock/Win32 errors are sorted into expected conditions
// and bugs.
#include <gtest/gtest.h>

#include <winsock2.h>

#include "quay/runtime/error.hpp"

using namespace quay;

TEST(map_os_error, sorts_expected_winsock_conditions_from_bugs) {
  EXPECT_EQ(map_os_error(WSAECONNRESET), make_error_code(errc::connection_reset));
  EXPECT_EQ(map_os_error(WSAECONNREFUSED), make_error_code(errc::connection_refused));
  EXPECT_EQ(map_os_error(WSAEWOULDBLOCK), make_error_code(errc::would_block));
  EXPECT_EQ(map_os_error(WSAEMFILE), make_error_code(errc::too_many_files));
  EXPECT_TRUE(is_expected(map_os_error(WSAECONNRESET)));
  const std::error_code bad = map_os_error(WSAENOTSOCK);
  EXPECT_EQ(bad.category(), std::system_category());
  EXPECT_FALSE(is_expected(bad));
  EXPECT_FALSE(map_os_error(0));
}
