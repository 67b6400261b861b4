# Cross-compiles Quay for 64-bit Windows with Debian's mingw-w64 (posix thread model, so
# std::thread and std::mutex work), and runs the resulting test binaries under Wine.
# Used by scripts/windows-test.sh; see docs/architecture.md ("Windows backend").

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_quay_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_quay_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_quay_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_quay_mingw}-windres)

# Libraries and headers come only from the mingw sysroot; programs (flatc) from the host.
# The host's /usr/include must never reach the compiler: glibc's headers would shadow the
# mingw CRT's (cmake/quay_deps.cmake exposes only the header-only libraries' own folders).
set(CMAKE_FIND_ROOT_PATH /usr/${_quay_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static linking: Wine has no libstdc++/libgcc/winpthread DLLs, and a missing DLL makes a
# program exit 53 without a word.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest (and add_test with a target as COMMAND) runs every Windows binary through Wine.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/wine)
