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

// Walks the crashing thread's stack with the x64 unwind tables and prints each frame as
// module+offset, so `addr2line -e <binary> <offset + image base>` finds the line (a test built
// with -g). Best effort: stops at the first frame without unwind data.
void print_stack(CONTEXT context) {
  for (int depth = 0; depth < 24 && context.Rip != 0; ++depth) {
    DWORD64 image_base = 0;
    RUNTIME_FUNCTION* entry = RtlLookupFunctionEntry(context.Rip, &image_base, nullptr);
    char module[MAX_PATH] = "?";
    HMODULE handle = nullptr;
    if (GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                               GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           reinterpret_cast<LPCSTR>(context.Rip), &handle)) {
      GetModuleFileNameA(handle, module, sizeof module);
    }
    std::fprintf(stderr, "  #%d %p %s+0x%llx\n", depth, reinterpret_cast<void*>(context.Rip),
                 module,
                 static_cast<unsigned long long>(context.Rip - reinterpret_cast<DWORD64>(handle)));
    if (entry == nullptr) break;
    void* handler_data = nullptr;
    DWORD64 frame = 0;
    RtlVirtualUnwind(UNW_FLAG_NHANDLER, image_base, context.Rip, entry, &context, &handler_data,
                     &frame, nullptr);
  }
}

LONG WINAPI terminate_on_crash(EXCEPTION_POINTERS* info) {
  const DWORD code = (info != nullptr && info->ExceptionRecord != nullptr)
                         ? info->ExceptionRecord->ExceptionCode
                         : 0;
  const void* where = (info != nullptr && info->ExceptionRecord != nullptr)
                          ? info->ExceptionRecord->ExceptionAddress
                          : nullptr;
  std::fprintf(stderr, "quay: unhandled exception 0x%08lx at %p; terminating with exit code %u\n",
               static_cast<unsigned long>(code), where, crash_exit_code);
  if (info != nullptr && info->ContextRecord != nullptr) print_stack(*info->ContextRecord);
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
