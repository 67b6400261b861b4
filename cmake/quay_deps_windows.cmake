# The quay::dep_* targets for the mingw-w64 cross build (cmake/toolchain-mingw-w64.cmake).
# Debian ships no mingw builds of spdlog, fmt, flatbuffers or GoogleTest, so:
#  - fmt is used header-only (FMT_HEADER_ONLY; Debian's spdlog forces external fmt) and spdlog
#    is compiled here once, from its own -inl.h files (runtime/src/backend/iocp/spdlog_compiled.cpp),
#  - concurrentqueue and the flatbuffers runtime are header-only anyway,
#  - GoogleTest is built from Debian's sources in /usr/src/googletest.
# Only each library's own header folder is exposed, through symlinks in the build tree: adding
# the host's /usr/include would let glibc's headers shadow the mingw CRT's.

find_package(Threads REQUIRED)

set(_quay_win_inc "${CMAKE_BINARY_DIR}/quay-win-deps/include")
file(MAKE_DIRECTORY "${_quay_win_inc}")
foreach(_dir spdlog fmt concurrentqueue flatbuffers)
  if(NOT IS_DIRECTORY "/usr/include/${_dir}")
    message(FATAL_ERROR "quay (Windows): /usr/include/${_dir} is missing; run scripts/setup.sh")
  endif()
  if(NOT EXISTS "${_quay_win_inc}/${_dir}")
    file(CREATE_LINK "/usr/include/${_dir}" "${_quay_win_inc}/${_dir}" SYMBOLIC)
  endif()
endforeach()

add_library(quay_dep_concurrentqueue INTERFACE)
target_include_directories(quay_dep_concurrentqueue SYSTEM INTERFACE "${_quay_win_inc}")
add_library(quay::dep_concurrentqueue ALIAS quay_dep_concurrentqueue)

# spdlog is compiled once into this library (SPDLOG_COMPILED_LIB): used header-only, every
# object that logs carried the whole of it, and linking each test program took 20 s or more.
add_library(quay_dep_spdlog STATIC
  "${CMAKE_CURRENT_LIST_DIR}/../runtime/src/backend/iocp/spdlog_compiled.cpp")
target_include_directories(quay_dep_spdlog SYSTEM PUBLIC "${_quay_win_inc}")
target_compile_definitions(quay_dep_spdlog PUBLIC SPDLOG_COMPILED_LIB FMT_HEADER_ONLY)
target_link_libraries(quay_dep_spdlog PUBLIC Threads::Threads)
add_library(quay::dep_spdlog ALIAS quay_dep_spdlog)

add_library(quay_dep_flatbuffers INTERFACE)
target_include_directories(quay_dep_flatbuffers SYSTEM INTERFACE "${_quay_win_inc}")
add_library(quay::dep_flatbuffers ALIAS quay_dep_flatbuffers)

if(QUAY_BUILD_TESTS AND NOT TARGET quay::test_main)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK ON CACHE BOOL "" FORCE)
  # SYSTEM: GoogleTest's headers must not trip our -Werror warnings.
  add_subdirectory(/usr/src/googletest "${CMAKE_BINARY_DIR}/googletest" EXCLUDE_FROM_ALL SYSTEM)

  set(_quay_root "${CMAKE_CURRENT_LIST_DIR}/..")
  add_library(quay_test_main STATIC
    ${_quay_root}/tests/support/test_main.cpp
    ${_quay_root}/runtime/src/backend/iocp/test_crash_handler.cpp)
  target_link_libraries(quay_test_main PUBLIC gtest gmock Threads::Threads)
  target_include_directories(quay_test_main PUBLIC ${_quay_root}/tests/support
                                            PRIVATE ${_quay_root}/runtime/src)
  quay_target_defaults(quay_test_main)
  add_library(quay::test_main ALIAS quay_test_main)
endif()
