#pragma once

namespace quay::detail {

/// Makes a crash of a test binary fail it visibly: on Windows it installs an unhandled-exception
/// filter that terminates the process with a non-zero exit code (under Wine's default handling an
/// access violation can exit 0, so a crashed test would pass). On Linux a crash already ends in
/// a signal that ctest reports, so it does nothing. Call once, first thing in main().
/// Thread contract: main thread, before any other thread starts.
void install_test_crash_handler() noexcept;

}  // namespace quay::detail
