/* cbq_awswire is filled in by its modules; this keeps the library non-empty. */
typedef int cbq_awswire_placeholder;
