// The main() of every test binary: GoogleTest plus the process-wide setup tests share.
#include <gtest/gtest.h>

#include "test_crash_handler.hpp"

int main(int argc, char** argv) {
  // First: a crash anywhere below must fail the test, also under Wine.
  quay::detail::install_test_crash_handler();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
