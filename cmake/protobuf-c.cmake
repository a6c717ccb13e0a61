# cbq_protoc_c(OUT_VAR PROTO_ROOT file.proto...) generates .pb-c.c/.h under
# ${CMAKE_BINARY_DIR}/proto at build time; nothing generated is committed.
find_program(PROTOC_C protoc-c REQUIRED)
function(cbq_protoc_c out root)
  set(srcs)
  foreach(rel ${ARGN})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(c ${CMAKE_BINARY_DIR}/proto/${base}.pb-c.c)
    set(h ${CMAKE_BINARY_DIR}/proto/${base}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/proto
      COMMAND ${PROTOC_C} --proto_path=${root} --c_out=${CMAKE_BINARY_DIR}/proto ${root}/${rel}
      DEPENDS ${root}/${rel}
      COMMENT "protoc-c ${rel}")
    list(APPEND srcs ${c})
  endforeach()
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()
