# cbq_embed_dir(OUT_VAR DIR SYMBOL) turns DIR/*.sql into a generated C file
# defining `const struct cbq_embedded SYMBOL[]` (name, text), sorted by name,
# ending with {NULL, NULL}. cbqd carries its migrations this way.
function(cbq_embed_dir out dir symbol)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT files)
  set(c ${CMAKE_BINARY_DIR}/gen/${symbol}.c)
  # a ';' in a COMMAND argument would split it: pass the list with '|'
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT ${c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${c} -DSYMBOL=${symbol} "-DFILES=${joined}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed-run.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/embed-run.cmake
    COMMENT "embedding ${dir}"
    VERBATIM)
  set(${out} ${c} PARENT_SCOPE)
endfunction()
