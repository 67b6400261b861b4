// Windows (and Wine): turn any unhandled SEH exception of a test binary into a non-zero exit.
//
// mingw GCC has no SEH support, so GoogleTest cannot catch an access violation, and Wine's
// default crash handling was measured to exit 0 in 15-30% of crashes when stdout is not a
// terminal. The filter below runs on the crashing thread and ends the whole process at once
// with a fixed non-zero code, before any other handler (or winedbg) gets a say.
#include <windows.h>

#include <cstdio>

#include "test_crash_handler.hpp"

namespace quay::detail {
namespace {

// Distinct from gtest's 1 (a failed assertion) and abort()'s 3, so the log tells them apart.
constexpr UINT crash_exit_code = 70;

LONG WINAPI terminate_on_crash(EXCEPTION_POINTERS* info) {
  const DWORD code = (info != nullptr && info->ExceptionRecord != nullptr)
                         ? info->ExceptionRecord->ExceptionCode
                         : 0;
  const void* where = (info != nullptr && info->ExceptionRecord != nullptr)
                          ? info->ExceptionRecord->ExceptionAddress
                          : nullptr;
  std::fprintf(stderr, "quay: unhandled exception 0x%08lx at %p; terminating with exit code %u\n",
               static_cast<unsigned long>(code), where, crash_exit_code);
  std::fflush(stderr);
  TerminateProcess(GetCurrentProcess(), crash_exit_code);
  return EXCEPTION_EXECUTE_HANDLER;  // not reached
}

}  // namespace

void install_test_crash_handler() noexcept {
  // No "program has stopped working" box and no debugger launch: a test must just fail.
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(&terminate_on_crash);
}

}  // namespace quay::detail
