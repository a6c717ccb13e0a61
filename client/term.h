/*
 * The terminal for cbq's live views (top, wait, submit --wait): whether a
 * stream is a terminal and how big, raw keys and the alternate screen with
 * the terminal restored on every way out, the signals that end or resize a
 * view, and in-place redraw of one line or a whole screen. It knows nothing
 * of jobs or the server; cmd_top.c and cmd_watch.c decide what to draw.
 */
#ifndef CBQ_CLIENT_TERM_H
#define CBQ_CLIENT_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Columns and rows of the terminal on fd; false (and nothing set) when fd
 * is not a terminal. A terminal that does not say gets 80 x 24. */
bool term_size(int fd, int *cols, int *rows);

enum term_mode {
	TERM_SIGNALS = 0,     /* only catch SIGINT/SIGTERM/SIGHUP/SIGWINCH */
	TERM_SCREEN = 1 << 0, /* and: alternate screen, cursor hidden (on stdout) */
	TERM_KEYS = 1 << 1,   /* and: stdin unbuffered and not echoed (raw keys) */
};

/*
 * Enters mode (TERM_SCREEN and TERM_KEYS only where stdout / stdin are
 * terminals) and installs handlers so that SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT are recorded (see term_signal) instead of killing cbq, SIGWINCH
 * is recorded (term_resized), and Ctrl-Z leaves the screen before stopping
 * and enters it again on SIGCONT. term_leave is registered with atexit, and
 * a crash signal (SIGSEGV, SIGABRT, ...) restores the terminal before cbq
 * dies of it. The state lives in file-scope variables because signal
 * handlers can reach nothing else; there is one terminal per process.
 * Calling it twice without term_leave is a no-op.
 */
void term_enter(unsigned mode);

/* Restores what term_enter changed (termios, main screen, cursor) and the
 * signal dispositions. Idempotent; safe after a partial term_enter. */
void term_leave(void);

/* The first ending signal caught since term_enter (SIGINT, ...), or 0. */
int term_signal(void);

/* Whether the window changed size (or the screen came back after Ctrl-Z)
 * since the last call; clears the flag. */
bool term_resized(void);

/*
 * Waits up to timeout_ms for a key on stdin (only with TERM_KEYS on a
 * terminal; otherwise just sleeps). Returns the byte read, 0 when the time
 * passed, or -1 when a signal was caught (term_signal, term_resized) or
 * stdin ended.
 */
int term_wait_key(int timeout_ms);

/* Bytes of s that fit in cols terminal columns (UTF-8 code points count
 * one column each, as cli_text_width counts them). */
size_t term_fit(const char *s, size_t cols);

/*
 * One status line drawn in place on f: "\r", text cut to cols - 1 columns,
 * clear to the end of the line; flushed. text must already be clean (see
 * cli_clean). The caller prints "\n" when it is done with the line.
 */
void term_status(FILE *f, const char *text, int cols);

/*
 * A whole screen drawn over the last one on stdout: text ('\n'-separated
 * lines, already clean) from the top-left corner, each line cut to cols and
 * cleared to its end, at most rows lines, the rest of the screen cleared.
 * Flushed.
 */
void term_frame(const char *text, int cols, int rows);

#endif
