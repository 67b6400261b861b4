# Build conventions shared by every target: warnings per target, sanitizers, one ctest per
# test file. No global compile flags.

if(QUAY_SANITIZE)
  set(_quay_san_flags -fsanitize=${QUAY_SANITIZE} -fno-omit-frame-pointer)
  if(QUAY_SANITIZE MATCHES "undefined")
    list(APPEND _quay_san_flags -fno-sanitize-recover=undefined)
  endif()
endif()

# quay_target_defaults(<target>): C++20, warnings (as errors with QUAY_WERROR), sanitizers.
function(quay_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wnon-virtual-dtor -Wno-missing-field-initializers)
    if(QUAY_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(_quay_san_flags)
    target_compile_options(${target} PRIVATE ${_quay_san_flags})
    target_link_options(${target} PRIVATE ${_quay_san_flags})
  endif()
endfunction()

# quay_add_test(<name> SOURCES <files...> LIBS <targets...> [TIMEOUT <s>] [LABELS <l...>])
# One executable and one ctest entry per test file.
function(quay_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  quay_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} quay::test_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
