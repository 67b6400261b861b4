# Every third-party dependency, found on the system (Debian packages installed by
# scripts/setup.sh) and exposed as a quay::dep_* interface target, so module CMakeLists never
# care how a dependency was found (the Windows cross build provides header-only variants).

find_package(Threads REQUIRED)

if(CMAKE_CROSSCOMPILING AND WIN32)
  include(quay_deps_windows)   # header-only variants and GoogleTest from source (mingw-w64)
endif()

if(NOT TARGET quay::dep_concurrentqueue)
  find_package(concurrentqueue REQUIRED)          # cmake/Findconcurrentqueue.cmake
  find_package(fmt REQUIRED)
  find_package(spdlog REQUIRED)
  find_package(FlatBuffers REQUIRED)

  add_library(quay_dep_concurrentqueue INTERFACE)
  target_link_libraries(quay_dep_concurrentqueue INTERFACE concurrentqueue::concurrentqueue)
  add_library(quay::dep_concurrentqueue ALIAS quay_dep_concurrentqueue)

  add_library(quay_dep_spdlog INTERFACE)
  target_link_libraries(quay_dep_spdlog INTERFACE spdlog::spdlog fmt::fmt)
  add_library(quay::dep_spdlog ALIAS quay_dep_spdlog)

  add_library(quay_dep_flatbuffers INTERFACE)
  target_link_libraries(quay_dep_flatbuffers INTERFACE flatbuffers::flatbuffers)
  add_library(quay::dep_flatbuffers ALIAS quay_dep_flatbuffers)
endif()

if(NOT FLATC_EXECUTABLE)
  find_program(FLATC_EXECUTABLE flatc REQUIRED)
endif()

if(QUAY_BUILD_TESTS AND NOT TARGET quay::test_main)
  find_package(GTest REQUIRED)
  add_library(quay_test_main STATIC ${CMAKE_CURRENT_LIST_DIR}/../tests/support/test_main.cpp
              ${CMAKE_CURRENT_LIST_DIR}/../runtime/src/backend/epoll/test_crash_handler.cpp)
  target_link_libraries(quay_test_main PUBLIC GTest::gtest GTest::gmock Threads::Threads)
  target_include_directories(quay_test_main PUBLIC ${CMAKE_CURRENT_LIST_DIR}/../tests/support
                                            PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../runtime/src)
  quay_target_defaults(quay_test_main)
  add_library(quay::test_main ALIAS quay_test_main)
endif()

if(QUAY_BUILD_GAME AND NOT CMAKE_CROSSCOMPILING)
  find_package(CLI11 REQUIRED)
  find_package(tomlplusplus REQUIRED)
  find_package(SQLite3 REQUIRED)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LUA REQUIRED IMPORTED_TARGET lua5.4)
endif()

if(QUAY_BUILD_BENCH AND NOT CMAKE_CROSSCOMPILING)
  find_package(benchmark REQUIRED)
  find_package(asio REQUIRED)   # cmake/Findasio.cmake (standalone, header-only)
  find_package(CAF)             # cmake/FindCAF.cmake (libcaf-dev 0.17); anchor for actor benches
endif()
